"""Candidate same events: two event nodes that may be one event reported at other precisions.

A vague report of an event joins the one precise report it fits (loader/coreference.py); what
that rule leaves as separate nodes is reported here: nodes of the same types with the same
participants whose times can denote one moment (each a span at its precision: a start date, or
the earliest to the latest start), such as a report "in November" beside meetings on the 15th
and the 20th. Events without any time are not compared: nothing says they are one. Candidates
are reported, never merged: two calls between the same ministers in one month are two events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from diplograph.loader.conflicts.model import SAME_EVENT, Conflict, Source, Value
from diplograph.loader.conflicts.reads import DOCUMENT, Row, chunks, iri_list, rows, select
from diplograph.loader.conflicts.windows import (
    BOUNDS,
    OVERLAPS,
    OVERLAPS_BY_SCAN,
    Span,
    Time,
    covered,
    kept_bound,
    merged,
    span_of,
    values_rows,
    widened,
)
from diplograph.loader.curation import settled_pairs
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

if TYPE_CHECKING:
    from diplograph.loader.conflicts.held import HeldEvents

__all__ = ["candidate_same_events", "read_times"]

# A participant's windows of time for the events near a load's (loader/conflicts/windows.py),
# and the rows of (participant, window) a query joins. The query tests each event of a
# participant against each of its windows; fewer windows read more of the years between the
# dates of a load that spans them. For the 1k documents after the 100k store's, with the reach
# below: 3.09 s with 1 window a participant, 2.25 s with 2, 2.21 s with 4, 2.09 s with 16 (they
# fall within weeks; before the reach 2.6 s with 2, 3.4 s with 4 and 3.7 s with 16).
_WINDOWS = 4
# Each window reaches this far beyond the events it is for, so that a run of reports a month
# or two apart (a meeting, "last month", the month before) is read in one round rather than a
# round for each: the rounds of the 100 documents after the 100k store's went from 6 to 1 and
# the check from 2.49 s to 1.14 s; of the 1k documents from 4 to 1 and 3.66 s to 2.02 s (15
# days: 2.19 s and 5 rounds; 45: 1.57 s; 180: 1.43 s, as more events are read).
_REACH = dt.timedelta(days=90)
_VALUES_ROWS = 1000
# Beyond this many events of the participants, their times are joined by a scan rather than
# looked up (loader/conflicts/windows.py): 10,000 lookups cost about 0.23 s.
_LOOKUPS = 10_000

# Every event's participants (or those of the events near a wanted one, as _near_wanted reads
# them), then their types and times, in two reads rather than one cross product of rows.
# Each step reads distinct rows (Store.data_pattern): where the default graph is every graph's
# quads, the plain patterns joined multiplied the rows by the documents stating each triple.
# So no DISTINCT of its own: over the 456,255 rows of the 100k store, Oxigraph's DISTINCT held
# 57 MB more for nothing.
_PARTICIPANTS = """SELECT ?e ?p WHERE {{ {events} }}"""
_TIMES = """SELECT ?e ?start ?earliest ?latest WHERE {{
  VALUES ?e {{ {nodes} }}
  {{ ?e dip:startDate ?start }}
  UNION {{ ?e dip:earliestStart ?earliest }}
  UNION {{ ?e dip:latestStart ?latest }}
}}"""
_TYPES = """SELECT ?e ?t WHERE {{
  VALUES ?e {{ {nodes} }}
  ?e a ?t FILTER(STRSTARTS(STR(?t), STR(dip:)))
}}"""
_REPORTED_IN = """SELECT DISTINCT ?e ?g ?c WHERE {{
  VALUES ?e {{ {nodes} }}
  GRAPH ?g {{ ?e dip:attestedBy ?a . OPTIONAL {{ ?a dip:confidence ?c }} {document} }}
}}"""


def candidate_same_events(
    store: Store, nodes: Iterable[str] | None = None, held: HeldEvents | None = None
) -> list[Conflict]:
    """Groups of event nodes that may be one event (all, or those with one of ``nodes``), each
    node with the documents that report it and their confidence. ``held``: the events of the
    participants read so far, in step with the store (loader/conflicts/held.py), which the
    check of ``nodes`` then takes the events near theirs from."""
    wanted = None if nodes is None else sorted(set(nodes))
    participants: dict[str, frozenset[str]] = {}
    times: dict[str, Time] = {}
    if wanted is None:
        # Every event of the store (289,648 at 100k documents): read into lists (the rows are
        # distinct), then one frozenset for each set of participants (56,062)
        listed: dict[str, list[str]] = {}
        events = store.data_pattern("?e ?p", "?e a dip:Event ; dip:hasParticipant ?p .")
        for row in rows(store, _PARTICIPANTS.format(events=events)):
            listed.setdefault(row["e"], []).append(row["p"])
        shared: dict[frozenset[str], frozenset[str]] = {}
        while listed:
            event, said = listed.popitem()
            participants[event] = shared.setdefault(frozenset(said), frozenset(said))
    else:
        participants, times = _near_wanted(store, wanted, held)
    # Only events that share their participants with another (and, when nodes are asked for,
    # whose participants a wanted event has) can be in a group: the others' types and times
    # are not read.
    by_set: dict[frozenset[str], list[str]] = {}
    for event, who in participants.items():
        by_set.setdefault(who, []).append(event)
    asked = None if wanted is None else set(wanted)
    candidates = [
        e
        for members in by_set.values()
        if len(members) > 1 and (asked is None or not asked.isdisjoint(members))
        for e in members
    ]
    if not candidates:
        return []
    if wanted is None:
        times = read_times(store, candidates, whole=True)
    spans = _spans(times)
    # Two events of one group of types and participants that overlap also overlap in their
    # group of participants: only the events of such a pair can be in a finding, so only their
    # types are read. At 30k documents, for a 1k-document run: 21,514 rows of times and 14,687
    # of types, where the types and times of every candidate were 109,982 rows.
    timed = [e for e in candidates if e in spans]
    by_participants: dict[frozenset[str], list[str]] = {}
    for event in timed:
        by_participants.setdefault(participants[event], []).append(event)
    near = [pair for members in by_participants.values() for pair in _overlapping(members, spans)]
    # A finding is a run of events joined by overlapping pairs (_runs): dropping events of
    # other types, with other participants besides, or settled by a curator splits runs and
    # never joins them, so a finding about a wanted event lies in a run here that has it.
    paired = {e for run in _runs(near) if asked is None or not asked.isdisjoint(run) for e in run}
    if wanted is not None:
        # Counting the participants of the events in a pair (21,015 of 66,081 candidates for
        # a 1k-document run at 100k documents) drops those with others besides: the groups
        # below are exact.
        paired = _exactly(store, participants, paired)
    types: dict[str, set[str]] = {}
    for part in chunks(paired):
        for row in rows(store, _TYPES.format(nodes=iri_list(part))):
            types.setdefault(row["e"], set()).add(row["t"])
    groups: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}
    for event in sorted(paired):
        same = (frozenset(types.get(event, ())), participants[event])
        groups.setdefault(same, []).append(event)
    found: list[list[str]] = []
    settled = settled_pairs(store, {e for m in groups.values() if len(m) > 1 for e in m})
    for members in groups.values():
        pairs = [pair for pair in _overlapping(members, spans) if frozenset(pair) not in settled]
        found.extend(run for run in _runs(pairs) if asked is None or not asked.isdisjoint(run))
    reports = _reports(store, {e for group in found for e in group})
    return [
        Conflict(
            SAME_EVENT,
            group[0],
            DIP + "Event",
            tuple(
                Value(e, tuple(sorted(reports.get(e, ()))), detail=_when(times[e])) for e in group
            ),
        )
        for group in sorted(found)
    ]


def read_times(store: Store, events: list[str], *, whole: bool) -> dict[str, Time]:
    """The times of those of ``events`` that have one, read from ``store``. ``whole``: read by
    a scan of each property rather than by chunks of events, for a check of the whole store,
    where the candidates are most events (at 100k documents, 255,087 candidates: 7.3 s in
    chunks, 2.4 s by scans). Of several values of one bound, the one
    :func:`.windows.kept_bound` keeps.

    Each event is keyed by its string in ``events``, and equal times are one tuple (17,177 of
    them for the 255,087 candidates of the 100k store), as are their spans (:func:`_spans`).
    There, reading the times raised the resident memory by 97 MB, and their spans by none,
    against 117 MB and 38 MB with a dict of bounds, a key string and a span per event."""
    own = {e: e for e in events}
    bounds: dict[str, list[str | None]] = {}
    for row in _time_rows(store, events, whole=whole):
        event = own.get(row["e"])
        if event is not None:
            listed = bounds.setdefault(event, [None, None, None])
            for index, (bound, _) in enumerate(BOUNDS):
                if bound in row:
                    listed[index] = kept_bound(index, listed[index], row[bound])
    shared: dict[Time, Time] = {}
    times: dict[str, Time] = {}
    while bounds:
        event, listed = bounds.popitem()
        time: Time = (listed[0], listed[1], listed[2])
        times[event] = shared.setdefault(time, time)
    return times


def _time_rows(store: Store, events: list[str], *, whole: bool) -> Iterator[Row]:
    """Rows of ``?e`` and one or more of its bounds (``?start``, ``?earliest``, ``?latest``):
    of every event, a property at a time (``whole``), or of ``events``, by chunks."""
    if whole:
        for bound, term in BOUNDS:
            pattern = store.data_pattern(f"?e ?{bound}", f"?e {term} ?{bound} .")
            yield from rows(store, f"SELECT ?e ?{bound} WHERE {{ {pattern} }}")
    else:
        for part in chunks(events):
            yield from rows(store, _TIMES.format(nodes=iri_list(part)))


def _spans(times: dict[str, Time]) -> dict[str, Span]:
    """The span of each event's time (:func:`.windows.span_of`), one object for equal times."""
    computed: dict[Time, Span] = {}
    spans: dict[str, Span] = {}
    for event, time in times.items():
        span = computed.get(time)
        if span is None:
            span = computed[time] = span_of(time)
        spans[event] = span
    return spans


def _near_wanted(
    store: Store, wanted: list[str], held: HeldEvents | None = None
) -> tuple[dict[str, frozenset[str]], dict[str, Time]]:
    """The events that can be in a finding with an event among ``wanted`` (those included),
    each with its participants among those of the wanted events, and their times.

    An event can be in a finding with a wanted event when it has every participant of that
    event and no other participant of a wanted event (it may have others besides:
    :func:`_exactly` tells), and its time overlaps the wanted event's or that of another such
    event in the same run (:func:`_runs`). So the (participant, event) pairs are read within
    time windows (:mod:`.windows`): first the wanted events' times, then those of the events
    whose runs with a wanted event reach beyond the windows read, until none does. Every
    event of such a run is read, so the findings are those of a read of every event of the
    wanted events' participants. At 100k documents that read was 39,750 events for a load of
    100 documents, most of them in years the load does not mention.

    With ``held``, the events within the windows and their times come from there.
    """
    own: dict[str, frozenset[str]] = {}
    for part in chunks(wanted):
        pattern = store.data_pattern(
            "?w ?p",
            "?w a dip:Event ; dip:hasParticipant ?p .",
            within=f"VALUES ?w {{ {iri_list(part)} }} ",
        )
        said: dict[str, set[str]] = {}
        for row in rows(store, f"SELECT ?w ?p WHERE {{ {pattern} }}"):
            said.setdefault(row["w"], set()).add(row["p"])
        own.update((w, frozenset(who)) for w, who in said.items())
    sets = set(own.values())
    times = read_times(store, list(own), whole=False)
    spans = _spans(times)
    asked = set(own)
    read: dict[str, list[Span]] = {}
    pending: dict[str, list[Span]] = {}
    for event, who in own.items():
        if event in spans:
            for participant in who:
                pending.setdefault(participant, []).append(spans[event])
    having: dict[str, set[str]] = {}
    participants: dict[str, frozenset[str]] = {}
    # the events of each set of participants, kept from round to round: a round decides again
    # only the runs of the sets whose events it changed (the others' were covered by the
    # windows the round read), where deciding every set's each round took 0.2 s a round for
    # the 100 documents after the 100k store's
    groups: dict[frozenset[str], set[str]] = {}
    while pending:
        queried = {
            p: merged([widened(span, _REACH) for span in found], _WINDOWS)
            for p, found in pending.items()
        }
        for p, windows in queried.items():
            # What was read, as it was read: joined only where it overlaps. (Every event found
            # lies within a widened window of each of its participants, so a new window meets
            # what a query read and a limit here would not join across an unread gap either;
            # without one, `covered` needs no such argument.)
            read[p] = merged([*read.get(p, []), *windows])
        changed: set[str] = set()
        for row in _within(store, queried) if held is None else held.within(queried):
            has = having.setdefault(row["e"], set())
            if row["p"] not in has:
                has.add(row["p"])
                changed.add(row["e"])
        affected: set[frozenset[str]] = set()
        for event in changed:
            if (left := participants.pop(event, None)) is not None:
                groups[left].discard(event)
                affected.add(left)
            if (frozen := frozenset(having[event])) in sets:
                participants[event] = frozen
                groups.setdefault(frozen, set()).add(event)
                affected.add(frozen)
        unread = [e for e in changed if e in participants and e not in times]
        found = read_times(store, unread, whole=False) if held is None else held.times(unread)
        times.update(found)
        spans.update(_spans(found))
        pending = {}
        for who in affected:
            members = sorted(e for e in groups.get(who, ()) if e in spans)
            for run in _runs(_overlapping(members, spans)):
                if asked.isdisjoint(run):
                    continue
                for event in run:
                    for participant in who:
                        if not covered(spans[event], read.get(participant, [])):
                            pending.setdefault(participant, []).append(spans[event])
    return participants, times


def _within(store: Store, windows: dict[str, list[Span]]) -> Iterator[Row]:
    """Rows of ``?p`` and ``?e``: the events of each participant whose times can overlap one of
    its ``windows`` (loader/conflicts/windows.py). The events are counted first (a count is
    not turned into rows: 0.1 s for the 241,451 of a 100-document load at 100k), to choose
    between looking up each one's times and joining every time of the store by hash."""
    values = [row for p in sorted(windows) for row in values_rows(p, windows[p])]
    for start in range(0, len(values), _VALUES_ROWS):
        pattern = store.data_pattern(
            "?p ?e ?lo ?hi",
            "?e dip:hasParticipant ?p .",
            within=f"VALUES (?p ?lo ?hi) {{ {' '.join(values[start : start + _VALUES_ROWS])} }} ",
        )
        [counted] = rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
        overlaps = OVERLAPS_BY_SCAN if int(counted["n"]) > _LOOKUPS else OVERLAPS
        yield from rows(store, f"SELECT DISTINCT ?p ?e WHERE {{ {pattern} {overlaps} }}")


def _exactly(
    store: Store, participants: dict[str, frozenset[str]], events: Iterable[str]
) -> set[str]:
    """Those of ``events`` (typed ``dip:Event``) whose participants are ``participants`` gives
    them and no other: counted, not read."""
    exact: set[str] = set()
    for part in chunks(events):
        pattern = store.data_pattern(
            "?e ?p",
            "?e a dip:Event ; dip:hasParticipant ?p .",
            within=f"VALUES ?e {{ {iri_list(part)} }} ",
        )
        query = f"SELECT ?e (COUNT(?p) AS ?n) WHERE {{ {pattern} }} GROUP BY ?e"
        exact.update(
            row["e"] for row in rows(store, query) if int(row["n"]) == len(participants[row["e"]])
        )
    return exact


def _overlapping(members: list[str], spans: dict[str, Span]) -> Iterator[tuple[str, str]]:
    """The pairs of ``members`` whose spans overlap (:func:`_overlap`), found by a sweep in
    the order of their first instants rather than by comparing every pair: an event whose span
    ends at or before the first instant of the next one overlaps none of the later ones. (At
    30k documents a run's groups held 2.8 million pairs, most far apart in time.)"""
    ordered = sorted(members, key=lambda e: spans[e][0])
    active: list[str] = []
    for event in ordered:
        first = spans[event][0]
        active = [a for a in active if spans[a][1] > first]
        for earlier in active:
            if _overlap(spans[earlier], spans[event]):
                yield (earlier, event)
        active.append(event)


def _runs(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The events of ``pairs`` joined by chains of pairs, each run sorted: one finding each.
    A finding of every event of a group in some pair named up to 1,650 reports of one pair of
    participants in the 100k store, most of them years apart (the largest run: 107); a report
    "in November" and the meetings of the 15th and the 20th it may be are one run."""
    parent: dict[str, str] = {}

    def root(event: str) -> str:
        parent.setdefault(event, event)
        while parent[event] != event:
            parent[event] = parent[parent[event]]
            event = parent[event]
        return event

    for a, b in pairs:
        parent[root(a)] = root(b)
    runs: dict[str, list[str]] = {}
    for event in parent:
        runs.setdefault(root(event), []).append(event)
    return [sorted(run) for run in runs.values()]


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _when(time: Time) -> str:
    start, earliest, latest = time
    if start is not None:
        return start
    return f"{earliest or '…'} to {latest or '…'}"


def _reports(store: Store, events: set[str]) -> dict[str, set[Source]]:
    found: dict[str, set[Source]] = {}
    for part in chunks(sorted(events)):
        query = _REPORTED_IN.format(nodes=iri_list(part), document=DOCUMENT)
        for row in select(store, query):
            confidence = float(row["c"]) if "c" in row else None
            found.setdefault(row["e"], set()).add(Source(row["g"], confidence))
    return found
