"""Which event node a report of an event is, among the reports of every document (docs/mapping.md,
"Events across documents").

Reports of one event come at other precisions: "on 10 March", "in March", "earlier this year"
(bounds from 1 January to the article's date). The rule, per group of reports with the same type
and the same participants (their nodes, as the identities decide them):

* each dated report denotes a span of time: its start at its precision (an instant, a day, a
  month, a year), or from the first instant of its earliest start to the last of its latest;
* taken from the most precise (the narrowest span; ties by their text) to the least, a report
  joins the node of the reports within its span, when they are all one node; a report that
  gives a place joins only a node whose reports give that place or none. When they are two or
  more nodes, which one it means is not known, and it keeps a node of its own (``diplograph
  check`` lists it as a candidate same event); when there are none, it is a node of its own;
* a report never joins a node its own document reports already: a document that states two
  reports states two facts (and a fact has one start date in its document, as the shapes say);
* a curator's "different" between a report's own node and a node keeps it out of that node; a
  curator's "same" between the own nodes of two reports makes their nodes one, the more
  precise one's;
* an undated report, or one bounded on one side only, is never joined.

The node a report joins is the one its anchor (the precise report) would have alone: its IRI is
keyed by the anchor's time. Since the result is a function of the set of reports, the graph does
not depend on load order, and a retraction undoes what the retracted reports joined.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable

from diplograph.loader.literals import time_span
from diplograph.loader.mentions import EventMention, Ref

__all__ = ["Span", "anchors", "event_span", "overlapping", "report_order"]

#: The instants a time can denote, [first, last).
Span = tuple[dt.datetime, dt.datetime]


@functools.lru_cache(maxsize=65536)
def event_span(time_key: tuple[str, ...]) -> Span | None:
    """The span of a report's time (start, earliest, latest), or None when it is undated or
    bounded on one side only."""
    if not time_key:
        return None
    start, earliest, latest = time_key
    if start:
        return _half_open(time_span(start))
    if earliest and latest:
        return time_span(earliest)[0], _half_open(time_span(latest))[1]
    return None


def anchors(
    group: Iterable[EventMention],
    place: Callable[[EventMention], str | None],
    *,
    iri: Callable[[tuple[str, ...]], str] | None = None,
    same: Collection[frozenset[str]] = (),
    different: Collection[frozenset[str]] = (),
) -> dict[EventMention, tuple[str, ...]]:
    """The time key of the node of each report of one group (the same type and participants),
    by the rule of the module docstring; ``place`` gives the node of a report's place.

    Curators' statements about event nodes (``same`` and ``different`` pairs of IRIs; ``iri``
    gives the IRI of the group's node of a time key) come first: a report whose own node a
    curator said is different from a node does not join it; reports whose own nodes a curator
    said are the same are one node, the more precise one's.
    """
    dated: list[tuple[Span, EventMention]] = []
    result: dict[EventMention, tuple[str, ...]] = {}
    for report in group:
        span = event_span(report.time_key)
        if span is None:
            result[report] = report.time_key
        else:
            dated.append((span, report))
    # narrowest first; ties by the report's own terms, a total order that does not depend on
    # the order the reports came in
    dated.sort(key=lambda item: (item[0][1] - item[0][0], *report_order(item[1])))

    def apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        return iri is not None and frozenset((iri(a), iri(b))) in different

    # the places of the reports each node has so far: a report joins a node only if its place
    # agrees with all of them, so a report without a place cannot chain two places together
    places: dict[tuple[str, ...], set[str]] = {}
    # the documents that report each node so far: a document's two reports are two facts
    documents: dict[tuple[str, ...], set[str]] = {}
    # the reports placed so far, by the first instant of their span: those within a span are
    # found by bisection, not by a pass over every report (groups of a popular pair are large)
    starts: list[tuple[dt.datetime, int]] = []
    # the node of each report placed so far, by its position in ``dated``: the inner loop
    # reads it by index, since hashing a report (a tree of tuples) there dominated the time
    node_at: list[tuple[str, ...]] = []
    # the first instants of the spans of each node's reports placed so far, sorted
    members: dict[tuple[str, ...], list[dt.datetime]] = {}
    for i, (span, report) in enumerate(dated):
        where = place(report)
        low = bisect.bisect_left(starts, (span[0], -1))
        high = bisect.bisect_left(starts, (span[1], -1))
        # Only whether the reports within the span make one node matters, so the scan stops
        # at a second node: a wide span in a popular pair's group holds thousands of reports,
        # and scanning them all made this loop quadratic in the group (most of a batch's
        # identity time at 30k documents).
        found: set[tuple[str, ...]] = set()
        for position in range(low, high):
            j = starts[position][1]
            candidate = node_at[j]
            if (
                candidate not in found
                and dated[j][0][1] <= span[1]
                and (where is None or places.get(candidate, set()) <= {where})
                and not apart(report.time_key, candidate)
            ):
                found.add(candidate)
                if len(found) > 1:
                    break
                # When every report starting within the span is of this node, there is no
                # second one: a node that many reports joined fills a wide report's span, and
                # stepping past its reports one by one was four fifths of the time of the
                # large runs at 100k documents (9.7 million steps for 28,169 reports).
                own = members[candidate]
                if bisect.bisect_left(own, span[1]) - bisect.bisect_left(own, span[0]) == (
                    high - low
                ):
                    break
        node = report.time_key
        if len(found) == 1 and report.document not in documents.get(next(iter(found)), set()):
            node = found.pop()
        result[report] = node
        node_at.append(node)
        bisect.insort(starts, (span[0], i))
        bisect.insort(members.setdefault(node, []), span[0])
        documents.setdefault(node, set()).add(report.document)
        if where is not None:
            places.setdefault(node, set()).add(where)
    if iri is not None and same:
        _join_curated(result, [r for _, r in dated], iri, same)
    return result


def overlapping(
    group: Iterable[EventMention], touched: Iterable[EventMention]
) -> tuple[list[list[EventMention]], list[EventMention]]:
    """The parts of ``group`` that :func:`anchors` must see again when the reports ``touched``
    (reports that joined the group, left it, or whose place moved) changed, and the reports
    whose nodes cannot have changed.

    Reports interact only through spans that overlap: a report joins nodes of reports within
    its span, and those nodes' places and documents come from reports that overlap them. So the
    dated reports of a group fall into runs of transitively overlapping spans, each decided on
    its own, and only the runs that overlap a touched report's span are decided again. (That
    is what keeps a popular pair's group, thousands of reports over the years, from being
    decided whole at every batch.) Undated reports and those bounded on one side are their own
    nodes; they are among the parts when touched.
    """
    dirty = sorted(s for s in (event_span(r.time_key) for r in touched) if s is not None)
    touched_set = set(touched)
    runs: list[list[EventMention]] = []
    clean: list[EventMention] = []
    dated: list[tuple[Span, EventMention]] = []
    for report in group:
        span = event_span(report.time_key)
        if span is None and report in touched_set:
            runs.append([report])
        elif span is None:
            clean.append(report)
        else:
            dated.append((span, report))
    dated.sort(key=lambda item: item[0])
    run: list[EventMention] = []
    run_first: dt.datetime | None = None
    run_last: dt.datetime | None = None

    def close() -> None:
        if not run:
            return
        assert run_first is not None and run_last is not None
        # a run is decided again when some touched span overlaps [run_first, run_last)
        at = bisect.bisect_left(dirty, (run_last,))
        if any(d[1] > run_first for d in dirty[:at]):
            runs.append(list(run))
        else:
            clean.extend(run)

    for span, report in dated:
        if run_last is None or span[0] >= run_last:
            close()
            run, run_first, run_last = [], span[0], span[1]
        run.append(report)
        run_last = max(run_last, span[1])
    close()
    return runs, clean


def _join_curated(
    result: dict[EventMention, tuple[str, ...]],
    by_precision: list[EventMention],
    iri: Callable[[tuple[str, ...]], str],
    same: Collection[frozenset[str]],
) -> None:
    """Make the nodes of reports whose own nodes a curator said are the same one node: the node
    of the most precise of them."""
    rank: dict[tuple[str, ...], int] = {}
    for position, report in enumerate(by_precision):
        rank.setdefault(report.time_key, position)

    def order(key: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        return (rank.get(key, len(rank)), key)

    node_of: dict[str, tuple[str, ...]] = {}  # a report's own node -> the node it is
    for report, node in sorted(result.items(), key=lambda item: (order(item[1]), repr(item[0]))):
        node_of.setdefault(iri(report.time_key), node)
    parent: dict[tuple[str, ...], tuple[str, ...]] = {}

    def find(key: tuple[str, ...]) -> tuple[str, ...]:
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for pair in sorted(sorted(p) for p in same):
        a, b = pair
        if a in node_of and b in node_of:
            first, second = sorted((find(node_of[a]), find(node_of[b])), key=order)
            if first != second:
                parent[second] = first
    for report in result:
        result[report] = find(result[report])


def _half_open(span: Span) -> Span:
    # time_span gives an instant as [t, t]; as [t, t + 1 µs) it lies within what contains it.
    first, last = span
    return (first, last + dt.timedelta(microseconds=1)) if first == last else span


def report_order(report: EventMention) -> tuple[object, ...]:
    """A total order of reports by their own terms, as plain tuples (a place may be None,
    which does not compare with a place): ties in :func:`anchors` are broken by it."""
    return (
        report.time_key,
        report.document,
        _ref_order(report.place),
        tuple((role, _ref_order(ref)) for role, ref in report.participants),
    )


def _ref_order(ref: Ref | None) -> tuple[object, ...]:
    if ref is None:
        return ()
    if ref.mention is None:
        return (ref.fixed,)
    return (ref.fixed, ref.mention.kind, ref.mention.names, ref.mention.ids)
