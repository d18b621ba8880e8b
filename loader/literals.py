"""Typed literals in the canonical form of XSD 1.1: times by their precision, decimals, durations.

A store that keeps values (Oxigraph, Virtuoso) gives literals back in canonical form; writing
them so means a document read back from the store equals the mapping's output, and reloading an
unchanged document is recognized as unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from pyoxigraph import Literal, NamedNode

from diplograph.loader.namespaces import XSD

__all__ = ["decimal_literal", "duration_literal", "time_span", "when_literal"]


def when_literal(value: str) -> Literal:
    """The typed literal for a :data:`diplograph.loader.facts.When` value, by its precision.

    Date-times are normalized to UTC so that every time in the store compares correctly;
    fractional seconds are kept.
    """
    if "T" in value:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
        fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
        text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
        return Literal(text, datatype=NamedNode(XSD + "dateTime"))
    datatype = {4: "gYear", 7: "gYearMonth", 10: "date"}[len(value)]
    return Literal(value, datatype=NamedNode(XSD + datatype))


def decimal_literal(value: float) -> Literal:
    """An ``xsd:decimal`` literal in canonical form: no exponent, no trailing zeros, and no
    decimal point for a whole number (``1``, ``0.95``)."""
    return Literal(_decimal_text(Decimal(str(value))), datatype=NamedNode(XSD + "decimal"))


def _decimal_text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_DURATION_PARTS = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def duration_literal(value: str) -> Literal:
    """The typed literal of an ISO 8601 duration (:data:`diplograph.loader.facts.Duration`),
    canonical.

    Without years and months (the length of a call) it is an ``xsd:dayTimeDuration``; with
    only years and months an ``xsd:yearMonthDuration``; with both an ``xsd:duration``. Weeks
    count as seven days. ``PT90M`` becomes ``"PT1H30M"^^xsd:dayTimeDuration``.
    """
    match = _DURATION_PARTS.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an ISO 8601 duration")
    years, months, weeks, days, hours, minutes, seconds = match.groups()
    total_months = int(years or 0) * 12 + int(months or 0)
    total_seconds = (
        (int(weeks or 0) * 7 + int(days or 0)) * 86400
        + int(hours or 0) * 3600
        + int(minutes or 0) * 60
        + Decimal(seconds or 0)
    )
    year_month = ""
    if total_months:
        y, m = divmod(total_months, 12)
        year_month = (f"{y}Y" if y else "") + (f"{m}M" if m else "")
    day_time = ""
    if total_seconds:
        d, rest = divmod(total_seconds, 86400)
        h, rest = divmod(rest, 3600)
        mi, sec = divmod(rest, 60)
        clock = (f"{h}H" if h else "") + (f"{mi}M" if mi else "")
        clock += f"{_decimal_text(Decimal(sec))}S" if sec else ""
        day_time = (f"{d}D" if d else "") + (f"T{clock}" if clock else "")
    if year_month and day_time:
        text, datatype = f"P{year_month}{day_time}", "duration"
    elif year_month:
        text, datatype = f"P{year_month}", "yearMonthDuration"
    else:
        text, datatype = f"P{day_time}" if day_time else "PT0S", "dayTimeDuration"
    return Literal(text, datatype=NamedNode(XSD + datatype))


def time_span(text: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants a time value can denote, [first, last): a year, a month, a day, or one
    instant (a date-time, in UTC) for which both ends are that instant."""
    if "T" in text:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment, moment
    parts = [int(p) for p in text[:10].split("-")]
    if len(parts) == 1:
        return dt.datetime(parts[0], 1, 1), dt.datetime(parts[0] + 1, 1, 1)
    if len(parts) == 2:
        year, month = parts
        after = dt.datetime(year + month // 12, month % 12 + 1, 1)
        return dt.datetime(year, month, 1), after
    day = dt.datetime(parts[0], parts[1], parts[2])
    return day, day + dt.timedelta(days=1)
