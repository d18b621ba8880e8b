"""The time windows of the same-event check (loader/conflicts/windows.py): the store drops the
events outside a window before any row is read, and must never drop one whose time overlaps.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, Store

from diplograph.loader.conflicts.events import _overlap
from diplograph.loader.conflicts.windows import (
    OVERLAPS,
    OVERLAPS_BY_SCAN,
    covered,
    merged,
    span_of,
    values_rows,
    widened,
)
from diplograph.loader.namespaces import DIP, sparql_prologue

EVENT = "https://example.org/event/"
STATE = "https://example.org/state"


def day(n: int) -> dt.datetime:
    return dt.datetime(2023, 1, 1) + dt.timedelta(days=n)


def test_overlapping_spans_are_one_window() -> None:
    assert merged([(day(5), day(9)), (day(0), day(6)), (day(20), day(21))], 4) == [
        (day(0), day(9)),
        (day(20), day(21)),
    ]


def test_beyond_the_limit_the_closest_windows_are_joined() -> None:
    spans = [(day(0), day(1)), (day(3), day(4)), (day(30), day(31)), (day(90), day(91))]
    assert merged(spans, 2) == [(day(0), day(31)), (day(90), day(91))]


def test_without_a_limit_only_overlapping_spans_are_joined() -> None:
    spans = [(day(0), day(1)), (day(3), day(4)), (day(30), day(31)), (day(90), day(91))]
    assert merged(spans) == spans


def test_a_widened_span_reaches_further_on_each_side_and_open_ends_stay_open() -> None:
    assert widened((day(10), day(11)), dt.timedelta(days=3)) == (day(7), day(14))
    assert widened((dt.datetime.min, dt.datetime.max), dt.timedelta(days=3)) == (
        dt.datetime.min,
        dt.datetime.max,
    )


def test_a_span_is_covered_only_by_a_window_that_holds_all_of_it() -> None:
    windows = [(day(0), day(10))]
    assert covered((day(2), day(5)), windows)
    assert not covered((day(5), day(12)), windows)


def test_a_window_is_widened_by_two_days_and_open_ends_stay_open() -> None:
    assert list(values_rows(STATE, [(day(10), day(11))])) == [
        f'(<{STATE}> "2023-01-09" "2023-01-14")'
    ]
    assert list(values_rows(STATE, [(dt.datetime.min, dt.datetime.max)])) == [f'(<{STATE}> "" "~")']


_DAYS = st.dates(min_value=dt.date(2022, 11, 1), max_value=dt.date(2023, 3, 1))
_OFFSETS = st.sampled_from(["Z", "+14:00", "-12:00", "+05:30", "-05:00"])


@st.composite
def times(draw: st.DrawFn) -> str:
    """A time of the facts format at any of its precisions."""
    date = draw(_DAYS)
    precision = draw(st.sampled_from(["year", "month", "day", "instant"]))
    if precision == "year":
        return f"{date.year}"
    if precision == "month":
        return date.isoformat()[:7]
    if precision == "day":
        return date.isoformat()
    hour = draw(st.integers(0, 23))
    return f"{date.isoformat()}T{hour:02d}:30:00{draw(_OFFSETS)}"


_EVENT_TIMES = st.one_of(
    st.tuples(times(), st.none(), st.none()),
    st.tuples(st.none(), st.one_of(st.none(), times()), times()),
    st.tuples(st.none(), times(), st.none()),
)


@pytest.mark.parametrize("overlaps", [OVERLAPS, OVERLAPS_BY_SCAN], ids=["lookups", "scan"])
@hypothesis_settings(max_examples=300, deadline=None)
@given(events=st.lists(_EVENT_TIMES, min_size=1, max_size=8), asked=_EVENT_TIMES)
# The mapping writes instants in UTC; a date-time written around it (SPARQL Update) may keep
# an offset that puts its written date a day before its day in UTC.
@example(events=[("2023-01-15T23:30:00-05:00", None, None)], asked=("2023-01-16", None, None))
def test_the_window_of_an_events_time_keeps_every_event_whose_time_overlaps(
    events: list[tuple[str | None, str | None, str | None]],
    asked: tuple[str | None, str | None, str | None],
    overlaps: str,
) -> None:
    store = Store()
    for index, (start, earliest, latest) in enumerate(events):
        node = NamedNode(f"{EVENT}{index}")
        store.add(Quad(node, NamedNode(DIP + "hasParticipant"), NamedNode(STATE)))
        for term, value in (
            ("startDate", start),
            ("earliestStart", earliest),
            ("latestStart", latest),
        ):
            if value is not None:
                store.add(Quad(node, NamedNode(DIP + term), Literal(value)))
    window = span_of(asked)
    query = (
        f"SELECT DISTINCT ?e WHERE {{ VALUES (?p ?lo ?hi) {{ "
        f"{' '.join(values_rows(STATE, [window]))} }} ?e dip:hasParticipant ?p . {overlaps} }}"
    )
    result = store.query(sparql_prologue() + query)
    assert isinstance(result, QuerySolutions)
    kept = {solution["e"].value for solution in result}
    overlapping = {
        f"{EVENT}{index}" for index, time in enumerate(events) if _overlap(span_of(time), window)
    }
    assert overlapping <= kept
