"""The dated events of participants, held between the loads of a long-lived process.

The same-event check of a load's nodes (:mod:`.events`) reads the events of the load's
participants near the load's times (:mod:`.windows`). Oxigraph joins each (participant, event)
pair with the event's times, about 8 µs a pair: at 100k documents, 1.1 s of the 1.6 s check
of a 100-document load, whose 184 participants take part in 139,000 events. A server loads
request after request about the same states, so it holds each participant's events with their
times once read (:class:`HeldEvents`), and the check takes the events within its windows from
memory.

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

from diplograph.loader.conflicts.reads import Row, chunks, iri_list, rows
from diplograph.loader.conflicts.windows import BOUNDS, Span, Time, kept_bound, span_of
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import GraphChange, Store

__all__ = ["HeldEvents", "events_unchanged_since", "held_events", "hold_events"]

#: The longest span of the events bisected; longer ones are tested one by one. Every time of
#: a year's precision or finer falls within it.
_NARROW = dt.timedelta(days=400)
#: Participants a query reads the events of (their rows come in tens of thousands).
_PARTICIPANTS_A_QUERY = 200
#: Beyond this many events of the participants read, their times are joined by a scan of the
#: store's times rather than looked up (the reasoning of ``_LOOKUPS`` in :mod:`.events`).
_LOOKUPS = 10_000

_PREDICATES = {DIP + "hasParticipant", *(DIP + term.removeprefix("dip:") for _, term in BOUNDS)}
_TIMES_BY_LOOKUP = " ".join(f"OPTIONAL {{ ?e {term} ?{bound} }}" for bound, term in BOUNDS)
_TIMES_BY_SCAN = " ".join(
    f"OPTIONAL {{ SELECT ?e ?{bound} WHERE {{ ?e {term} ?{bound} }} }}" for bound, term in BOUNDS
)
_DATED = "FILTER(" + " || ".join(f"BOUND(?{bound})" for bound, _ in BOUNDS) + ")"


class HeldEvents:
    """The events of the participants asked about so far, each with its time and span."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: how many times a participant's events were read from the store
        self.reads = 0
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

    def in_step(self) -> bool:
        """Whether what is held is the store's: no write since but those followed."""
        return self._generation == self.store.generation

    # -- the check's reads ------------------------------------------------------------------

    def within(self, windows: dict[str, list[Span]]) -> Iterator[Row]:
        """Rows of ``?p`` and ``?e``, as :func:`~loader.conflicts.events._within` gives them:
        each event of a participant whose span overlaps one of its ``windows`` (exactly, where
        the store's query keeps more), once. The participants not read yet are read first."""
        self._read([p for p in windows if p not in self._narrow])
        for participant, spans in windows.items():
            found: set[str] = set()
            narrow = self._narrow[participant]
            for first, last in spans:
                start = _earlier(first, _NARROW)
                low = bisect.bisect_left(narrow, start, key=lambda item: item[0])
                high = bisect.bisect_left(narrow, last, key=lambda item: item[0])
                found.update(e for a, b, e in narrow[low:high] if b > first)
                found.update(e for a, b, e in self._wide[participant] if a < last and b > first)
            for event in sorted(found):
                yield {"p": participant, "e": event}

    def times(self, events: Iterable[str]) -> dict[str, Time]:
        """The times of those of ``events`` held (every event :meth:`within` gave)."""
        return {e: time for e in events if (time := self._times.get(e)) is not None}

    def _read(self, participants: Sequence[str]) -> None:
        for participant in participants:
            self._narrow[participant], self._wide[participant] = [], []
        self.reads += len(participants)
        for start in range(0, len(participants), _PARTICIPANTS_A_QUERY):
            part = list(participants[start : start + _PARTICIPANTS_A_QUERY])
            pattern = self.store.data_pattern(
                "?p ?e", "?e dip:hasParticipant ?p .", within=f"VALUES ?p {{ {iri_list(part)} }} "
            )
            [counted] = rows(self.store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
            times = _TIMES_BY_SCAN if int(counted["n"]) > _LOOKUPS else _TIMES_BY_LOOKUP
            self._add(rows(self.store, f"SELECT * WHERE {{ {pattern} {times} {_DATED} }}"))

    def _add(self, found: Iterable[Row]) -> None:
        """Hold the events of rows of ``?p``, ``?e`` and its bounds (a row for each value of
        each bound: the one :func:`.windows.kept_bound` keeps is held)."""
        bounds: dict[str, list[str | None]] = {}
        having: dict[str, set[str]] = {}
        for row in found:
            event = row["e"]
            having.setdefault(event, set()).add(row["p"])
            listed = bounds.setdefault(event, [None, None, None])
            for index, (bound, _) in enumerate(BOUNDS):
                if bound in row:
                    listed[index] = kept_bound(index, listed[index], row[bound])
        shared: dict[Time, Time] = {}
        for event, listed in bounds.items():
            time: Time = (listed[0], listed[1], listed[2])
            time = self._times[event] = shared.setdefault(time, time)
            first, last = span_of(time)
            for participant in having[event]:
                self._of.setdefault(event, set()).add(participant)
                wide = last == dt.datetime.max or last - first > _NARROW
                held = self._wide if wide else self._narrow
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
        :meth:`touched` gave them before it): those of the participants read are read again."""
        leaving: dict[str, set[str]] = {}
        for event in events:
            for participant in self._of.pop(event, ()):
                leaving.setdefault(participant, set()).add(event)
            self._times.pop(event, None)
        for participant, gone in leaving.items():
            for held in (self._narrow, self._wide):
                held[participant] = [item for item in held[participant] if item[2] not in gone]
        if self._narrow:
            for part in chunks(events):
                pattern = self.store.data_pattern(
                    "?p ?e",
                    "?e dip:hasParticipant ?p .",
                    within=f"VALUES ?e {{ {iri_list(part)} }} ",
                )
                query = f"SELECT * WHERE {{ {pattern} {_TIMES_BY_LOOKUP} {_DATED} }}"
                self._add(row for row in rows(self.store, query) if row["p"] in self._narrow)
        self._generation = self.store.generation


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
