"""Loading: valid documents committed whole, invalid ones rejected whole, nothing lost."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import QuerySolutions

from diplograph.loader.config import Settings, load_settings
from diplograph.loader.errors import NotFoundError, RejectedError
from diplograph.loader.facts import SourceRecord, parse_document, read_path
from diplograph.loader.namespaces import ONTOLOGY_IRI, sparql_prologue
from diplograph.loader.pipeline import Loader, document_graphs, retract
from diplograph.loader.report import Rejection
from diplograph.loader.steps import CONFLICTS_OF_RUN, IDENTITIES
from diplograph.loader.store import Store
from tests.conftest import DATA, EXAMPLES

FACTS = DATA / "facts"
BASE = "https://w3id.org/diplograph/"


@pytest.fixture
def loader(memory_store: Store, settings: Settings) -> Loader:
    return Loader(memory_store, settings)


def _select(store: Store, query: str) -> list[dict[str, str]]:
    result = store.query(sparql_prologue() + query)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def _minimal(**document: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FACTS / "minimal.json").read_text())
    doc["document"].update(document)
    return doc


def _record(doc: dict[str, Any], line: int = 1) -> SourceRecord:
    return parse_document(doc, source="test.jsonl", line=line)


def test_the_story_loads_completely(loader: Loader, memory_store: Store) -> None:
    report = loader.load(read_path(EXAMPLES / "story.json"))
    assert report.rejections == []
    assert (report.documents_loaded, report.documents_rejected) == (1, 0)
    # The story maps to 837 triples, plus the one that keeps its facts document
    # (examples/story.json; a mapping change shows here).
    assert (report.triples_loaded, report.triples_removed) == (838, 0)
    graph = f"{BASE}id/doc/bloomberg-2023-10-14-blinken-wang-call"
    assert document_graphs(memory_store, loader.settings) == [graph]
    assert len(memory_store.graph_triples(graph)) == report.triples_loaded
    assert ONTOLOGY_IRI in memory_store.graph_names()


def test_loading_the_same_document_again_changes_nothing(
    loader: Loader, memory_store: Store
) -> None:
    loader.load([_record(_minimal())])
    before = memory_store.count()
    report = loader.load([_record(_minimal())])
    assert (report.documents_loaded, report.documents_unchanged) == (0, 1)
    assert memory_store.count() == before


def test_a_new_loader_on_the_same_store_does_not_rewrite_the_ontology_graph(
    loader: Loader, memory_store: Store
) -> None:
    """The ontology's blank nodes get store labels; the graph is compared up to them."""
    assert loader.ensure_ontology() is True
    assert Loader(memory_store, loader.settings).ensure_ontology() is False


def test_a_changed_document_replaces_its_graph_without_leftovers(
    loader: Loader, memory_store: Store
) -> None:
    loader.load([_record(_minimal())])
    changed = _minimal()
    changed["entities"][1]["name"] = "Bea Minister"
    report = loader.load([_record(changed)])
    assert report.documents_loaded == 1
    assert report.triples_removed > 0
    names = {r["n"] for r in _select(memory_store, "SELECT ?n { ?p a dip:Person ; rdfs:label ?n }")}
    assert names == {"Ana Diplomat", "Bea Minister"}


def test_an_invalid_document_is_not_written_and_the_valid_ones_are(
    loader: Loader, memory_store: Store
) -> None:
    rejected: list[Rejection] = []
    report = loader.load(read_path(FACTS / "three.jsonl"), on_reject=rejected.append)
    assert (report.documents_loaded, report.documents_rejected) == (2, 1)
    graphs = document_graphs(memory_store, loader.settings)
    assert graphs == [f"{BASE}id/doc/doc-1", f"{BASE}id/doc/doc-3"]
    [rejection] = rejected
    assert (rejection.line, rejection.record) == (2, "doc-2")
    assert rejection.raw["document"]["id"] == "doc-2"
    violation = rejection.violations[0]
    assert violation["field"] == "facts[0]"
    assert violation["focus_node"].startswith(f"{BASE}id/event/phonecall-")
    assert violation["message"]
    assert violation["constraint"]


def test_each_document_is_judged_alone_even_in_one_batch(
    memory_store: Store, tmp_path: Path
) -> None:
    for size in (1, 2, 50):
        store_settings = load_settings(store="memory", batch_size=size)
        store_loader = Loader(memory_store, store_settings)
        for g in document_graphs(memory_store, store_settings):
            retract(memory_store, store_settings, g.rsplit("/", 1)[1])
        report = store_loader.load(read_path(FACTS / "three.jsonl"))
        assert (report.documents_loaded, report.documents_rejected) == (2, 1), size


def test_format_errors_reject_the_record_naming_the_field(loader: Loader) -> None:
    report = loader.load(read_path(FACTS / "format-errors.jsonl"))
    assert report.documents_rejected == 5
    fields = [r.violations[0]["field"] for r in report.rejections]
    assert fields == [
        "facts[0].colour",
        "facts[0].time.start",
        "facts[0].confidence",
        "facts[0].participants[1].entity",
        None,
    ]


def test_strict_stops_at_the_first_invalid_document_keeping_the_ones_before(
    loader: Loader, memory_store: Store
) -> None:
    with pytest.raises(RejectedError, match="doc-2"):
        loader.load(read_path(FACTS / "three.jsonl"), strict=True)
    assert document_graphs(memory_store, loader.settings) == [f"{BASE}id/doc/doc-1"]


def test_a_dry_run_writes_nothing(loader: Loader, memory_store: Store) -> None:
    report = loader.load(read_path(FACTS / "three.jsonl"), dry_run=True)
    assert (report.documents_loaded, report.documents_rejected) == (2, 1)
    assert memory_store.count() == 0


def test_a_later_version_in_the_same_batch_wins(loader: Loader, memory_store: Store) -> None:
    newer = _minimal()
    newer["entities"][1]["name"] = "Bea Minister"
    loader.load([_record(_minimal(), 1), _record(newer, 2)])
    names = {r["n"] for r in _select(memory_store, "SELECT ?n { ?p a dip:Person ; rdfs:label ?n }")}
    assert names == {"Ana Diplomat", "Bea Minister"}


def test_the_same_call_from_two_documents_is_one_event_with_two_sources(
    loader: Loader, memory_store: Store
) -> None:
    loader.load([*read_path(FACTS / "minimal.json"), *read_path(FACTS / "second-source.json")])
    rows = _select(
        memory_store,
        "SELECT ?e (COUNT(DISTINCT ?d) AS ?n) { ?e a dip:PhoneCall ; prov:wasDerivedFrom ?d } "
        "GROUP BY ?e",
    )
    assert len(rows) == 1
    assert rows[0]["n"] == "2"
    confidences = _select(
        memory_store,
        "SELECT DISTINCT ?a ?c { ?e a dip:PhoneCall ; dip:attestedBy ?a . ?a dip:confidence ?c }",
    )
    assert sorted(r["c"] for r in confidences) == ["0.6", "0.9"]


def test_retracting_a_document_keeps_what_other_documents_attest(
    loader: Loader, memory_store: Store
) -> None:
    loader.load([*read_path(FACTS / "minimal.json"), *read_path(FACTS / "second-source.json")])
    removed = retract(memory_store, loader.settings, "doc-minimal")
    assert removed > 0
    rows = _select(memory_store, "SELECT ?d { ?e a dip:PhoneCall ; prov:wasDerivedFrom ?d }")
    assert [r["d"] for r in rows] == [f"{BASE}id/doc/doc-second-source"]
    retract(memory_store, loader.settings, "doc-second-source")
    assert _select(memory_store, "SELECT ?e { ?e a dip:PhoneCall }") == []


def test_retracting_an_unknown_document_says_so(loader: Loader, memory_store: Store) -> None:
    with pytest.raises(NotFoundError, match="no-such-doc"):
        retract(memory_store, loader.settings, "no-such-doc")


def test_a_load_told_of_its_steps_reads_the_identities_first_and_once_a_process(
    loader: Loader,
) -> None:
    announced: list[str] = []

    def steps(label: str) -> contextlib.nullcontext[None]:
        announced.append(label)
        return contextlib.nullcontext()

    loader.load(read_path(EXAMPLES / "story.json"), steps=steps)
    loader.load([_record(_minimal(id="told-of-steps"))], steps=steps)
    assert announced == [IDENTITIES, CONFLICTS_OF_RUN, CONFLICTS_OF_RUN]
