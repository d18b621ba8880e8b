"""Imported actors land on the same nodes as the facts extracted from articles: China given as
the CAMEO code CHN (GDELT), as the Wikidata id Q148 (POLECAT) and by the sample story is one
node, and one query joins an imported event with the story's facts (docs/importers.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from diplograph.graph import Graph
from diplograph.loader.config import Settings
from diplograph.loader.iris import IriMinter
from diplograph.loader.summary import Summary
from tests.conftest import DATA, STORY_FILE

IMPORTERS = DATA / "importers"


@pytest.fixture
def graph(settings: Settings) -> Iterator[Graph]:
    with Graph(settings) as g:
        assert g.load_file(STORY_FILE).documents_rejected == 0
        g.import_file("gdelt", IMPORTERS / "gdelt-events.tsv")
        g.import_file("polecat", IMPORTERS / "polecat-events.tsv")
        g.import_file("acled", IMPORTERS / "acled-events.csv")
        yield g


def test_china_from_gdelt_polecat_and_the_story_is_one_node(graph: Graph) -> None:
    rows = graph.query(
        """SELECT DISTINCT ?china WHERE {
             ?china a dip:State ; owl:sameAs <http://www.wikidata.org/entity/Q148> }"""
    )
    assert len(rows) == 1
    china = rows[0]["china"]
    sources = graph.query(
        f"""SELECT DISTINCT ?id WHERE {{
              ?event dip:hasParticipant ?who ; prov:wasDerivedFrom ?doc .
              ?doc dcterms:identifier ?id .
              FILTER(?who = <{china}> || EXISTS {{ ?who dip:governs <{china}> }})
              FILTER(STRSTARTS(?id, "gdelt-") || STRSTARTS(?id, "polecat-")
                     || STRSTARTS(?id, "bloomberg-")) }}"""
    )
    prefixes = {row["id"].split("-")[0] for row in sources}
    assert prefixes == {"gdelt", "polecat", "bloomberg"}


def test_a_person_with_the_same_wikidata_id_is_one_node(graph: Graph) -> None:
    rows = graph.query(
        """SELECT DISTINCT ?p WHERE {
             ?p a dip:Person ; owl:sameAs <http://www.wikidata.org/entity/Q6279> }"""
    )
    assert len(rows) == 1  # Joe Biden: the story's and POLECAT's


def test_state_forces_from_gdelt_and_acled_are_one_node(graph: Graph) -> None:
    rows = graph.query(
        """SELECT DISTINCT ?body WHERE { ?body a dip:GovernmentBody ; rdfs:label ?l
             FILTER(STR(?l) = "Israel armed forces") }"""
    )
    assert len(rows) == 1


def test_one_query_joins_an_imported_event_with_the_storys_facts(graph: Graph) -> None:
    """The worked example of docs/importers.md: GDELT events whose participant is (the
    government of) a state that the story says Blinken asked to use its influence."""
    rows = graph.query(
        """SELECT DISTINCT ?code ?url WHERE {
             ?appeal a dip:Appeal ; dip:recipient ?state ; prov:wasDerivedFrom ?story .
             ?story dcterms:identifier "bloomberg-2023-10-14-blinken-wang-call" .
             ?event dip:cameoCode ?c ; dip:hasParticipant ?who ; prov:wasDerivedFrom ?article .
             ?article schema:url ?url .
             FILTER(?who = ?state || EXISTS { ?who dip:governs ?state })
             BIND(STRAFTER(STR(?c), STR(cameo:)) AS ?code) }
           ORDER BY ?code"""
    )
    assert rows, "no imported event shares a state with the story's appeal"
    assert all(row["url"].startswith("https://") for row in rows)


def test_the_summary_stays_exact_after_imports(graph: Graph) -> None:
    """Imported documents are committed with the summary kept in the same transaction: it is
    current, and a rebuild from scratch writes the same triples."""
    summary = Summary(graph.store, graph.settings.base_iri)
    assert summary.state() == "current"
    name = IriMinter(graph.settings.base_iri).summary_graph()
    kept = graph.store.graph_triples(name)
    summary.rebuild()
    assert kept and graph.store.graph_triples(name) == kept
