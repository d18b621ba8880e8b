"""The dated events of participants, held between the loads of a long-lived process.

The same-event check of a load's nodes (:mod:`.events`) reads the events of the load's
participants near the load's times (:mod:`.windows`). Oxigraph joins each (participant, event)
pair with the event's times, about 8 µs a pair: at 100k documents, 1.1 s of the 1.6 s check
of a 100-document load, whose 184 participants take part in 139,000 events. A server loads
request after request about the same states and the same weeks, so it holds what it has read of
each participant's events, with their times (:class:`HeldEvents`): the check reads from the
store only the parts of its windows not read before (and 90 days further), and takes the rest
from memory. Holding each participant's whole history instead cost more than it saved: 1.1-1.5 s
a request for the 35-99 participants new to it (docs/benchmarks.md).

A server also holds, as it starts, every participant's events of the last six months of the
store (:meth:`HeldEvents.hold_recent`): the news it loads is of the last days, so its checks
then read nothing from the store until a load reaches further back.

What is held must be what the store holds. The server registers its store
(:func:`hold_events`); the loader keeps the events in step with each commit it makes
(:meth:`HeldEvents.touched` before, :meth:`HeldEvents.committed` after), and any other write
(a SPARQL update, a retraction, a curation) changes the store's
:attr:`~loader.store.Store.generation`, after which :func:`held_events` lets go of everything
held and the next checks read the store again. Only the loader, under the write lock of the
server, uses it: the read routes run beside the writes.

Each participant's events are kept sorted by the first instant of their span, so that the events
within a window are found by bisection: the events whose span is at most :data:`_NARROW` long
start at most that long before the window, and the few longer ones (an event known between two
dates years apart) are tested one by one.
"""

from __future__ import annotations

import bisect
import datetime as dt
import weakref
from collections.abc import Iterable, Iterator, Sequence

from pyoxigraph import NamedNode

from diplograph.loader.conflicts.events import read_times
from diplograph.loader.conflicts.reads import Row, chunks, iri_list, rows
from diplograph.loader.conflicts.windows import (
    BOUNDS,
    MARGIN,
    OVERLAPS,
    OVERLAPS_BY_SCAN,
    Span,
    Time,
    kept_bound,
    merged,
    reaching,
    span_of,
    times_joined,
    values_rows,
    widened,
)
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import GraphChange, Store

__all__ = ["HeldEvents", "events_unchanged_since", "held_events", "hold_events"]

#: The longest span of the events bisected; longer ones are tested one by one. Every time of
#: a year's precision or finer falls within it.
_NARROW = dt.timedelta(days=400)
#: Rows of (participant, window) a query joins, and the events beyond which their times are
#: joined by a scan rather than looked up: as the store's read of the check (:mod:`.events`).
_VALUES_ROWS = 1000
_LOOKUPS = 10_000
#: How much further than a window not read yet is read, each side: a read of a few days costs
#: about what a read of months does (the participant's events are matched whole).
_AHEAD = dt.timedelta(days=90)
#: How far back from the store's latest start every participant's events are held by
#: :meth:`HeldEvents.hold_recent`: a load's windows reach three months before its events
#: (:mod:`.events`), so news of the last three months reads nothing. At 100k documents: 14,259
#: events, read in 2.1-2.2 s, the process 198 MB larger; a year's, 28,954 in 4.4-5.9 s, 248 MB.
_RECENT = dt.timedelta(days=180)
#: The events :meth:`HeldEvents.hold_recent` reads, as (pattern, filter) of an event ``?e``
#: whose time can reach ``?lo`` or later (as in :mod:`.windows`): a start that does, a latest
#: start that does (a superset of those without a start), an earliest start without a latest.
_REACHES = f"FILTER{reaching('t')}"
_RECENT_EVENTS = (
    ("?e dip:startDate ?t .", _REACHES),
    ("?e dip:latestStart ?t .", _REACHES),
    ("?e dip:earliestStart ?t .", "FILTER NOT EXISTS { ?e dip:latestStart ?any }"),
)
#: The lexical forms of a start that :meth:`HeldEvents.hold_recent` takes the latest of: a
#: year, a month or a day (a date-time's first ten characters); another value, written around
#: the loader, is not a time.
_DATE = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"

_PREDICATES = {DIP + "hasParticipant", *(DIP + term.removeprefix("dip:") for _, term in BOUNDS)}
#: Every value of each bound of an event, looked up or joined by a scan (:mod:`.windows`).
_ALL = " ".join(f"?all_{bound}" for bound, _ in BOUNDS)
_ALL_BY_LOOKUP = times_joined(scan=False, prefix="all_")
_ALL_BY_SCAN = times_joined(scan=True, prefix="all_")


class HeldEvents:
    """The events of the participants asked about so far, each with its time and span."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: how many times a participant's events were read from the store
        self.reads = 0
        #: how far back from the store's latest start every participant's events are held
        #: (:meth:`hold_recent`), again after each clearing; None: only what checks read
        self.recent: dt.timedelta | None = None
        self._clear()

    def __len__(self) -> int:
        """The participants whose events are held."""
        return len(self._narrow)

    def participants(self) -> list[str]:
        """The participants whose events are held, sorted."""
        return sorted(self._narrow)

    def _clear(self) -> None:
        #: the store's generation what is held is that of
        self._generation = self.store.generation
        #: each participant read: its events of a span at most _NARROW long, as (first instant,
        #: last instant, event) sorted, and the others
        self._narrow: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] = {}
        self._wide: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] = {}
        #: the time of each event held, and the participants read that it has
        self._times: dict[str, Time] = {}
        self._of: dict[str, set[str]] = {}
        #: the windows of time read of each participant: every event of the participant whose
        #: time can overlap one is held (others may be too)
        self._covered: dict[str, list[Span]] = {}
        #: from when on every participant's events are held (:meth:`hold_recent`), if at all
        self._since: dt.datetime | None = None

    def in_step(self) -> bool:
        """Whether what is held is the store's: no write since but those followed."""
        return self._generation == self.store.generation

    # -- the check's reads ------------------------------------------------------------------

    def within(self, windows: dict[str, list[Span]]) -> Iterator[Row]:
        """Rows of ``?p`` and ``?e``, as :func:`~loader.conflicts.events._within` gives them:
        each event of a participant whose span overlaps one of its ``windows`` (exactly, where
        the store's query keeps more), once. The parts of the windows not read yet are read
        from the store first."""
        unread: dict[str, list[Span]] = {}
        for participant, spans in windows.items():
            read = self._covered.get(participant, [])
            gaps = [gap for span in spans for gap in _gaps(span, read, self._since)]
            if gaps:
                # Read further than asked: the next loads' news is of the days after.
                unread[participant] = merged([widened(gap, _AHEAD) for gap in gaps])
        self._read(unread)
        for participant, spans in windows.items():
            found: set[str] = set()
            narrow = self._narrow.get(participant, [])
            for first, last in spans:
                start = _earlier(first, _NARROW)
                low = bisect.bisect_left(narrow, start, key=lambda item: item[0])
                high = bisect.bisect_left(narrow, last, key=lambda item: item[0])
                found.update(e for a, b, e in narrow[low:high] if b > first)
                found.update(
                    e for a, b, e in self._wide.get(participant, ()) if a < last and b > first
                )
            for event in sorted(found):
                yield {"p": participant, "e": event}

    def hold_recent(self, back: dt.timedelta = _RECENT) -> None:
        """Hold the events of every participant from ``back`` before the latest start of an
        event of the store on, and those to come (the commits are followed), and do so again
        whenever what is held is let go (:func:`held_events`).

        A server's loads are of the news, whose events are of the last days: their checks then
        read nothing from the store. A load of older events reads the windows it needs, as
        before. The events are found by their times, not by their participants: at 100k
        documents, reading every participant's 456,000 pairs for the 29,000 events of a year
        took 4.3 s. Their times are looked up: joined by a scan, the process grew 90 MB more,
        for no less time."""
        self.recent = back
        latest = self.store.data_pattern(
            "?key",
            "?e dip:startDate ?start .",
            extra=f"BIND(SUBSTR(STR(?start), 1, 10) AS ?key) FILTER(REGEX(?key, '{_DATE}'))",
        )
        [found] = rows(self.store, f"SELECT (MAX(?key) AS ?latest) WHERE {{ {latest} }}")
        if "latest" not in found:
            return  # no event has a start
        since = _earlier(span_of((found["latest"], None, None))[0], back)
        low = _earlier(since, MARGIN).date().isoformat()
        events = " UNION ".join(
            self.store.data_pattern("?e", pattern, within=f'VALUES ?lo {{ "{low}" }} ', extra=extra)
            for pattern, extra in _RECENT_EVENTS
        )
        participants = self.store.data_pattern("?e ?p", "?e dip:hasParticipant ?p .")
        query = (
            f"SELECT ?p ?e {_ALL} WHERE {{ {{ SELECT DISTINCT ?e WHERE {{ {events} }} }} "
            f"{participants} {_ALL_BY_LOOKUP} }}"
        )
        having: dict[str, set[str]] = {}
        bounds: dict[str, list[str | None]] = {}
        _collect(rows(self.store, query), having, bounds)
        self._hold(having, self._times_of(bounds))
        self._since = since

    def times(self, events: Iterable[str]) -> dict[str, Time]:
        """The times of those of ``events`` held (every event :meth:`within` gave)."""
        return {e: time for e in events if (time := self._times.get(e)) is not None}

    def _read(self, windows: dict[str, list[Span]]) -> None:
        """Read from the store the events of each participant whose times can overlap its
        ``windows``, with their times, and hold them (the windows are then read)."""
        if not windows:
            return
        for participant in windows:
            self._narrow.setdefault(participant, [])
            self._wide.setdefault(participant, [])
        values = [row for p in sorted(windows) for row in values_rows(p, windows[p])]
        having: dict[str, set[str]] = {}
        bounds: dict[str, list[str | None]] = {}
        for start in range(0, len(values), _VALUES_ROWS):
            part = " ".join(values[start : start + _VALUES_ROWS])
            pattern = self.store.data_pattern(
                "?p ?e ?lo ?hi",
                "?e dip:hasParticipant ?p .",
                within=f"VALUES (?p ?lo ?hi) {{ {part} }} ",
            )
            [counted] = rows(self.store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
            many = int(counted["n"]) > _LOOKUPS
            # Every value of each bound of the events found, joined again after the test of
            # the window: the rows that passed it may leave out another value of a bound (a
            # node's "2024-05-15" and "2024-05" beside a window from the 16th). Looked up
            # apart, the times of the first read of a server took 5 s more.
            query = (
                f"SELECT ?p ?e {_ALL} WHERE {{ "
                f"{{ SELECT DISTINCT ?p ?e WHERE {{ {pattern} "
                f"{OVERLAPS_BY_SCAN if many else OVERLAPS} }} }} "
                f"{_ALL_BY_SCAN if many else _ALL_BY_LOOKUP} }}"
            )
            _collect(rows(self.store, query), having, bounds)
        self._hold(having, self._times_of(bounds))
        # Read only once every event is held: a read that fails leaves the windows unread.
        for participant, spans in windows.items():
            self._covered[participant] = merged([*self._covered.get(participant, []), *spans])
        self.reads += len(windows)

    def _times_of(self, bounds: dict[str, list[str | None]]) -> dict[str, Time]:
        """The time of each event of ``bounds`` (:func:`_collect`): the one held if it is, and
        equal times one tuple, as read_times makes them (:mod:`.events`)."""
        shared: dict[Time, Time] = {}
        times: dict[str, Time] = {}
        for event, listed in bounds.items():
            time: Time = (listed[0], listed[1], listed[2])
            times[event] = self._times.get(event) or shared.setdefault(time, time)
        return times

    def _hold(self, having: dict[str, set[str]], times: dict[str, Time]) -> None:
        """Hold each event of ``having`` that has a time among ``times``, for each of the
        participants it has there."""
        for event, participants in having.items():
            time = times.get(event)
            if time is None:
                continue
            self._times[event] = time
            first, last = span_of(time)
            wide = last == dt.datetime.max or last - first > _NARROW
            held = self._wide if wide else self._narrow
            holders = self._of.setdefault(event, set())
            for participant in participants - holders:  # not those read with an earlier window
                holders.add(participant)
                self._narrow.setdefault(participant, [])
                self._wide.setdefault(participant, [])
                bisect.insort(held[participant], (first, last, event))

    # -- keeping in step --------------------------------------------------------------------

    def touched(self, changes: Sequence[GraphChange]) -> set[str]:
        """The events whose participants or times ``changes`` can change, asked before they are
        committed: the subjects of such triples in the new graphs and in those they replace."""
        found = {
            t.subject.value
            for change in changes
            for t in change.triples or ()
            if t.predicate.value in _PREDICATES and isinstance(t.subject, NamedNode)
        }
        graphs = sorted(
            {c.graph for c in changes} - self.store.empty_graphs(c.graph for c in changes)
        )
        predicates = iri_list(sorted(_PREDICATES))
        for part in chunks(graphs):
            query = (
                f"SELECT DISTINCT ?e WHERE {{ VALUES ?g {{ {iri_list(part)} }} "
                f"VALUES ?q {{ {predicates} }} GRAPH ?g {{ ?e ?q ?x }} FILTER(isIRI(?e)) }}"
            )
            found.update(row["e"] for row in rows(self.store, query))
        return found

    def committed(self, events: set[str]) -> None:
        """Follow a commit that changed the participants or times of ``events`` alone (as
        :meth:`touched` gave them before it): those of the participants read are read again,
        and with :meth:`hold_recent` those of every participant."""
        leaving: dict[str, set[str]] = {}
        for event in events:
            for participant in self._of.pop(event, ()):
                leaving.setdefault(participant, set()).add(event)
            self._times.pop(event, None)
        for participant, gone in leaving.items():
            for held in (self._narrow, self._wide):
                held[participant] = [item for item in held[participant] if item[2] not in gone]
        everyone = self._since is not None
        if self._narrow or everyone:
            having: dict[str, set[str]] = {}
            for part in chunks(events):
                pattern = self.store.data_pattern(
                    "?p ?e",
                    "?e dip:hasParticipant ?p .",
                    within=f"VALUES ?e {{ {iri_list(part)} }} ",
                )
                for row in rows(self.store, f"SELECT ?p ?e WHERE {{ {pattern} }}"):
                    if everyone or row["p"] in self._narrow:
                        having.setdefault(row["e"], set()).add(row["p"])
            self._hold(having, read_times(self.store, list(having), whole=False))
        self._generation = self.store.generation


def _collect(
    found: Iterable[Row], having: dict[str, set[str]], bounds: dict[str, list[str | None]]
) -> None:
    """Add rows of ``?p``, ``?e`` and every value of each bound of its time (``?all_…``) to the
    participants of each event (``having``) and the bounds of its time, as the check compares
    them (``bounds``, :func:`~.windows.kept_bound`)."""
    for row in found:
        event = row["e"]
        having.setdefault(event, set()).add(row["p"])
        listed = bounds.setdefault(event, [None, None, None])
        for index, (bound, _) in enumerate(BOUNDS):
            if (value := row.get(f"all_{bound}")) is not None:
                listed[index] = kept_bound(index, listed[index], value)


def _gaps(span: Span, read: list[Span], since: dt.datetime | None = None) -> Iterator[Span]:
    """The parts of ``span`` that none of ``read`` (merged, in order) covers, nor the time from
    ``since`` on."""
    if since is not None:
        span = (span[0], min(span[1], since))
        if span[0] >= span[1]:
            return
    first, last = span
    for low, high in read:
        if high <= first:
            continue
        if low >= last:
            break
        if low > first:
            yield first, low
        first = max(first, high)
        if first >= last:
            return
    if first < last:
        yield first, last


def _earlier(instant: dt.datetime, by: dt.timedelta) -> dt.datetime:
    try:
        return instant - by
    except OverflowError:
        return dt.datetime.min


def hold_events(store: Store) -> None:
    """Hold the events the same-event checks of loads into ``store`` read, from now on, in this
    process (a server's): :func:`held_events` gives them to the loader. Not for a store other
    processes may write to (one without a generation)."""
    if store.generation is not None and store not in _HELD:
        _HELD[store] = HeldEvents(store)


def held_events(store: Store) -> HeldEvents | None:
    """The events held for ``store`` (:func:`hold_events`), emptied first when a write they did
    not follow came since; None when none are held."""
    held = _HELD.get(store)
    if held is not None and not held.in_step():
        held._clear()
        if held.recent is not None:
            held.hold_recent(held.recent)
    return held


def events_unchanged_since(store: Store, generation: int | None) -> None:
    """Record that the writes to ``store`` since its ``generation`` changed no participant and
    no time of an event (the summary's mark before a load through the API): the events held
    then are still the store's."""
    held = _HELD.get(store)
    if held is not None and generation is not None and held._generation == generation:
        held._generation = store.generation


#: The events held for each store (:func:`hold_events`).
_HELD: weakref.WeakKeyDictionary[Store, HeldEvents] = weakref.WeakKeyDictionary()
