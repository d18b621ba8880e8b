"""POLECAT into the validated graph: PLOVER types, modes and contexts through the PLOVER code
list, actors with Wikidata ids, auxiliary modes as the fact's modality, an unknown code rejected
alone naming record, column and code.

The fixture (tests/data/importers/polecat-events.tsv) follows POLECAT's tab-separated record
format (a header line, "None" for empty values); its rows are described where they are used.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from diplograph.graph import Graph
from diplograph.loader.config import Settings
from diplograph.loader.facts import SourceRecord
from diplograph.loader.importers import ImportNotes
from diplograph.loader.importers.codes import code_lists
from diplograph.loader.importers.polecat import SECTORS, polecat_records
from tests.conftest import DATA

POLECAT = DATA / "importers" / "polecat-events.tsv"


def _records(notes: ImportNotes | None = None) -> list[SourceRecord]:
    return list(polecat_records([POLECAT], notes=notes))


def _document(event_id: str) -> dict[str, Any]:
    docs = [r.raw for r in _records() if r.document is not None]
    return next(d for d in docs if d["document"]["id"] == f"polecat-{event_id}")


@pytest.fixture
def graph(settings: Settings) -> Iterator[Graph]:
    with Graph(settings) as g:
        yield g


def test_the_plover_code_list_has_every_type_mode_and_context() -> None:
    codes = code_lists()
    assert len(codes.plover_types) == 16
    assert all(t.cls for t in codes.plover_types.values())
    assert {"visit", "phone", "aerial", "negation"} <= codes.plover_modes.keys()
    assert {"military", "economic", "cbrn", "trafficking"} <= codes.plover_contexts.keys()
    for mode in codes.plover_modes.values():
        assert mode.mode_of <= codes.plover_types.keys(), mode


def test_every_sector_word_is_a_cameo_role() -> None:
    assert set(SECTORS.values()) <= code_lists().cameo_roles.keys()


def test_a_state_given_by_its_wikidata_id_is_the_gazetteer_state() -> None:
    doc = _document("20231014-0001")
    china = next(e for e in doc["entities"] if e["name"] == "China")
    assert china["type"] == "State" and china["wikidata"] == "Q148"
    assert china["identifiers"] == {"iso3166": "CHN", "cameo": "CHN"}


def test_a_consult_visit_is_a_visit_with_visitor_and_host() -> None:
    fact = _document("20231014-0001")["facts"][0]
    assert (fact["type"], fact["plover"]) == ("Visit", "CONSULT")
    assert [(p["role"], p["entity"]) for p in fact["participants"]] == [
        ("visitor", "state-CHN"),
        ("host", "state-USA"),
    ]
    assert "contexts diplomatic, military" in fact["summary"]


def test_a_person_keeps_their_wikidata_id_and_speaks() -> None:
    doc = _document("20231014-0002")
    biden = next(e for e in doc["entities"] if e["name"] == "Joe Biden")
    assert (biden["type"], biden["wikidata"]) == ("Person", "Q6279")
    fact = doc["facts"][0]
    assert fact["type"] == "Condemnation"  # ACCUSE with the mode allege
    assert fact["participants"][0] == {"entity": biden["id"], "role": "speaker"}


def test_a_military_sector_is_a_body_of_the_government_and_rebels_an_armed_group() -> None:
    doc = _document("20231015-0003")
    idf = next(e for e in doc["entities"] if e["name"] == "Israel Defense Forces")
    assert (idf["type"], idf["part_of"], idf["wikidata"]) == (
        "GovernmentBody",
        "gov-ISR",
        "Q1056796",
    )
    hamas = next(e for e in doc["entities"] if e["name"] == "Hamas")
    assert hamas["type"] == "NonStateArmedGroup"


def test_non_ascii_place_names_and_geonames_ids_are_kept() -> None:
    doc = _document("20231015-0003")
    place = next(e for e in doc["entities"] if e["id"] == doc["facts"][0]["place"])
    assert {k: v for k, v in place.items() if k not in ("latitude", "longitude")} == {
        "id": place["id"],
        "type": "City",
        "name": "Khān Yūnis",
        "identifiers": {"geonames": "281133"},
    }


def test_the_intensity_is_the_facts_measure_and_the_coordinates_the_places() -> None:
    doc = _document("20231014-0001")
    fact = doc["facts"][0]
    assert fact["measures"] == {"intensity": 1.0}
    assert fact["summary"] == (
        "POLECAT event 20231014-0001: CONSULT (visit); contexts diplomatic, military; quad code 1"
    )
    place = next(e for e in doc["entities"] if e["id"] == fact["place"])
    assert (place["latitude"], place["longitude"]) == (38.89511, -77.03637)


def test_the_intensity_is_typed_on_the_attestation_in_the_graph(graph: Graph) -> None:
    graph.import_file("polecat", POLECAT)
    rows = graph.query(
        """SELECT ?i WHERE {
             ?e dip:ploverType plover:ACCUSE ; dip:attestedBy/dip:eventIntensity ?i }"""
    )
    assert rows == [{"i": Decimal("-3")}]


def test_an_intensity_or_coordinate_out_of_range_rejects_its_row_alone() -> None:
    """tests/data/importers/polecat-bad-numbers.tsv: the fixture's first visit, then the same
    row with one number broken per line."""
    records = list(polecat_records([DATA / "importers" / "polecat-bad-numbers.tsv"]))
    assert [r.record_id for r in records if r.document is not None] == ["polecat-20231101-0001"]
    found = {
        r.line: (r.error.location.record, r.error.location.field, r.error.rule)
        for r in records
        if r.error is not None
    }
    assert found == {
        3: ("20231101-0002", "Event Intensity (column 5)", "15 is outside -10 to 10"),
        4: ("20231101-0003", "Latitude (column 29)", "91 is outside -90 to 90"),
        5: ("20231101-0004", "Event Intensity (column 5)", "'high' is not a number"),
    }


def test_the_negation_mode_is_the_facts_modality() -> None:
    fact = _document("20231016-0004")["facts"][0]
    assert (fact["type"], fact["modality"]) == ("Appeal", "negated")


def test_a_mode_of_another_type_is_ignored_with_a_note() -> None:
    notes = ImportNotes()
    _records(notes)
    assert "PLOVER mode 'visit' is not a mode of THREATEN (the mode is ignored)" in notes.counts
    assert _document("20231016-0007")["facts"][0]["type"] == "Statement"


def test_an_event_without_a_recipient_or_geography_still_loads() -> None:
    fact = _document("20231017-0009")["facts"][0]
    assert fact["type"] == "Consultation" and "place" not in fact
    assert len(fact["participants"]) == 1


def test_unknown_codes_and_bad_dates_name_record_column_and_code() -> None:
    errors = {r.line: r.error for r in _records() if r.error is not None}
    found = {line: (e.location.record, e.location.field, e.rule) for line, e in errors.items() if e}
    assert found == {
        6: (
            "20231016-0005",
            "Event Type (column 3)",
            "unknown PLOVER event type 'GOSSIP' (not in the PLOVER code list)",
        ),
        7: ("20231016-0006", "Contexts (column 7)", "unknown PLOVER context 'astrology'"),
        11: (
            "20231017-0010",
            "Event Date (column 2)",
            "'2023-13-01' is not a real date (expected e.g. 2023-10-14)",
        ),
    }


def test_the_import_passes_the_shapes(graph: Graph) -> None:
    report = graph.import_file("polecat", POLECAT)
    assert (report.documents_loaded, report.documents_rejected) == (6, 3)
    rows = graph.query("SELECT ?e WHERE { ?e dip:ploverType plover:CONSULT ; a dip:Visit }")
    assert len(rows) == 1


def test_several_actors_in_one_field_join_in_their_role_and_an_appeal_keeps_one_initiator(
    tmp_path: Path,
) -> None:
    header = POLECAT.read_text(encoding="utf-8").splitlines()[0].split("\t")
    values = dict.fromkeys(header, "None")
    values.update(
        {
            "Event ID": "x1",
            "Event Date": "2023-10-16",
            "Event Type": "REQUEST",
            "Actor Name": "Xi Jinping;Wang Yi",
            "Actor Title": "President;Foreign Minister",
            "Wikipedia Actor ID": "Q15031;None",
            "Recipient Name": "Iran;Qatar",
            "Wikipedia Recipient ID": "Q794;Q846",
        }
    )
    path = tmp_path / "several.tsv"
    path.write_text("\t".join(header) + "\n" + "\t".join(values[c] for c in header) + "\n")
    notes = ImportNotes()
    (record,) = polecat_records([path], notes=notes)
    assert record.document is not None
    participants = [(p["role"], p["entity"]) for p in record.raw["facts"][0]["participants"]]
    assert participants == [
        ("initiator", "person-Q15031"),
        ("recipient", "state-IRN"),
        ("recipient", "state-QAT"),
    ]
    assert notes.counts["an appeal keeps one initiator, the first actor named"] == 1
