"""The numbers of a dataset row, checked: measures in their codebook's range, counts, and
coordinates. Each rule broken is a :class:`~diplograph.loader.importers.rows.RowError` naming
the column and the rule, so the row is rejected alone (docs/importers.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from diplograph.loader.facts.measures import LATITUDE, LONGITUDE
from diplograph.loader.importers.rows import Row

__all__ = ["coordinates", "count", "scale"]

Get = Callable[[Row, str], str]


def _plain(row: Row, column: str) -> str:
    return row.get(column)


def scale(
    row: Row, column: str, low: float, high: float, record: str, *, get: Get = _plain
) -> float | None:
    """The decimal in ``column``, between ``low`` and ``high``; None when the column is empty."""
    text = get(row, column)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise row.error(column, f"{text!r} is not a number", record) from None
    if not math.isfinite(value):
        raise row.error(column, f"{text!r} is not a finite number", record)
    if not low <= value <= high:
        raise row.error(column, f"{text} is outside {low:g} to {high:g}", record)
    return value


def count(row: Row, column: str, record: str, *, what: str = "a count") -> int | None:
    """The whole number of 0 or more in ``column``; None when the column is empty."""
    text = row.get(column)
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise row.error(column, f"{text!r} is not {what} (a whole number, 0 or more)", record)
    return int(text)


def coordinates(
    row: Row, latitude: str, longitude: str, record: str, *, get: Get = _plain
) -> tuple[float, float] | None:
    """The point in two columns (WGS 84 degrees), or None when both are empty; one without
    the other is an error naming the empty one."""
    lat = scale(row, latitude, *LATITUDE, record, get=get)
    lon = scale(row, longitude, *LONGITUDE, record, get=get)
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        missing, given = (latitude, longitude) if lat is None else (longitude, latitude)
        raise row.error(missing, f"a point needs {missing} with {given}", record)
    return lat, lon
