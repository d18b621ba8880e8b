"""Time windows: reading only the events whose time can overlap some spans.

The same-event check of a load's nodes (:mod:`.events`) needs the events of the same
participants as the load's events whose times can overlap theirs. A state takes part in
thousands of events over the years of a store, and Oxigraph spends its time turning rows into
Python values, not in matching them: at 100k documents, counting the 286,000 (participant,
event) pairs of a check took 0.06 s, reading them 1.48 s. So the windows go into the query and
the store drops the events outside them before any row is made.

The test in the query compares the times' lexical forms, the first ten characters of each
(``2023``, ``2023-11``, ``2023-11-15``; a date-time's date), with a window's first and last day.
It is conservative: the windows are widened by :data:`MARGIN` on each side, for a date-time
whose offset moves it to another day in UTC; an event it keeps may not overlap (the caller
compares the exact spans), and it never drops one that does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from diplograph.loader.literals import time_span

__all__ = [
    "BOUNDS",
    "MARGIN",
    "OVERLAPS",
    "OVERLAPS_BY_SCAN",
    "Span",
    "Time",
    "covered",
    "kept_bound",
    "merged",
    "reaching",
    "span_of",
    "times_joined",
    "values_rows",
    "widened",
]

Span = tuple[dt.datetime, dt.datetime]
#: An event's start, earliest start and latest start (None where it has none).
Time = tuple[str | None, str | None, str | None]

#: How much wider than the spans asked for a window is, each side: more than any UTC offset.
MARGIN = dt.timedelta(days=2)

# An event's time as :func:`~loader.conflicts.events._span` reads it (its start when it has
# one, else from its earliest to its latest start, either open) against the window
# [?lo, ?hi], days as text. A time's key is its first ten characters. A key can begin on or
# before ?hi when ``key <= ?hi`` (a shorter key is its first day: "2023-11" <= "2023-11-05"),
# and end on or after ?lo when ``key >= ?lo`` or ?lo is a day under it ("2023-11" and
# "2023-11-05"). Virtuoso 7.2 fails a query whose SUBSTR length is unbound (an optional
# time), hence STRSTARTS rather than a prefix of ?lo as long as the key.
_KEY = "SUBSTR(STR(?{v}), 1, 10)"
_FROM = f"({_KEY} <= ?hi)"
_UNTIL = f"({_KEY} >= ?lo || STRSTARTS(?lo, {_KEY}))"

_FILTER = (
    "FILTER(IF(BOUND(?start), "
    f"{_FROM.format(v='start')} && {_UNTIL.format(v='start')}, "
    "(BOUND(?earliest) || BOUND(?latest)) "
    f"&& (!BOUND(?earliest) || {_FROM.format(v='earliest')}) "
    f"&& (!BOUND(?latest) || {_UNTIL.format(v='latest')})))"
)
#: An event's time properties, each with the variable that binds it, in the order of its
#: start, earliest start and latest start.
BOUNDS = (
    ("start", "dip:startDate"),
    ("earliest", "dip:earliestStart"),
    ("latest", "dip:latestStart"),
)


def reaching(variable: str) -> str:
    """Whether the time ``?variable`` can end on or after the day ``?lo``, the test of a
    window's first day in :data:`OVERLAPS` (its key at or after ``?lo``, or ``?lo`` a day
    under it), as a SPARQL expression."""
    return _UNTIL.format(v=variable)


def times_joined(*, scan: bool, prefix: str = "") -> str:
    """Optional patterns that bind the time properties of ``?e`` (each to ``?{prefix}{bound}``
    of :data:`BOUNDS`): looked up one event at a time, or with ``scan`` each property read once
    whole, in a subquery, and joined by hash (see the two forms below)."""
    if scan:
        parts = (
            f"OPTIONAL {{ SELECT ?e ?{prefix}{bound} WHERE {{ ?e {term} ?{prefix}{bound} }} }}"
            for bound, term in BOUNDS
        )
    else:
        parts = (f"OPTIONAL {{ ?e {term} ?{prefix}{bound} }}" for bound, term in BOUNDS)
    return " ".join(parts)


#: Optional patterns and a FILTER that keep the events (``?e``) whose time can overlap the
#: window ``?lo`` to ``?hi`` (:func:`values_rows`); events without a time are dropped, as the
#: check compares none. Each event's times are looked up one event at a time: Oxigraph opens
#: an index scan for each, about 23 µs (241,451 events of the participants of a 100-document
#: load at 100k: 5.6 s).
OVERLAPS = times_joined(scan=False) + f" {_FILTER}"
#: The same, each time property read once whole and joined by hash: a subquery is evaluated on
#: its own. For the 241,451 events above 0.8 s, where one scan of the store's 306,000 times
#: costs about 0.3 s whatever the events: the form for many events.
OVERLAPS_BY_SCAN = times_joined(scan=True) + f" {_FILTER}"

# The bounds of an open window: "" precedes every key, "~" follows every digit.
_OPEN_LOW, _OPEN_HIGH = "", "~"


def merged(spans: Iterable[Span], limit: int | None = None) -> list[Span]:
    """``spans`` as windows that cover them, in order: overlapping spans joined, then, with a
    ``limit``, the two closest windows joined until ``limit`` remain (each query joins every
    window with the events of its participant, so their number is bounded)."""
    windows: list[list[dt.datetime]] = []
    for first, last in sorted(spans):
        if windows and first <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], last)
        else:
            windows.append([first, last])
    while limit is not None and len(windows) > max(limit, 1):
        closest = min(range(len(windows) - 1), key=lambda i: windows[i + 1][0] - windows[i][1])
        windows[closest][1] = max(windows[closest][1], windows[closest + 1][1])
        del windows[closest + 1]
    return [(first, last) for first, last in windows]


def widened(span: Span, by: dt.timedelta) -> Span:
    """``span`` with ``by`` more on each side (an open end stays open)."""
    first, last = span
    try:
        first = first - by
    except OverflowError:
        first = dt.datetime.min
    try:
        last = last + by
    except OverflowError:
        last = dt.datetime.max
    return first, last


def covered(span: Span, windows: Iterable[Span]) -> bool:
    """Whether one of ``windows`` holds all of ``span``: every event that overlaps ``span``
    then overlaps that window, and was read with it."""
    return any(first <= span[0] and span[1] <= last for first, last in windows)


def values_rows(participant: str, windows: Iterable[Span]) -> Iterator[str]:
    """Rows of ``VALUES (?p ?lo ?hi)``: the participant's IRI with each window's first and last
    day, widened by :data:`MARGIN` (``""`` and ``"~"`` where the window is open)."""
    for window in windows:
        first, last = widened(window, MARGIN)
        low = _OPEN_LOW if first == dt.datetime.min else first.date().isoformat()
        high = _OPEN_HIGH if last == dt.datetime.max else last.date().isoformat()
        yield f'(<{participant}> "{low}" "{high}")'


def span_of(time: Time) -> Span:
    """The instants an event's time can denote, [first, last): its start's span, or from the
    first instant of its earliest start to the last of its latest (open where it has none)."""
    start, earliest, latest = time
    if start is not None:
        return _half_open(time_span(start))
    first = time_span(earliest)[0] if earliest is not None else dt.datetime.min
    last = _half_open(time_span(latest))[1] if latest is not None else dt.datetime.max
    return first, last


def _half_open(span: Span) -> Span:
    # time_span gives an instant as [t, t]; as [t, t + 1 µs) it overlaps what contains it.
    first, last = span
    return (first, last + dt.timedelta(microseconds=1)) if first == last else span


def kept_bound(index: int, held: str | None, value: str) -> str:
    """Of two values of the bound ``index`` of :data:`BOUNDS` of an event's time, the one the
    check compares: the bounds every document gives hold together. A start: the more precise
    (a vague report joined a precise one: "2023" and "2023-05-10" are the node's
    "2023-05-10"), then the least; an earliest start: the later; a latest start: the earlier.
    The choice does not depend on the order the store gives its rows in, where the last row's
    value was kept before. Values a document disagrees on are the values check's to report."""
    if held is None:
        return value
    if index == 0:
        return value if (-len(value), value) < (-len(held), held) else held
    if index == 1:
        return value if (time_span(value)[0], value) > (time_span(held)[0], held) else held
    ends = [_half_open(time_span(v))[1] for v in (value, held)]
    return value if (ends[0], value) < (ends[1], held) else held
