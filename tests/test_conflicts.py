"""Conflicts between documents are surfaced, never resolved by dropping a value
(loader/conflicts/, docs/mapping.md "Conflicts and candidates").

The example documents in tests/data/conflicts/ add to the sample story: three reports of when
China-US ties began to improve (2023-06-18, 2023-06-20 and the vague "in June"), and a report
that takes the State Department's spokesperson for the Secretary of State, naming the
Department "U.S. Department of State" and Joe Biden without his Wikidata id.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyoxigraph import QuerySolutions

from diplograph.cli import main
from diplograph.graph import open_graph
from diplograph.loader.conflicts import (
    CANDIDATE,
    HOLDERS,
    SAME_EVENT,
    VALUES,
    Conflict,
    compatible,
    events,
    find_conflicts,
    listing,
    overlapping_holders,
)
from diplograph.loader.conflicts.events import _overlap, _overlapping
from diplograph.loader.conflicts.holders import time_span
from diplograph.loader.conflicts.reads import select
from diplograph.loader.namespaces import DIP
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA, STORY_FILE, app_client, load_story

CONFLICTS = DATA / "conflicts"
ID = "https://w3id.org/diplograph/id/"
DOC = ID + "doc/"
SECRETARY = ID + "post/us-secretary-of-state"


def doc(name: str) -> str:
    return DOC + "conflicts-" + name


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    the_store = EmbeddedStore(None)
    load_story(the_store, *sorted(CONFLICTS.glob("*.json")))
    yield the_store
    the_store.close()


def of_kind(found: list[Conflict], kind: str) -> list[Conflict]:
    return [c for c in found if c.kind == kind]


#: The two states the documents below are about.
US_AND_CHINA = [
    {"id": "usa", "type": "State", "name": "United States", "wikidata": "Q30"},
    {"id": "chn", "type": "State", "name": "China", "wikidata": "Q148"},
]


def facts_document(document_id: str, entities: list[Any], fact: dict[str, Any]) -> dict[str, Any]:
    """A facts document of one fact, published on 2023-07-01."""
    return {
        "format_version": "1.0",
        "document": {"id": document_id, "published": "2023-07-01", "publisher": "Test Wire"},
        "extraction": {"tool": "t", "version": "1", "time": "2026-11-28T12:00:00Z"},
        "entities": entities,
        "facts": [fact],
    }


def relation_document(document_id: str, start: str, confidence: float) -> dict[str, Any]:
    return facts_document(
        document_id,
        US_AND_CHINA,
        {
            "id": "rel",
            "type": "BilateralRelation",
            "quality": "improving",
            "participants": [
                {"entity": "chn", "role": "party"},
                {"entity": "usa", "role": "party"},
            ],
            "time": {"start": start},
            "confidence": confidence,
        },
    )


def test_two_documents_with_different_start_dates_give_one_conflict_with_both_sources() -> None:
    with open_graph() as graph:
        graph.load([relation_document("a", "2023-06-18", 0.8)])
        graph.load([relation_document("b", "2023-06-20", 0.6)])
        found = graph.check()
    assert [c.kind for c in found] == [VALUES]
    conflict = found[0]
    assert conflict.property == DIP + "startDate"
    assert conflict.node.startswith(ID + "situation/bilateralrelation-")
    assert [
        (v.value, [(s.document, s.confidence) for s in v.sources]) for v in conflict.values
    ] == [
        ("2023-06-18", [(DOC + "a", 0.8)]),
        ("2023-06-20", [(DOC + "b", 0.6)]),
    ]


def test_values_compatible_at_their_precision_are_no_conflict() -> None:
    with open_graph() as graph:
        graph.load([relation_document("a", "2023-06-18", 0.8)])
        graph.load([relation_document("b", "2023-06", 0.5)])
        graph.load([relation_document("c", "2023", 0.5)])
        assert graph.check() == []


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2023-03", "2023-03-10", True),
        ("2023-03-10", "2023-03-12", False),
        ("2023-10-14", "2023-10-14T09:30:00Z", True),
        ("2023-10-14T09:30:00Z", "2023-10-14T10:30:00Z", False),
        ("2023", "2024-01", False),
    ],
)
def test_two_times_conflict_only_when_no_single_time_satisfies_both(
    a: str, b: str, expected: bool
) -> None:
    assert compatible("time", a, b, {}) is expected


def test_a_place_and_a_place_it_lies_in_are_compatible() -> None:
    ancestors = {ID + "place/riyadh": {ID + "state/Q851"}}
    assert compatible("place", ID + "place/riyadh", ID + "state/Q851", ancestors)
    assert not compatible("place", ID + "place/riyadh", ID + "place/beijing", ancestors)


def test_a_time_value_spans_what_its_precision_covers() -> None:
    first, after = time_span("2023-12")
    assert (first.isoformat(), after.isoformat()) == ("2023-12-01T00:00:00", "2024-01-01T00:00:00")


def test_the_conflicting_start_dates_are_found_with_their_documents_and_confidences(
    store: EmbeddedStore,
) -> None:
    (conflict,) = of_kind(find_conflicts(store), VALUES)
    assert {v.value: [(s.document, s.confidence) for s in v.sources] for v in conflict.values} == {
        "2023-06": [(doc("relation-in-june"), 0.5)],
        "2023-06-18": [(doc("relation-june-18"), 0.8)],
        "2023-06-20": [(doc("relation-june-20"), 0.6)],
    }


def test_both_values_stay_in_the_store(store: EmbeddedStore) -> None:
    (conflict,) = of_kind(find_conflicts(store), VALUES)
    rows = store.query(f"SELECT ?d WHERE {{ <{conflict.node}> <{DIP}startDate> ?d }}")
    assert isinstance(rows, QuerySolutions)
    assert sorted(r["d"].value for r in rows) == ["2023-06", "2023-06-18", "2023-06-20"]


def test_two_holders_of_a_single_holder_post_at_once_are_a_conflict(store: EmbeddedStore) -> None:
    (conflict,) = of_kind(find_conflicts(store), HOLDERS)
    assert conflict.node == SECRETARY
    assert conflict.label == "US Secretary of State"
    assert [(v.value, v.label, [s.confidence for s in v.sources]) for v in conflict.values] == [
        (ID + "person/antony-blinken", "Antony Blinken", [0.98]),
        (ID + "person/matthew-miller", "Matthew Miller", [0.4]),
    ]


def test_a_holders_sources_keep_their_confidence_beside_an_attestation_without_one() -> None:
    with EmbeddedStore(None) as store:
        load_story(store, *sorted(CONFLICTS.glob("*.json")))
        # a second attestation of each holding, in the same document, that gives no confidence
        store.update(
            f"""PREFIX dip: <{DIP}>
            INSERT {{ GRAPH ?g {{ ?h dip:attestedBy <urn:example:unrated> }} }}
            WHERE {{ GRAPH ?g {{ ?h dip:post <{SECRETARY}> ; dip:attestedBy ?a }} }}"""
        )
        (conflict,) = of_kind(find_conflicts(store), HOLDERS)
    assert [[s.confidence for s in v.sources] for v in conflict.values] == [[0.98], [0.4]]


def test_a_holding_no_document_states_takes_no_part_in_the_holders_check() -> None:
    with EmbeddedStore(None) as store:
        load_story(store, *sorted(CONFLICTS.glob("*.json")))
        store.update(
            f"""PREFIX dip: <{DIP}> PREFIX org: <http://www.w3.org/ns/org#>
            INSERT DATA {{ GRAPH <urn:example:notes> {{
              <urn:example:holding> dip:post <{SECRETARY}> ; org:member <urn:example:someone> .
            }} }}"""
        )
        (conflict,) = of_kind(find_conflicts(store), HOLDERS)
    assert [v.value for v in conflict.values] == [
        ID + "person/antony-blinken",
        ID + "person/matthew-miller",
    ]


def test_a_graph_written_by_hand_that_states_a_holding_is_not_counted_among_its_documents() -> None:
    # A load's report counts the documents it does not list (holders.py, _COUNTED): a named
    # graph that is no document is none of them.
    with EmbeddedStore(None) as store:
        load_story(store, *sorted(CONFLICTS.glob("*.json")))
        [before] = overlapping_holders(store, [SECRETARY], listed=set())
        holding = (before.values[0].detail or "").split()[0]
        store.update(
            f"""PREFIX dip: <{DIP}> PREFIX org: <http://www.w3.org/ns/org#>
            INSERT DATA {{ GRAPH <urn:example:notes> {{
              <{holding}> dip:post <{SECRETARY}> ; org:member <{before.values[0].value}> .
            }} }}"""
        )
        [after] = overlapping_holders(store, [SECRETARY], listed=set())
    assert [v.unlisted for v in after.values] == [v.unlisted for v in before.values] == [1, 1]


def meeting_document(document_id: str, place: str, confidence: float) -> dict[str, Any]:
    """A meeting in which China's side speaks from ``place`` (a participation's own place)."""
    return facts_document(
        document_id,
        [*US_AND_CHINA, {"id": "city", "type": "City", "name": place}],
        {
            "id": "talks",
            "type": "Meeting",
            "participants": [
                {"entity": "chn", "role": "participant", "place": "city"},
                {"entity": "usa", "role": "participant"},
            ],
            "time": {"start": "2023-06-18"},
            "confidence": confidence,
        },
    )


def test_a_participation_without_a_confidence_takes_its_events() -> None:
    with open_graph() as graph:
        graph.load([meeting_document("a", "Geneva", 0.8), meeting_document("b", "Vienna", 0.6)])
        (conflict,) = graph.check()
    assert conflict.property == DIP + "atPlace"
    assert [
        (v.label, [(s.document, s.confidence) for s in v.sources]) for v in conflict.values
    ] == [
        ("Geneva", [(DOC + "a", 0.8)]),
        ("Vienna", [(DOC + "b", 0.6)]),
    ]


def holding_document(document_id: str, holder: str, time: dict[str, str]) -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "document": {"id": document_id, "published": "2023-10-14", "publisher": "Test Wire"},
        "extraction": {"tool": "t", "version": "1", "time": "2026-11-28T12:00:00Z"},
        "entities": [
            {"id": "p", "type": "Person", "name": holder},
            {"id": "post", "type": "DiplomaticPost", "name": "Foreign Minister of Testland"},
        ],
        "facts": [
            {
                "id": "h",
                "type": "PostHolding",
                "participants": [{"entity": "p", "role": "holder"}],
                "post": "post",
                "time": time,
            }
        ],
    }


def test_holders_one_after_the_other_are_no_conflict() -> None:
    with open_graph() as graph:
        graph.load([holding_document("a", "Ana Diplomat", {"start": "2019", "end": "2023-03"})])
        graph.load([holding_document("b", "Bo Minister", {"start": "2023-03-10"})])
        assert graph.check() == []
        graph.load([holding_document("c", "Cy Envoy", {"start": "2023-06"})])
        (conflict,) = graph.check()
    assert conflict.kind == HOLDERS
    assert [v.label for v in conflict.values] == ["Bo Minister", "Cy Envoy"]


def test_same_name_organizations_without_an_identifier_are_candidates(
    store: EmbeddedStore,
) -> None:
    candidates = {c.label: c for c in of_kind(find_conflicts(store), CANDIDATE)}
    state = candidates["U.S. Department of State"]
    assert state.property == DIP + "Organization"
    assert [(v.value, [s.document for s in v.sources]) for v in state.values] == [
        (ID + "org/u-s-department-of-state", [doc("secretary-misread")]),
        (ID + "org/us-department-of-state", [DOC + "bloomberg-2023-10-14-blinken-wang-call"]),
    ]


def test_a_name_only_mention_of_an_identified_person_is_that_person_not_a_candidate(
    store: EmbeddedStore,
) -> None:
    # The misread document names "Joe Biden" without an id; the story gives Q6279.
    assert "Joe Biden" not in {c.label for c in find_conflicts(store)}
    rows = store.query(
        f"ASK {{ GRAPH <{doc('secretary-misread')}> {{ <{ID}person/Q6279> ?p ?o }} }}"
    )
    assert bool(rows)


def test_the_story_alone_has_no_conflicts() -> None:
    with open_graph() as graph:
        graph.load_file(STORY_FILE)
        assert graph.check() == []


def test_filters_keep_the_findings_of_a_node_or_a_document(store: EmbeddedStore) -> None:
    by_node = find_conflicts(store, nodes=[ID + "org/u-s-department-of-state"])
    assert [c.kind for c in by_node] == [CANDIDATE]
    by_person = find_conflicts(store, nodes=[ID + "person/matthew-miller"])
    assert [c.kind for c in by_person] == [HOLDERS]
    by_document = find_conflicts(store, documents=[doc("relation-june-20")])
    assert [c.kind for c in by_document] == [VALUES]


def test_blank_nodes_written_around_the_loader_leave_the_findings_as_they_are() -> None:
    # Blank nodes that would be in a finding of each kind if they were IRIs: events with the
    # participants, types and time of a stored event, a second holder of the Secretary's post,
    # a node with two start dates.
    with EmbeddedStore(None) as the_store:
        load_story(the_store, *sorted(CONFLICTS.glob("*.json")))
        expected = [c.to_dict() for c in find_conflicts(the_store)]
        event = select(
            the_store,
            f"SELECT ?e WHERE {{ ?e a <{DIP}Event> ; <{DIP}hasParticipant> ?a, ?b ; "
            f"<{DIP}startDate> ?d FILTER (?a != ?b) }} ORDER BY ?e LIMIT 1",
        )[0]["e"]
        the_store.update(
            f"PREFIX dip: <{DIP}> "
            "INSERT { GRAPH <http://example.org/raw> { _:e1 ?p ?o . _:e2 ?p ?o . } } "
            f"WHERE {{ <{event}> ?p ?o FILTER (?p != dip:summary) }} ; "
            "INSERT DATA { GRAPH <http://example.org/raw> { "
            f'_:h a dip:PostHolding ; dip:post <{SECRETARY}> ; dip:startDate "2023-01-01" . '
            '_:n a dip:Event ; dip:startDate "2023-06-01", "2024-06-01" . } }'
        )
        assert [c.to_dict() for c in find_conflicts(the_store)] == expected
        asked = [c.to_dict() for c in find_conflicts(the_store, nodes=[event])]
        assert asked == [c for c in expected if c in asked]


def test_the_load_report_lists_the_conflicts_of_the_nodes_it_touched() -> None:
    with open_graph() as graph:
        first = graph.load([relation_document("a", "2023-06-18", 0.8)])
        second = graph.load([relation_document("b", "2023-06-20", 0.6)])
    assert first.conflicts == []
    assert [c.kind for c in second.conflicts] == [VALUES]
    assert second.to_dict()["conflicts"][0]["property"] == DIP + "startDate"


def test_a_run_large_enough_for_bulk_mode_reports_the_same_conflicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One document a batch, bulk mode after the first: the run scans the whole store for
    # conflicts instead of asking about each node it touched.
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 1)
    docs = [relation_document("a", "2023-06-18", 0.8), relation_document("b", "2023-06-20", 0.6)]
    with open_graph(batch_size=1) as graph:
        report = graph.load(docs)
    with open_graph() as graph:
        expected = graph.load(docs)
    assert [c.to_dict() for c in report.conflicts] == [c.to_dict() for c in expected.conflicts]
    assert [c.kind for c in report.conflicts] == [VALUES]


def test_a_run_in_bulk_mode_lists_its_own_documents_as_a_smaller_run_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 1)
    before = [relation_document("a", "2023-06-18", 0.8)]
    run = [relation_document("b", "2023-06-20", 0.6), relation_document("c", "2023-06-18", 0.7)]
    with open_graph(batch_size=1) as graph:
        graph.load(before)
        report = graph.load(run)
    with open_graph() as graph:
        graph.load(before)
        expected = graph.load(run)
    assert [c.to_dict() for c in report.conflicts] == [c.to_dict() for c in expected.conflicts]
    (conflict,) = report.conflicts
    assert [([s.document for s in v.sources], v.unlisted) for v in conflict.values] == [
        ([DOC + "c"], 1),
        ([DOC + "b"], 0),
    ]


def misread_again(document_id: str) -> dict[str, Any]:
    """The spokesperson taken for the Secretary (secretary-misread.json), in another document."""
    data = json.loads((CONFLICTS / "secretary-misread.json").read_text(encoding="utf-8"))
    data["document"]["id"] = document_id
    return dict(data)


def test_a_load_report_lists_its_own_documents_among_the_sources_and_counts_the_others() -> None:
    with open_graph() as graph:
        graph.load_file(STORY_FILE)
        graph.load([misread_again("misread-1"), misread_again("misread-2")])
        report = graph.load([misread_again("misread-3")])
    (conflict,) = of_kind(report.conflicts, HOLDERS)
    blinken, miller = conflict.values
    assert (blinken.sources, blinken.unlisted) == ((), 1)
    assert [s.document for s in miller.sources] == [DOC + "misread-3"]
    assert miller.unlisted == 2
    assert report.to_dict()["conflicts"][0]["values"][1]["unlisted_sources"] == 2
    miller_line = conflict.describe().splitlines()[2]
    assert miller_line.endswith(f"{DOC}misread-3 (confidence 0.4) and 2 other document(s)")


@pytest.mark.parametrize("listed", [[], ["misread-1"], ["misread-1", "misread-2"]])
def test_the_holders_counted_and_not_read_are_the_full_findings_listed(
    listed: list[str], tmp_path: Path
) -> None:
    again = tmp_path / "again.jsonl"
    again.write_text("".join(json.dumps(misread_again(f"misread-{n}")) + "\n" for n in (1, 2)))
    with EmbeddedStore(None) as the_store:
        load_story(the_store, *sorted(CONFLICTS.glob("*.json")), again)
        graphs = {DOC + name for name in listed}
        asked = [SECRETARY, ID + "person/matthew-miller"]
        full = overlapping_holders(the_store, asked)
        counted = overlapping_holders(the_store, asked, listed=graphs)
    assert counted == listing(full, graphs)
    assert [v.unlisted + len(v.sources) for c in counted for v in c.values] == [1, 3]


def test_a_conflict_as_json_names_kind_node_property_values_and_sources(
    store: EmbeddedStore,
) -> None:
    data = of_kind(find_conflicts(store), VALUES)[0].to_dict()
    assert set(data) == {"kind", "node", "label", "property", "values"}
    assert set(data["values"][1]) == {"value", "label", "detail", "sources", "unlisted_sources"}
    assert data["values"][1]["sources"] == [
        {"document": doc("relation-june-18"), "confidence": 0.8}
    ]


# -- the command ---------------------------------------------------------------------------


def cli(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_check_exits_0_when_there_is_nothing_to_report(tmp_path: Path) -> None:
    store = ("--store-path", tmp_path / "store")
    assert cli("load", STORY_FILE, *store).exit_code == 0
    result = cli("check", *store)
    assert (result.exit_code, result.output) == (0, "no conflicts\n")


def test_check_exits_1_and_lists_conflicts_as_text_or_json(tmp_path: Path) -> None:
    store = ("--store-path", tmp_path / "store")
    loaded = cli("load", STORY_FILE, CONFLICTS / "secretary-misread.json", *store)
    assert loaded.exit_code == 0
    assert "conflict: post US Secretary of State" in loaded.output
    text = cli("check", *store)
    assert text.exit_code == 1
    assert "held by 2 people at once" in text.output
    assert "(confidence 0.4)" in text.output
    as_json = cli("check", "--format", "json", *store)
    assert as_json.exit_code == 1
    assert {c["kind"] for c in json.loads(as_json.output)} == {HOLDERS, CANDIDATE}
    only = cli("check", "--node", ID + "org/us-department-of-state", "--format", "json", *store)
    assert [c["kind"] for c in json.loads(only.output)] == [CANDIDATE]
    assert cli("check", "--node", "not an iri", *store).exit_code == 2


def test_check_has_help() -> None:
    result = cli("check", "--help")
    assert result.exit_code == 0
    assert "--format" in result.output


# -- the API -------------------------------------------------------------------------------


def test_get_check_answers_the_findings_as_json(store: EmbeddedStore) -> None:
    with app_client(store) as client:
        everything = client.get("/check").json()
        one = client.get("/check", params={"node": SECRETARY}).json()
        bad = client.get("/check", params={"node": "not an iri"})
    # conflicting values, a post held by two, one candidate pair
    assert everything["count"] == len(everything["conflicts"]) == 3
    assert [c["kind"] for c in one["conflicts"]] == [HOLDERS]
    assert bad.status_code == 400


def test_the_page_of_a_node_with_a_conflict_has_a_conflicts_section(store: EmbeddedStore) -> None:
    with app_client(store) as client:
        page = client.get("/id/post/us-secretary-of-state", headers={"Accept": "text/html"})
        quiet = client.get("/id/org/us-department-of-state", headers={"Accept": "text/html"})
        calm = client.get("/id/state/Q30", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert '<section id="conflicts"' in page.text
    assert 'aria-labelledby="conflicts-heading"' in page.text
    assert "held by 2 people at once" in page.text
    assert "Matthew Miller" in page.text and "0.4" in page.text
    assert '<section id="conflicts"' in quiet.text  # a candidate duplicate
    assert '<section id="conflicts"' not in calm.text


def test_a_graph_checks_documents_by_id() -> None:
    with open_graph() as graph:
        graph.load([relation_document("a", "2023-06-18", 0.8)])
        graph.load([relation_document("b", "2023-06-20", 0.6)])
        assert [c.kind for c in graph.check(documents=["a"])] == [VALUES]
        assert graph.check(node=ID + "state/Q30") == []


# -- one event reported at other precisions --------------------------------------------------


def meeting_report(document_id: str, time: dict[str, str] | None) -> dict[str, Any]:
    """The golden case's meeting, as another document reports it (at ``time``)."""
    doc: dict[str, Any] = json.loads((DATA / "mapping" / "meeting" / "facts.json").read_text())
    doc["document"]["id"] = document_id
    meeting = next(f for f in doc["facts"] if f["id"] == "meeting")
    meeting.pop("time", None)
    if time is not None:
        meeting["time"] = time
    return doc


def same_events(*docs: dict[str, Any]) -> list[Conflict]:
    with open_graph() as graph:
        graph.load(list(docs))
        return of_kind(graph.check(), SAME_EVENT)


def test_a_vague_report_two_precise_reports_fit_is_a_candidate_of_both() -> None:
    # A vague report that fits one precise report is that event (docs/mapping.md, "Events
    # across documents"); one that fits two stays a node of its own, and is reported.
    found = same_events(
        meeting_report("fifteenth", {"start": "2023-11-15"}),
        meeting_report("twentieth", {"start": "2023-11-20"}),
        meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
    )
    assert len(found) == 1
    assert sorted(v.detail or "" for v in found[0].values) == [
        "2023-11-01 to 2023-11-30",
        "2023-11-15",
        "2023-11-20",
    ]
    assert {s.document for v in found[0].values for s in v.sources} == {
        DOC + "fifteenth",
        DOC + "twentieth",
        DOC + "vague",
    }


def test_meetings_at_times_that_cannot_meet_are_not_candidates() -> None:
    assert not same_events(
        meeting_report("november", {"start": "2023-11-15"}),
        meeting_report("february", {"start": "2024-02-01"}),
    )


def test_a_month_and_two_days_in_it_are_candidates_and_an_undated_report_is_not_compared() -> None:
    found = same_events(
        meeting_report("month", {"start": "2023-11"}),
        meeting_report("day", {"start": "2023-11-15"}),
        meeting_report("other-day", {"start": "2023-11-16"}),
        meeting_report("undated", None),
    )
    assert [len(c.values) for c in found] == [3]


def test_runs_of_overlapping_reports_months_apart_are_two_findings() -> None:
    # One pair of participants meets often; only reports whose times chain together may be
    # one event.
    docs = [
        meeting_report("month", {"start": "2023-11"}),
        meeting_report("day", {"start": "2023-11-15"}),
        meeting_report("other-day", {"start": "2023-11-16"}),
        meeting_report("spring", {"earliest": "2024-03-01", "latest": "2024-04-30"}),
        meeting_report("march", {"start": "2024-03-10"}),
        meeting_report("april", {"start": "2024-04-20"}),
    ]
    with open_graph() as graph:
        graph.load(docs)
        whole = of_kind(graph.check(), SAME_EVENT)
        assert sorted(sorted(v.detail or "" for v in c.values) for c in whole) == [
            ["2023-11", "2023-11-15", "2023-11-16"],
            ["2024-03-01 to 2024-04-30", "2024-03-10", "2024-04-20"],
        ]
        [march] = [v.value for c in whole for v in c.values if v.detail == "2024-03-10"]
        asked = of_kind(graph.check(node=march), SAME_EVENT)
        assert [c.to_dict() for c in asked] == [
            c.to_dict() for c in whole if march in {v.value for v in c.values}
        ]


def with_a_third_participant(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with a third person at its meeting."""
    doc["entities"].append({"id": "cy", "type": "Person", "name": "Cy Envoy"})
    meeting = next(f for f in doc["facts"] if f["id"] == "meeting")
    meeting["participants"].append({"entity": "cy", "role": "party"})
    return doc


def test_the_findings_about_a_node_are_the_whole_stores_that_involve_it() -> None:
    # The check of a load's nodes reads only the events with exactly the participants of an
    # asked event: a meeting with a third person at the same time is another group.
    docs = [
        meeting_report("fifteenth", {"start": "2023-11-15"}),
        meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
        meeting_report("twentieth", {"start": "2023-11-20"}),
        with_a_third_participant(meeting_report("with-cy", {"start": "2023-11-15"})),
        with_a_third_participant(meeting_report("with-cy-later", {"start": "2023-11-20"})),
        with_a_third_participant(meeting_report("with-cy-vague", {"start": "2023-11"})),
    ]
    with open_graph() as graph:
        graph.load(docs)
        whole = of_kind(graph.check(), SAME_EVENT)
        assert [len(c.values) for c in whole] == [3, 3]
        for finding in whole:
            for value in finding.values:
                asked = of_kind(graph.check(node=value.value), SAME_EVENT)
                assert [c.to_dict() for c in asked] == [finding.to_dict()]


def assert_each_node_finds_its_runs(graph: Any, whole: list[Conflict]) -> None:
    """The findings about each node of ``whole`` are the whole store's that name it."""
    for finding in whole:
        for value in finding.values:
            asked = of_kind(graph.check(node=value.value), SAME_EVENT)
            assert [c.to_dict() for c in asked] == [
                c.to_dict() for c in whole if value.value in {v.value for v in c.values}
            ]


def test_a_run_reached_through_ever_wider_reports_is_found_from_each_of_its_reports() -> None:
    # The check of a node reads the events near it in time (some months either side), then
    # those near the wider ones it found, until the run is whole: from the 15th, "November"
    # and the span from November to July, then the June meetings, months beyond the first
    # read (loader/conflicts/events.py, _near_wanted).
    docs = [
        meeting_report("fifteenth", {"start": "2023-11-15"}),
        meeting_report("sixteenth", {"start": "2023-11-16"}),
        meeting_report("november", {"start": "2023-11"}),
        meeting_report("first-half", {"earliest": "2023-11-20", "latest": "2024-06-30"}),
        meeting_report("june-25", {"start": "2024-06-25"}),
        meeting_report("june-26", {"start": "2024-06-26"}),
        meeting_report("december", {"start": "2024-12-01"}),
    ]
    with open_graph() as graph:
        graph.load(docs)
        whole = of_kind(graph.check(), SAME_EVENT)
        assert [len(c.values) for c in whole] == [6]
        assert_each_node_finds_its_runs(graph, whole)


def random_times(seed: int, count: int, *, years: bool = False) -> list[dict[str, str]]:
    """Meeting times of every precision within four months (instants with an offset, spans of
    up to two months, and with ``years`` spans of up to two and a half years too)."""
    rng = random.Random(seed)
    forms = ["year", "month", "day", "day", "instant", "span", *(["years"] if years else [])]
    times: list[dict[str, str]] = []
    for _ in range(count):
        day = dt.date(2023, 10, 1) + dt.timedelta(days=rng.randrange(120))
        form = rng.choice(forms)
        if form == "year":
            times.append({"start": str(day.year)})
        elif form == "month":
            times.append({"start": day.isoformat()[:7]})
        elif form == "day":
            times.append({"start": day.isoformat()})
        elif form == "instant":
            times.append({"start": f"{day.isoformat()}T{rng.randrange(24):02d}:00:00-05:00"})
        else:
            longest = 60 if form == "span" else 900
            later = day + dt.timedelta(days=rng.randrange(1, longest))
            times.append({"earliest": day.isoformat(), "latest": later.isoformat()})
    return times


@pytest.mark.parametrize("reach", [90, 0], ids=["reach-90-days", "reach-none"])
@pytest.mark.parametrize("lookups", [10_000, 0], ids=["by-lookups", "by-scans"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_node_finds_what_the_whole_store_finds_about_it_whatever_the_times(
    seed: int, lookups: int, reach: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many events' times are joined by a scan of the store's times, few looked up one by one
    # (events.py, _within); the windows reach months beyond the events or not at all (more
    # rounds): every way finds the same.
    monkeypatch.setattr(events, "_LOOKUPS", lookups)
    monkeypatch.setattr(events, "_REACH", dt.timedelta(days=reach))
    times = random_times(seed, 14)
    with open_graph() as graph:
        graph.load([meeting_report(f"report-{i}", time) for i, time in enumerate(times)])
        whole = of_kind(graph.check(), SAME_EVENT)
        assert whole
        assert_each_node_finds_its_runs(graph, whole)


def test_a_candidate_same_event_reads_as_one_headline_and_a_line_per_report() -> None:
    [found] = same_events(
        meeting_report("fifteenth", {"start": "2023-11-15"}),
        meeting_report("twentieth", {"start": "2023-11-20"}),
        meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
    )
    lines = found.describe().splitlines()
    assert lines[0].startswith("3 reports that may be one event: ")
    assert len(lines) == 4


_INSTANTS = st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2023, 1, 3))


@hypothesis_settings(max_examples=200, deadline=None)
@given(spans=st.lists(st.tuples(_INSTANTS, _INSTANTS), max_size=12))
def test_the_sweep_finds_exactly_the_overlapping_pairs_of_every_pair_compared(
    spans: list[tuple[dt.datetime, dt.datetime]],
) -> None:
    """Candidate same events pair the events of a group whose spans overlap; the sweep that
    finds them (events.py, ``_overlapping``) skips pairs far apart in time, and must miss none,
    also for spans a wrong earliest and latest start turn around."""
    named = {f"e{i}": span for i, span in enumerate(spans)}
    swept = {frozenset(pair) for pair in _overlapping(list(named), named)}
    compared = {
        frozenset((a, b)) for a, b in combinations(named, 2) if _overlap(named[a], named[b])
    }
    assert swept == compared
