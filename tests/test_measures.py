"""An event's measures and a place's coordinates in the facts format: typed, range-checked,
written where one source's statements live (the document's attestation, the document's own
point), so two sources' numbers for one event stay side by side (docs/facts.md, "Measures and
coordinates").

tests/data/facts/measures.jsonl holds two documents, written by hand, that report one drone
strike on Dnipro: a wire story with GDELT-like numbers and two fatalities, and a monitor that
counts four and puts the city at other coordinates. tests/data/facts/measure-errors.jsonl holds
one bad document per rule, in the order of the tests below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from diplograph.graph import Graph
from diplograph.loader.config import Settings
from diplograph.loader.facts import SourceRecord, read_path
from tests.conftest import DATA

MEASURES = DATA / "facts" / "measures.jsonl"
ERRORS = DATA / "facts" / "measure-errors.jsonl"
GEO = "PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>\n"


@pytest.fixture
def graph(settings: Settings) -> Iterator[Graph]:
    with Graph(settings) as g:
        report = g.load_file(MEASURES)
        assert report.documents_loaded == 2 and not report.rejections, report.rejections
        yield g


def _error(document_id: str) -> SourceRecord:
    record = next(r for r in read_path(ERRORS) if r.record_id == document_id)
    assert record.error is not None
    return record


def test_measures_are_typed_on_the_documents_attestation(graph: Graph) -> None:
    rows = graph.query(
        """SELECT ?g ?tone ?m ?s ?a ?tg ?tm WHERE {
             ?e a dip:Attack ; dip:attestedBy ?att .
             ?att prov:wasDerivedFrom/dcterms:identifier "doc-strike-wire" ;
                  dip:goldsteinScale ?g ; dip:averageTone ?tone ; dip:mentionCount ?m ;
                  dip:sourceCount ?s ; dip:articleCount ?a .
             BIND(DATATYPE(?g) AS ?tg) BIND(DATATYPE(?m) AS ?tm) }"""
    )
    assert [(r["g"], r["tone"], r["m"], r["s"], r["a"]) for r in rows] == [
        (Decimal("-10"), Decimal("-7.25"), 12, 3, 9)
    ]
    assert str(rows[0]["tg"]).endswith("#decimal") and str(rows[0]["tm"]).endswith("#integer")


def test_a_goldstein_filter_finds_the_event(graph: Graph) -> None:
    rows = graph.query(
        "SELECT DISTINCT ?e WHERE { ?e dip:attestedBy/dip:goldsteinScale ?g FILTER(?g <= -5) }"
    )
    assert len(rows) == 1


def test_two_sources_disagreeing_on_fatalities_keep_both_on_one_event(graph: Graph) -> None:
    rows = graph.query(
        """SELECT ?e ?doc ?n WHERE {
             ?e a dip:Attack ; dip:attestedBy ?att .
             ?att dip:fatalities ?n ; prov:wasDerivedFrom/dcterms:identifier ?doc }
           ORDER BY ?n"""
    )
    assert [(r["doc"], r["n"]) for r in rows] == [
        ("doc-strike-wire", 2),
        ("doc-strike-monitor", 4),
    ]
    assert len({r["e"] for r in rows}) == 1  # one event node, two reports


def test_two_fatality_counts_for_one_event_are_a_conflict(graph: Graph) -> None:
    [conflict] = [c for c in graph.check() if c.property.endswith("#fatalities")]
    assert conflict.kind == "conflicting-values"
    assert [(v.value, [s.document for s in v.sources]) for v in conflict.values] == [
        ("2", [graph.graph_iri("doc-strike-wire")]),
        ("4", [graph.graph_iri("doc-strike-monitor")]),
    ]


def test_the_same_fatality_count_from_two_documents_is_no_conflict(settings: Settings) -> None:
    wire, monitor = (json.loads(line) for line in MEASURES.read_text().splitlines())
    monitor["facts"][0]["measures"]["fatalities"] = 2
    with Graph(settings) as g:
        assert g.load([wire, monitor]).documents_loaded == 2
        assert not [c for c in g.check() if c.property.endswith("#fatalities")]


def test_each_document_gives_the_place_its_own_point(graph: Graph) -> None:
    rows = graph.query(
        GEO
        + """SELECT ?doc ?lat ?long WHERE {
             ?place rdfs:label "Dnipro"@en ; dip:position ?p .
             ?p a dip:Point ; geo:lat ?lat ; geo:long ?long ;
                prov:wasDerivedFrom/dcterms:identifier ?doc }
           ORDER BY ?lat"""
    )
    assert [(r["doc"], r["lat"], r["long"]) for r in rows] == [
        ("doc-strike-wire", Decimal("48.45"), Decimal("34.9833")),
        ("doc-strike-monitor", Decimal("48.4647"), Decimal("35.0462")),
    ]


def test_a_measure_out_of_its_range_names_record_field_and_rule() -> None:
    record = _error("bad-goldstein")
    assert record.error is not None
    where = record.error.location
    assert (where.line, where.record, where.field) == (
        1,
        "bad-goldstein#strike",
        "facts[0].measures.goldstein",
    )
    assert "greater than or equal to -10" in record.error.rule


def test_a_count_must_be_a_whole_number() -> None:
    record = _error("bad-fatalities")
    assert record.error is not None
    assert record.error.location.field == "facts[0].measures.fatalities"
    assert "integer" in record.error.rule


def test_a_latitude_out_of_range_is_rejected() -> None:
    record = _error("bad-latitude")
    assert record.error is not None
    assert record.error.location.field == "entities[0].latitude"
    assert "less than or equal to 90" in record.error.rule


def test_a_latitude_needs_its_longitude() -> None:
    record = _error("lone-latitude")
    assert record.error is not None
    assert record.error.location.field == "entities[0].longitude"
    assert record.error.rule == "give longitude with latitude: a point needs both"


def test_only_places_have_coordinates() -> None:
    record = _error("person-coordinates")
    assert record.error is not None
    assert record.error.location.field == "entities[0].latitude"
    assert "not a Person" in record.error.rule


def test_a_situation_has_no_measures() -> None:
    record = _error("stance-measures")
    assert record.error is not None
    assert record.error.location.field == "facts[0].measures"
    assert "not a Stance" in record.error.rule
