"""Curation: a curator says two nodes are the same or different; the statement is data in the
store, survives loads and retractions, applies to later loads, and settles a candidate pair."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from diplograph.cli import main
from diplograph.graph import Graph, open_graph
from diplograph.loader.conflicts import CANDIDATE, SAME_EVENT
from diplograph.loader.curation import Curation
from diplograph.loader.errors import InputError, NotFoundError
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import WRITE_AUTH, app_client

PERSON = DEFAULT_BASE_IRI + "id/person/"
#: Two people called Joe Biden, each with a Wikidata id, and a document naming "Joe Biden"
#: without one: which of them it means is not known, so it stays a node of its own, a candidate.
WITH_ID, OTHER, BY_NAME = PERSON + "Q6279", PERSON + "Q6270", PERSON + "joe-biden"


def biden_document(doc_id: str, wikidata: str | None) -> dict[str, Any]:
    """A document in which Joe Biden makes a statement (with his Wikidata id, or without)."""
    person: dict[str, Any] = {"id": "p", "type": "Person", "name": "Joe Biden"}
    if wikidata:
        person["wikidata"] = wikidata
    return {
        "document": {"id": doc_id, "published": "2023-10-15"},
        "extraction": {"tool": "test", "version": "1", "time": "2023-10-15T08:00:00Z"},
        "entities": [person],
        "facts": [
            {
                "id": "f",
                "type": "Statement",
                "participants": [{"entity": "p", "role": "speaker"}],
                "time": {"start": "2023-10-14"},
            }
        ],
    }


def candidates(graph: Graph) -> list[set[str]]:
    return [{v.value for v in c.values} for c in graph.check() if c.kind == CANDIDATE]


def speaker_in(graph: Graph, doc_id: str) -> str:
    """The node document ``doc_id`` says made the statement."""
    document = IriMinter(DEFAULT_BASE_IRI).document(doc_id)
    (row,) = graph.query(f"SELECT ?p WHERE {{ GRAPH <{document}> {{ ?s dip:speaker ?p }} }}")
    return str(row["p"])


@pytest.fixture
def graph() -> Any:
    with open_graph() as g:
        g.load(
            [
                biden_document("a", "Q6279"),
                biden_document("b", None),
                biden_document("c", "Q6270"),
            ]
        )
        yield g


def test_a_name_two_identified_people_share_is_a_candidate_of_both(graph: Graph) -> None:
    assert candidates(graph) == [{WITH_ID, OTHER, BY_NAME}]
    assert speaker_in(graph, "b") == BY_NAME


def test_saying_the_name_is_not_one_of_them_makes_it_the_other(graph: Graph) -> None:
    graph.curate("different", BY_NAME, OTHER)
    assert speaker_in(graph, "b") == WITH_ID
    assert candidates(graph) == []


def test_a_same_statement_makes_the_name_that_person(graph: Graph) -> None:
    graph.curate("same", OTHER, BY_NAME)
    assert speaker_in(graph, "b") == OTHER
    assert candidates(graph) == []
    rows = graph.query(f"ASK {{ <{BY_NAME}> owl:sameAs|^owl:sameAs <{OTHER}> }}")
    assert rows == [{"ask": True}]


def test_withdrawing_the_statement_undoes_it(graph: Graph) -> None:
    graph.curate("same", WITH_ID, BY_NAME)
    withdrawn = graph.uncurate(BY_NAME, WITH_ID)
    assert withdrawn == Curation(WITH_ID, BY_NAME, "same")
    assert speaker_in(graph, "b") == BY_NAME
    assert candidates(graph) == [{WITH_ID, OTHER, BY_NAME}]


def test_a_later_statement_about_a_pair_replaces_the_earlier_one(graph: Graph) -> None:
    graph.curate("same", WITH_ID, BY_NAME)
    graph.curate("different", WITH_ID, BY_NAME)
    assert graph.curations() == [Curation(WITH_ID, BY_NAME, "different")]
    assert speaker_in(graph, "b") == OTHER


def test_a_statement_survives_retracting_and_reloading_the_documents(graph: Graph) -> None:
    graph.curate("different", OTHER, BY_NAME)
    graph.retract("b")
    assert graph.curations() == [Curation(OTHER, BY_NAME, "different")]
    graph.load([biden_document("b", None)])
    assert speaker_in(graph, "b") == WITH_ID


def test_a_statement_applies_to_documents_loaded_after_it() -> None:
    with open_graph() as g:
        g.load([biden_document("a", "Q6279"), biden_document("c", "Q6270")])
        g.curate("same", WITH_ID, BY_NAME)
        g.load([biden_document("b", None)])
        assert speaker_in(g, "b") == WITH_ID
        assert candidates(g) == []


def test_the_summary_stays_exact_through_statements_and_withdrawals(graph: Graph) -> None:
    from tests.test_summary import recount, stored

    summary = IriMinter(DEFAULT_BASE_IRI).summary_graph()
    graph.curate("different", OTHER, BY_NAME)
    assert stored(graph.store, summary) == recount(graph.store, summary)
    graph.uncurate(OTHER, BY_NAME)
    assert stored(graph.store, summary) == recount(graph.store, summary)


@pytest.mark.parametrize(
    ("verdict", "a", "b", "message"),
    [
        ("alike", WITH_ID, BY_NAME, "expected 'same' or 'different'"),
        ("same", "joe", BY_NAME, "is not an IRI"),
        ("same", WITH_ID, WITH_ID, "was given twice"),
    ],
)
def test_a_bad_statement_is_refused_naming_what_is_wrong(
    graph: Graph, verdict: str, a: str, b: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        graph.curate(verdict, a, b)
    assert graph.curations() == []


def test_withdrawing_a_statement_nobody_made_is_not_found(graph: Graph) -> None:
    with pytest.raises(NotFoundError, match="no curation"):
        graph.uncurate(WITH_ID, BY_NAME)


def test_a_curated_pair_of_events_is_one_event_and_no_longer_a_candidate() -> None:
    from tests.test_conflicts import meeting_report

    with open_graph() as g:
        g.load(
            [
                meeting_report("fifteenth", {"start": "2023-11-15"}),
                meeting_report("twentieth", {"start": "2023-11-20"}),
                meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
            ]
        )
        [found] = [c for c in g.check() if c.kind == SAME_EVENT]
        vague = next(v.value for v in found.values if "2023-11-01" in v.value)
        fifteenth = next(v.value for v in found.values if "2023-11-15" in v.value)
        g.curate("same", vague, fifteenth)
        assert [c for c in g.check() if c.kind == SAME_EVENT] == []
        rows = g.query("SELECT DISTINCT ?m WHERE { ?m a dip:Meeting }")
        assert len(rows) == 2


# -- the command and the HTTP API ------------------------------------------------------------


def cli(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_the_command_states_lists_and_withdraws(tmp_path: Path) -> None:
    store = ("--store-path", tmp_path / "store")
    assert cli("curate", "different", WITH_ID, BY_NAME, *store).exit_code == 0
    listed = cli("curate", "list", "--format", "json", *store)
    assert json.loads(listed.output) == [{"verdict": "different", "nodes": [WITH_ID, BY_NAME]}]
    assert cli("curate", "remove", BY_NAME, WITH_ID, *store).exit_code == 0
    again = cli("curate", "remove", BY_NAME, WITH_ID, *store)
    assert again.exit_code == 2 and "no curation" in again.output


def test_the_http_api_needs_the_write_token_to_state_and_anyone_may_read() -> None:
    store = EmbeddedStore(None)
    body = {"verdict": "same", "nodes": [WITH_ID, BY_NAME]}
    with app_client(store) as client:
        assert client.post("/curation", json=body).status_code in (401, 403)
        created = client.post("/curation", json=body, headers=WRITE_AUTH)
        assert created.status_code == 201
        assert client.get("/curation").json() == [{"verdict": "same", "nodes": [WITH_ID, BY_NAME]}]
        params = {"a": WITH_ID, "b": BY_NAME}
        assert client.delete("/curation", params=params, headers=WRITE_AUTH).status_code == 200
        assert client.delete("/curation", params=params, headers=WRITE_AUTH).status_code == 404
        assert client.get("/curation").json() == []
    store.close()
