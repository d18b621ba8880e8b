"""The scalar types of the facts format: dates, durations, local ids, confidences and texts.

Each is an annotated ``str`` (or ``float``) whose constraints pydantic checks and the JSON Schema
publishes. :func:`certainly_before` compares two :data:`When` values of any precisions.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, Field

__all__ = [
    "Confidence",
    "Duration",
    "LocalId",
    "Name",
    "ShortText",
    "TimeText",
    "When",
    "certainly_before",
]

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_LOCAL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def _check_when(value: str) -> str:
    """A year, year-month, date, or date-time with a time zone; it must exist in the calendar."""
    if _DATETIME.match(value):
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a real date-time") from None
        return value
    match = _PARTIAL_DATE.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or "
            "YYYY-MM-DDThh:mm:ss with a time zone (Z or ±hh:mm)"
        )
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueError(f"{value!r} is not a real calendar date") from None
    return value


def _check_duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not an ISO 8601 duration such as PT1H or P3D")
    return value


When = Annotated[
    str,
    AfterValidator(_check_when),
    Field(
        description="A year (2023), year-month (2023-06), date (2023-10-14) or date-time with "
        "a time zone (2023-10-14T09:30:00Z).",
        examples=["2023-10-14", "2023-06", "2023-10-14T09:30:00Z"],
    ),
]
Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    Field(description="An ISO 8601 duration, e.g. PT1H.", examples=["PT1H"]),
]
LocalId = Annotated[
    str,
    Field(
        pattern=_LOCAL_ID,
        description="An id, unique within this document, that other records use to refer to "
        "this one (letters, digits, '.', '_', ':' and '-').",
    ),
]
Confidence = Annotated[
    float, Field(ge=0.0, le=1.0, description="The extractor's confidence, from 0 to 1.")
]
ShortText = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=500)]

#: A :data:`When` without a description of its own (the field gives one).
TimeText = Annotated[str, AfterValidator(_check_when)]


def certainly_before(a: str, b: str) -> bool:
    """Whether ``a`` is certainly before ``b``: two date-times as instants, anything else by
    days at their common precision.

    ISO strings of one precision compare lexically; comparing on the shorter common prefix
    keeps "2023-06" and "2023-06-14" (or "2023" and "2023-10-14") from conflicting.
    """
    if _DATETIME.match(a) and _DATETIME.match(b):
        # two instants: compare them in time, not as text (01:00+05:00 is before 22:00Z)
        return _instant(a) < _instant(b)
    n = min(len(a[:10]), len(b[:10]))
    return a[:n] < b[:n]


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
