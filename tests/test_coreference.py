"""One event node for reports of one event at other precisions (issue 12, "Events across
documents"; docs/mapping.md; loader/coreference.py).

A vague report (a month, bounds) of the same type and participants joins the one precise report
it fits, in any load order, and leaves it again when that report is retracted; when it fits two,
it stays its own node and is reported; places must agree; curators can join and split.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import CanonicalizationAlgorithm, Dataset, Quad

from diplograph.graph import Graph, open_graph
from diplograph.loader.conflicts import SAME_EVENT
from diplograph.loader.coreference import anchors, event_span, overlapping, report_order
from diplograph.loader.iris import IriMinter
from diplograph.loader.mentions import EventMention, Ref
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from tests.conftest import DATA

MEETING = json.loads((DATA / "mapping" / "meeting" / "facts.json").read_text())
MINTER = IriMinter(DEFAULT_BASE_IRI)


def report(
    doc_id: str, time: dict[str, str] | None, place: str | None = "geneva"
) -> dict[str, Any]:
    """The golden case's meeting as document ``doc_id`` reports it: at ``time``, in ``place``."""
    doc = copy.deepcopy(MEETING)
    doc["document"]["id"] = doc_id
    meeting = doc["facts"][0]
    meeting.pop("time")
    if time is not None:
        meeting["time"] = time
    if place is None:
        meeting.pop("place")
    elif place != "geneva":
        doc["entities"].append({"id": "elsewhere", "type": "City", "name": place})
        meeting["place"] = "elsewhere"
    return doc


DAY = {"start": "2023-11-15"}
OTHER_DAY = {"start": "2023-11-20"}
MONTH = {"start": "2023-11"}
BOUNDS = {"earliest": "2023-11-01", "latest": "2023-11-30"}


def meetings(graph: Graph) -> dict[str, set[str]]:
    """Each meeting node, with the documents that report it."""
    rows = graph.query("SELECT ?m ?g WHERE { GRAPH ?g { ?m a dip:Meeting ; dip:attestedBy ?a } }")
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(str(row["m"]), set()).add(str(row["g"]).rsplit("/", 1)[1])
    return found


@pytest.fixture
def graph() -> Iterator[Graph]:
    with open_graph() as g:
        yield g


# -- the rule -------------------------------------------------------------------------------


def test_a_vague_report_and_the_precise_report_it_fits_are_one_node(graph: Graph) -> None:
    graph.load([report("precise", DAY), report("vague", BOUNDS)])
    assert list(meetings(graph).values()) == [{"precise", "vague"}]
    assert [c for c in graph.check() if c.kind == SAME_EVENT] == []


def test_the_precise_report_coming_later_moves_the_vague_one_to_it(graph: Graph) -> None:
    graph.load([report("vague", BOUNDS)])
    report_ = graph.load([report("precise", DAY)])
    assert report_.documents_remapped == 1
    assert list(meetings(graph).values()) == [{"precise", "vague"}]


def test_retracting_the_precise_report_gives_the_vague_one_its_node_back(graph: Graph) -> None:
    graph.load([report("precise", DAY), report("vague", BOUNDS)])
    graph.retract("precise")
    [(node, documents)] = meetings(graph).items()
    assert documents == {"vague"}
    assert "meeting-2023-11-01-" in node


def test_a_month_and_a_year_join_the_day_through_each_other(graph: Graph) -> None:
    year = {"earliest": "2023-01-01", "latest": "2023-12-31"}
    graph.load([report("day", DAY), report("month", MONTH), report("year", year)])
    assert list(meetings(graph).values()) == [{"day", "month", "year"}]


def test_a_vague_report_two_precise_ones_fit_stays_its_own_node(graph: Graph) -> None:
    graph.load([report("a", DAY), report("b", OTHER_DAY), report("vague", MONTH)])
    assert sorted(meetings(graph).values(), key=sorted) == [{"a"}, {"b"}, {"vague"}]


def test_reports_in_other_places_are_not_joined_and_a_missing_place_joins(graph: Graph) -> None:
    graph.load([report("geneva", DAY), report("vienna", MONTH, place="Vienna")])
    assert len(meetings(graph)) == 2
    graph.load([report("nowhere", BOUNDS, place=None)])
    # "nowhere" (no place) fits the Geneva day and joins it; the Vienna month then fits that
    # node through "nowhere", but the node's reports are in Geneva
    assert {frozenset(d) for d in meetings(graph).values()} == {
        frozenset({"geneva", "nowhere"}),
        frozenset({"vienna"}),
    }


def test_undated_and_open_ended_reports_are_never_joined(graph: Graph) -> None:
    graph.load(
        [report("day", DAY), report("undated", None), report("open", {"earliest": "2023-11-01"})]
    )
    assert len(meetings(graph)) == 3


def test_a_document_reporting_a_meeting_twice_states_two_facts(graph: Graph) -> None:
    twice = report("twice", DAY)
    again = copy.deepcopy(twice["facts"][0])
    again.update(id="again", time=MONTH, cameo="042")
    twice["facts"].append(again)
    loaded = graph.load([twice, report("other", DAY)])
    assert loaded.documents_rejected == 0, loaded.to_dict()
    assert sorted(meetings(graph).values(), key=sorted) == [{"other", "twice"}, {"twice"}]


def test_a_joined_report_links_its_own_node_with_owl_same_as(graph: Graph) -> None:
    graph.load([report("precise", DAY), report("vague", BOUNDS)])
    [node] = meetings(graph)
    rows = graph.query(f"SELECT ?own WHERE {{ <{node}> owl:sameAs ?own }}")
    assert [str(r["own"]) for r in rows] == [own_iri(BOUNDS)]


def test_the_summary_counts_a_joined_event_once(graph: Graph) -> None:
    graph.load([report("precise", DAY), report("vague", BOUNDS), report("month", MONTH)])
    rows = graph.query(
        "SELECT ?n WHERE { GRAPH ?s { ?c dip:month ?m ; dip:eventType dip:Meeting ; "
        "dip:eventCount ?n } }"
    )
    assert [int(str(r["n"])) for r in rows] == [1]


# -- curators -------------------------------------------------------------------------------


def own_iri(time: dict[str, str]) -> str:
    """The IRI a report of the meeting at ``time`` has alone."""
    people = [("party", f"{DEFAULT_BASE_IRI}id/person/ana-diplomat")]
    people.append(("party", f"{DEFAULT_BASE_IRI}id/person/bo-minister"))
    key = (time.get("start", ""), time.get("earliest", ""), time.get("latest", ""))
    return MINTER.event("Meeting", people, key)


def test_a_curator_splits_a_wrong_join_with_different(graph: Graph) -> None:
    graph.load([report("precise", DAY), report("vague", BOUNDS)])
    graph.curate("different", own_iri(BOUNDS), own_iri(DAY))
    assert sorted(meetings(graph).values(), key=sorted) == [{"precise"}, {"vague"}]
    graph.uncurate(own_iri(BOUNDS), own_iri(DAY))
    assert list(meetings(graph).values()) == [{"precise", "vague"}]


def test_a_curator_says_which_of_two_days_a_vague_report_means(graph: Graph) -> None:
    graph.load([report("a", DAY), report("b", OTHER_DAY), report("vague", MONTH)])
    graph.curate("same", own_iri(MONTH), own_iri(OTHER_DAY))
    assert sorted(meetings(graph).values(), key=sorted) == [{"a"}, {"b", "vague"}]
    assert [c for c in graph.check() if c.kind == SAME_EVENT] == []


# -- any order ------------------------------------------------------------------------------

_DOCS = [
    report("o-day", DAY),
    report("o-month", MONTH),
    report("o-bounds", BOUNDS),
    report("o-other", OTHER_DAY),
    report("o-vienna", {"start": "2023-11-15"}, place="Vienna"),
]


def _quads(graph: Graph) -> set[Quad]:
    dataset = Dataset(graph.store.quads())
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def _at_once(docs: list[dict[str, Any]]) -> set[Quad]:
    with open_graph() as g:
        if docs:
            g.load(docs)
        return _quads(g)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(_DOCS))), gone=st.sets(st.integers(0, 4), max_size=2))
def test_any_load_order_then_retractions_give_the_graph_of_the_rest(
    order: list[int], gone: set[int]
) -> None:
    with open_graph() as g:
        for i in order:
            g.load([_DOCS[i]])
        for i in sorted(gone):
            g.retract(_DOCS[i]["document"]["id"])
        kept = [_DOCS[i] for i in range(len(_DOCS)) if i not in gone]
        assert _quads(g) == _at_once(kept)


# -- the function ---------------------------------------------------------------------------


def _event(time_key: tuple[str, ...]) -> EventMention:
    """A report of one meeting at ``time_key``, each by a document of its own."""
    return EventMention(
        "Meeting", (("party", Ref(fixed="state/Q1")),), None, time_key, "-".join(time_key)
    )


def test_spans_are_at_the_precision_given() -> None:
    day = event_span(("2023-11-15", "", ""))
    month = event_span(("2023-11", "", ""))
    assert day is not None and month is not None
    assert month[0] <= day[0] and day[1] <= month[1]
    assert event_span(()) is None
    assert event_span(("", "2023-11-01", "")) is None


def test_anchors_depend_on_the_set_of_reports_not_their_order() -> None:
    reports = [
        _event(("2023-11-15", "", "")),
        _event(("2023-11", "", "")),
        _event(("", "2023-01-01", "2023-12-31")),
        _event(("2023-11-15T10:00:00Z", "", "")),
    ]
    first = anchors(reports, lambda r: None)
    assert anchors(list(reversed(reports)), lambda r: None) == first
    assert set(first.values()) == {("2023-11-15T10:00:00Z", "", "")}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(_DOCS))))
def test_identities_kept_batch_by_batch_equal_those_read_afresh(order: list[int]) -> None:
    from diplograph.loader.config import load_settings
    from diplograph.loader.facts import parse_document
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.pipeline import Loader
    from diplograph.loader.reconcile import Reconciler
    from diplograph.loader.store.embedded import EmbeddedStore

    store = EmbeddedStore(None)
    try:
        loader = Loader(store, load_settings(store="memory", batch_size=1))
        records = [parse_document(_DOCS[i], source="t", line=n) for n, i in enumerate(order)]
        loader.load(records)
        kept = loader.reconciler.current()
        fresh = Reconciler(store, MINTER, superclass_closure()).current()
        assert dict(kept.keys()) == dict(fresh.keys())
        reports = {r for d in _DOCS for r in claims_of(d).events}
        assert {r: kept.event_time(r) for r in reports} == {r: fresh.event_time(r) for r in reports}
    finally:
        store.close()


def claims_of(doc: dict[str, Any]) -> Any:
    from diplograph.loader.facts import parse_document
    from diplograph.loader.mentions import claims

    parsed = parse_document(doc, source="t", line=1).document
    assert parsed is not None
    return claims(parsed)


def test_two_codes_for_one_joined_event_are_a_conflict_and_a_refinement_is_not(
    graph: Graph,
) -> None:
    from diplograph.loader.conflicts import VALUES

    coarse = report("coarse", BOUNDS)
    coarse["facts"][0]["cameo"] = "04"
    other = report("other", MONTH, place=None)
    other["facts"][0]["cameo"] = "042"
    graph.load([report("precise", DAY), coarse])  # 043 and 04: 04 is 043's root
    assert [c for c in graph.check() if c.kind == VALUES] == []
    graph.load([other])  # 043 and 042 cannot both be the event's code
    [conflict] = [c for c in graph.check() if c.kind == VALUES]
    assert conflict.property.endswith("#cameoCode")


def _reference_anchors(
    group: list[EventMention], place: Any
) -> dict[EventMention, tuple[str, ...]]:
    """The rule of loader/coreference.py as plainly as it reads: every earlier report checked."""
    result = {r: r.time_key for r in group if event_span(r.time_key) is None}
    dated = sorted(
        ((s, r) for r in group if (s := event_span(r.time_key)) is not None),
        key=lambda item: (item[0][1] - item[0][0], *report_order(item[1])),
    )
    places: dict[tuple[str, ...], set[str]] = {}
    documents: dict[tuple[str, ...], set[str]] = {}
    for i, (span, report) in enumerate(dated):
        where = place(report)
        found = {
            result[inner]
            for inner_span, inner in dated[:i]
            if span[0] <= inner_span[0]
            and inner_span[1] <= span[1]
            and (where is None or places.get(result[inner], set()) <= {where})
        }
        node = report.time_key
        if len(found) == 1 and report.document not in documents.get(next(iter(found)), set()):
            node = found.pop()
        result[report] = node
        documents.setdefault(node, set()).add(report.document)
        if where is not None:
            places.setdefault(node, set()).add(where)
    return result


def _meeting_reports(
    times: list[tuple[str, ...]], documents: list[str]
) -> st.SearchStrategy[EventMention]:
    """Reports of one meeting at one of ``times``, by one of ``documents``, with or without a
    place."""
    return st.builds(
        lambda time, doc, place: EventMention(
            "Meeting",
            (("party", Ref(fixed="state/Q1")),),
            None if place is None else Ref(fixed=f"place/{place}"),
            time,
            doc,
        ),
        st.sampled_from(times),
        st.sampled_from(documents),
        st.sampled_from([None, "geneva", "vienna"]),
    )


_REPORTS = _meeting_reports(
    [
        ("2023-11-15", "", ""),
        ("2023-11-15T10:00:00Z", "", ""),
        ("2023-11-20", "", ""),
        ("2023-11", "", ""),
        ("2023", "", ""),
        ("", "2023-11-01", "2023-11-30"),
        ("", "2023-11-10", "2023-12-05"),
        ("", "2023-11-01", ""),
        (),
    ],
    ["a", "b", "c", "d"],
)


@settings(max_examples=300, deadline=None)
@given(group=st.lists(_REPORTS, max_size=8, unique=True))
def test_anchors_follow_the_rule_as_plainly_written(group: list[EventMention]) -> None:
    def place(report: EventMention) -> str | None:
        return None if report.place is None else report.place.fixed

    assert anchors(group, place) == _reference_anchors(group, place)


# Times spread over months and years, so that a group falls into several runs.
_SPREAD_REPORTS = _meeting_reports(
    [
        ("2023-11-15", "", ""),
        ("2023-11-20", "", ""),
        ("2023-11", "", ""),
        ("2023-12-02", "", ""),
        ("2024-01", "", ""),
        ("2024-01-09", "", ""),
        ("2024", "", ""),
        ("", "2023-11-25", "2023-12-05"),
        ("", "2023-11-01", ""),
        (),
    ],
    ["a", "b", "c"],
)


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(_SPREAD_REPORTS, max_size=10, unique=True),
    after=st.lists(_SPREAD_REPORTS, max_size=10, unique=True),
)
def test_deciding_only_the_runs_a_change_overlaps_equals_deciding_the_whole_group(
    before: list[EventMention], after: list[EventMention]
) -> None:
    def place(report: EventMention) -> str | None:
        return None if report.place is None else report.place.fixed

    earlier = anchors(before, place)
    runs, clean = overlapping(after, set(before) ^ set(after))
    decided = clean + [r for run in runs for r in run]
    assert len(decided) == len(after) and set(decided) == set(after)
    incremental = {r: earlier[r] for r in clean}
    for run in runs:
        incremental.update(anchors(run, place))
    assert incremental == anchors(after, place)
