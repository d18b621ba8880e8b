"""ACLED into the validated graph: actor types become the right classes (militias are the point
of this source), event types map to the ontology, fatalities, location, sources and notes are
kept, associated actors join their event, a bad row is rejected alone.

The fixture (tests/data/importers/acled-events.csv) follows the ACLED export's columns; its
rows are described where they are used.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from diplograph.graph import Graph
from diplograph.loader.config import Settings
from diplograph.loader.facts import SourceRecord
from diplograph.loader.importers import ImportNotes
from diplograph.loader.importers.acled import EVENT_TYPES, acled_records
from diplograph.loader.importers.codes import code_lists
from tests.conftest import DATA

ACLED = DATA / "importers" / "acled-events.csv"


def _records(notes: ImportNotes | None = None) -> list[SourceRecord]:
    return list(acled_records([ACLED], notes=notes))


def _document(event_id: str) -> dict[str, Any]:
    docs = [r.raw for r in _records() if r.document is not None]
    return next(d for d in docs if d["document"]["id"] == f"acled-{event_id}")


def _entity(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in doc["entities"] if e["name"] == name)


@pytest.fixture
def graph(settings: Settings) -> Iterator[Graph]:
    with Graph(settings) as g:
        yield g


def test_every_event_type_maps_to_a_listed_cameo_code() -> None:
    codes = code_lists().cameo_events
    assert all(code is None or code in codes for code, _ in EVENT_TYPES.values())
    assert len({kind for kind, _ in EVENT_TYPES}) == 6  # ACLED's six event types


def test_one_document_per_event_named_by_the_acled_id() -> None:
    doc = _document("PSE1001")
    assert doc["document"] == {
        "id": "acled-PSE1001",
        "title": "Armed clash in Gaza City",
        "publisher": "ACLED",
        "published": "2023-10-15",
    }
    assert doc["extraction"]["time"] == "2023-10-17T00:00:00Z"  # the row's timestamp


def test_militias_are_militias_and_rebels_armed_groups() -> None:
    fulani = _entity(_document("NIG2002"), "Fulani Ethnic Militia (Nigeria)")
    assert fulani["type"] == "Militia" and fulani["identifiers"] == {
        "acled": "Fulani Ethnic Militia (Nigeria)"
    }
    assert _entity(_document("SDN5005"), "Rapid Support Forces")["type"] == "Militia"
    assert _entity(_document("SOM6006"), "Al Shabaab")["type"] == "NonStateArmedGroup"


def test_state_forces_are_a_body_of_their_states_government() -> None:
    doc = _document("PSE1001")
    forces = _entity(doc, "Israel armed forces")
    assert forces["type"] == "GovernmentBody" and forces["part_of"] == "gov-ISR"
    assert forces["identifiers"] == {
        "cameo": "ISRMIL",
        "acled": "Military Forces of Israel (2022-)",
    }
    assert _entity(doc, "Israel")["identifiers"] == {"iso3166": "ISR", "cameo": "ISR"}


def test_battles_are_armed_conflicts_between_two_parties() -> None:
    fact = _document("PSE1001")["facts"][0]
    assert (fact["type"], fact["cameo"]) == ("ArmedConflict", "190")
    assert [p["role"] for p in fact["participants"]] == ["party", "party"]


def test_violence_against_civilians_is_an_attack_with_the_associated_actors() -> None:
    fact = _document("NIG2002")["facts"][0]
    assert (fact["type"], fact["cameo"]) == ("Attack", "180")
    assert [(p["role"], p["entity"]) for p in fact["participants"]] == [
        ("attacker", "acled-Fulani-Ethnic-Militia--Nigeria-"),
        ("target", "acled-Civilians--Nigeria-"),
        ("target", "acled-Farmers--Nigeria-"),
        ("target", "acled-Women--Nigeria-"),
    ]


def test_fatalities_location_sources_and_notes_are_kept() -> None:
    doc = _document("UKR4004")
    fact = doc["facts"][0]
    assert fact["measures"] == {"fatalities": 2}
    assert "sources: Suspilne" in fact["summary"]
    assert "Удар дронів по Дніпру" in fact["summary"]  # non-ASCII notes, kept as written
    assert "fatalities" not in fact["summary"]  # the number is typed, not repeated in text
    place = next(e for e in doc["entities"] if e["id"] == fact["place"])
    assert (place["type"], place["name"]) == ("City", "Dnipro")
    assert (place["latitude"], place["longitude"]) == (48.45, 34.9833)


def test_an_empty_fatalities_cell_gives_no_count_not_zero(tmp_path: Path) -> None:
    header, first = ACLED.read_text(encoding="utf-8").splitlines()[:2]
    row = next(csv.reader([first]))
    row[next(csv.reader([header])).index("fatalities")] = ""
    path = tmp_path / "acled.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header + "\n")
        csv.writer(out, lineterminator="\n").writerow(row)
    [record] = list(acled_records([path]))
    assert record.raw is not None and "measures" not in record.raw["facts"][0]


def test_fatalities_per_month_is_a_sum_over_the_attestations(graph: Graph) -> None:
    """The worked example of docs/importers.md: fatalities per month from ACLED."""
    graph.import_file("acled", ACLED)
    rows = graph.query(
        """SELECT ?month (SUM(?n) AS ?fatalities) (COUNT(?att) AS ?events) WHERE {
             ?event dip:attestedBy ?att ; dip:startDate ?day .
             ?att dip:fatalities ?n ; prov:wasGeneratedBy/prov:wasAssociatedWith/rdfs:label
                  "ACLED export"@en .
             BIND(SUBSTR(STR(?day), 1, 7) AS ?month)
           } GROUP BY ?month ORDER BY ?month"""
    )
    # 12 + 3 + 0 + 2 + 0 + 0: the IED without a target (1) is left out, the repeated
    # abduction is one document
    assert rows == [{"month": "2023-10", "fatalities": 17, "events": 6}]


def test_the_coordinates_are_a_point_of_the_place_in_the_graph(graph: Graph) -> None:
    graph.import_file("acled", ACLED)
    rows = graph.query(
        """PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
           SELECT ?lat ?long WHERE {
             ?place rdfs:label "Dnipro"@en ; dip:position [ geo:lat ?lat ; geo:long ?long ] }"""
    )
    assert rows == [{"lat": Decimal("48.45"), "long": Decimal("34.9833")}]


def test_coordinates_and_fatalities_out_of_range_reject_their_row_alone() -> None:
    """tests/data/importers/acled-bad-numbers.csv: the fixture's first battle, then the same
    row with one number broken per line."""
    records = list(acled_records([DATA / "importers" / "acled-bad-numbers.csv"]))
    assert [r.record_id for r in records if r.document is not None] == ["acled-TST0001"]
    found = {
        r.line: (r.error.location.record, r.error.location.field, r.error.rule)
        for r in records
        if r.error is not None
    }
    assert found == {
        3: ("TST0002", "latitude (column 23)", "123.4 is outside -90 to 90"),
        4: (
            "TST0003",
            "fatalities (column 29)",
            "'-1' is not a number of people (a whole number, 0 or more)",
        ),
        5: ("TST0004", "longitude (column 24)", "-190 is outside -180 to 180"),
    }


def test_an_event_without_geography_has_no_place() -> None:
    assert "place" not in _document("SOM6006")["facts"][0]


def test_events_of_a_general_class_load_and_an_attack_without_a_target_is_counted() -> None:
    notes = ImportNotes()
    _records(notes)
    reasons = " | ".join(notes.counts)
    assert "dip:Event" not in reasons  # the facts format has the general classes
    assert "an attack needs an attacker and a target" in reasons  # the IED without a target


def test_bad_rows_name_file_line_column_and_rule() -> None:
    errors = {r.line: r.error for r in _records() if r.error is not None}
    assert {line: e.location.field for line, e in errors.items() if e} == {
        10: "event_date (column 2)",
        11: "sub_event_type (column 7)",
        12: "fatalities (column 29)",
    }
    assert errors[10] is not None and errors[10].location.record == "BAD8001"
    assert errors[11] is not None and "unknown ACLED event type 'Battles / Flash mob'" in (
        errors[11].rule
    )


def test_the_import_passes_the_shapes_and_a_duplicated_event_is_one_document(
    graph: Graph,
) -> None:
    report = graph.import_file("acled", ACLED)
    assert (report.documents_loaded, report.documents_unchanged) == (6, 1)
    assert report.documents_rejected == 3
    rows = graph.query(
        "SELECT ?g WHERE { ?g a dip:Militia ; rdfs:label ?l "
        "FILTER(STR(?l) = 'Fulani Ethnic Militia (Nigeria)') }"
    )
    assert len(rows) == 1
