"""GDELT 2.0 events into the validated graph: one document per article, CAMEO actors on the
gazetteer's nodes, event codes through the CAMEO code list, a bad row rejected alone.

The fixture (tests/data/importers/gdelt-events.tsv) is written from the GDELT 2.0 event
codebook: 61 tab-separated columns, no header; its rows are described where they are used.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from diplograph.graph import Graph
from diplograph.loader.config import Settings
from diplograph.loader.errors import InputError
from diplograph.loader.facts import SourceRecord
from diplograph.loader.importers import ImportNotes, import_records
from diplograph.loader.importers.gdelt import COLUMNS, gdelt_records
from tests.conftest import DATA

GDELT = DATA / "importers" / "gdelt-events.tsv"


def _records(path: Path = GDELT, **kwargs: object) -> list[SourceRecord]:
    return list(gdelt_records([path], **kwargs))  # type: ignore[arg-type]


def _documents() -> dict[str, dict[str, object]]:
    return {r.document.document.id: r.raw for r in _records() if r.document is not None}


def _errors() -> dict[int, SourceRecord]:
    return {r.line: r for r in _records() if r.error is not None}


@pytest.fixture
def graph(settings: Settings) -> Iterator[Graph]:
    with Graph(settings) as g:
        yield g


def test_the_export_has_61_columns() -> None:
    assert len(COLUMNS) == 61 and COLUMNS[26] == "EventCode" and COLUMNS[-1] == "SOURCEURL"


def test_one_document_per_article_with_the_article_as_its_url() -> None:
    docs = _documents()
    urls = {d["document"]["url"] for d in docs.values()}  # type: ignore[index]
    assert len(urls) == len(docs) == 5
    article = docs["gdelt-1100000001"]["document"]
    assert article == {  # named by its first row's event id; published on DATEADDED's day
        "id": "gdelt-1100000001",
        "url": "https://news.example.org/2023/10/14/wang-yi-washington",
        "publisher": "news.example.org",
        "published": "2023-10-14",
    }


def test_a_cameo_government_code_is_the_government_of_the_gazetteer_state() -> None:
    entities = {e["id"]: e for e in _documents()["gdelt-1100000001"]["entities"]}  # type: ignore[union-attr]
    assert entities["gov-CHN"]["type"] == "Government"
    assert entities["gov-CHN"]["governs"] == "state-CHN"
    assert entities["state-CHN"]["identifiers"] == {"iso3166": "CHN", "cameo": "CHN"}
    assert entities["state-CHN"]["wikidata"] == "Q148"


def test_a_military_is_a_government_body_and_a_known_group_keeps_its_cameo_code() -> None:
    entities = {e["id"]: e for e in _documents()["gdelt-1100000004"]["entities"]}  # type: ignore[union-attr]
    assert entities["body-ISRMIL"]["type"] == "GovernmentBody"
    assert entities["body-ISRMIL"]["part_of"] == "gov-ISR"
    hamas = entities["cameo-PSEINSHMS"]
    assert (hamas["type"], hamas["name"]) == ("NonStateArmedGroup", "Hamas")
    assert hamas["identifiers"] == {"cameo": "PSEINSHMS"}


def test_event_codes_map_through_the_code_list_with_roles_the_shapes_accept() -> None:
    facts = _documents()["gdelt-1100000001"]["facts"]
    visit, statement = facts  # type: ignore[misc]
    assert (visit["type"], visit["cameo"]) == ("Visit", "042")
    assert [(p["role"], p["entity"]) for p in visit["participants"]] == [
        ("visitor", "gov-CHN"),
        ("host", "gov-USA"),
    ]
    assert (statement["type"], statement["cameo"]) == ("Statement", "036")
    attack = _documents()["gdelt-1100000004"]["facts"][0]  # type: ignore[index]
    assert [p["role"] for p in attack["participants"]] == ["attacker", "target"]


def test_a_code_outside_the_old_41_loads_with_its_class() -> None:
    """0231 (appeal for economic aid) was not in the code list before; it is an Appeal."""
    facts = _documents()["gdelt-1100000009"]["facts"]
    appeal = next(f for f in facts if f["cameo"] == "0231")  # type: ignore[union-attr]
    assert appeal["type"] == "Appeal"


def test_goldstein_mentions_sources_articles_and_tone_are_the_facts_measures() -> None:
    attack = _documents()["gdelt-1100000004"]["facts"][0]  # type: ignore[index]
    assert attack["measures"] == {
        "goldstein": -10.0,
        "mentions": 40,
        "sources": 4,
        "articles": 40,
        "tone": -8.2,
    }
    assert attack["summary"] == (
        "GDELT event 1100000004: CAMEO 190 (use conventional military force (unspecified))"
    )


def test_the_action_geography_keeps_its_coordinates() -> None:
    doc = _documents()["gdelt-1100000004"]
    place = next(e for e in doc["entities"] if e["id"] == doc["facts"][0]["place"])  # type: ignore[index,union-attr]
    assert (place["latitude"], place["longitude"]) == (31.5, 34.4667)


def test_the_numbers_are_typed_on_the_articles_attestation(graph: Graph) -> None:
    graph.import_file("gdelt", GDELT)
    rows = graph.query(
        """PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
           SELECT ?g ?tone ?m ?s ?a ?lat ?long WHERE {
             ?e dip:cameoCode cameo:190 ; dip:attestedBy ?att ; dip:atPlace ?place .
             ?att dip:goldsteinScale ?g ; dip:averageTone ?tone ; dip:mentionCount ?m ;
                  dip:sourceCount ?s ; dip:articleCount ?a .
             ?place dip:position [ geo:lat ?lat ; geo:long ?long ] }"""
    )
    assert [tuple(r.values()) for r in rows] == [
        (Decimal("-10"), Decimal("-8.2"), 40, 4, 40, Decimal("31.5"), Decimal("34.4667"))
    ]


def test_the_most_negative_goldstein_scores_between_two_states(graph: Graph) -> None:
    """The worked example of docs/importers.md: one row per article's score."""
    graph.import_file("gdelt", GDELT)
    rows = graph.query(
        """SELECT ?goldstein ?code ?first ?second ?url WHERE {
             ?event dip:hasParticipant ?a , ?b ; dip:cameoCode ?c ; dip:attestedBy ?att .
             ?att dip:goldsteinScale ?goldstein ; prov:wasDerivedFrom/schema:url ?url .
             ?a dip:governs? ?sa . ?sa a dip:State ; skos:prefLabel ?first .
             ?b dip:governs? ?sb . ?sb a dip:State ; skos:prefLabel ?second .
             FILTER(STR(?first) < STR(?second))
             BIND(STRAFTER(STR(?c), STR(cameo:)) AS ?code)
           } ORDER BY ?goldstein ?code ?url LIMIT 10"""
    )
    assert [(r["goldstein"], r["code"], r["first"], r["second"]) for r in rows] == [
        (Decimal("1.9"), "042", "China", "United States"),
        (Decimal("1.9"), "042", "China", "United States"),
        (Decimal("3.4"), "0231", "China", "Russia"),
        (Decimal("4"), "036", "China", "United States"),
    ]
    assert {r["url"] for r in rows[:2]} == {
        "https://news.example.org/2023/10/14/wang-yi-washington",
        "https://other.example.com/2023/10/14/chinese-fm-in-washington",
    }


def test_numbers_out_of_range_reject_their_row_alone_naming_column_and_rule(
    graph: Graph,
) -> None:
    """tests/data/importers/gdelt-bad-numbers.tsv: row 1 of the fixture's Gaza event, then the
    same row with one number broken per line."""
    report = graph.import_file("gdelt", DATA / "importers" / "gdelt-bad-numbers.tsv")
    assert report.documents_loaded == 1
    found = {
        r.line: (r.record, v["field"], v["message"])
        for r in report.rejections
        for v in r.violations
    }
    assert found == {
        2: ("1100000102", "GoldsteinScale (column 31)", "12.5 is outside -10 to 10"),
        3: (
            "1100000103",
            "NumMentions (column 32)",
            "'-3' is not a count (a whole number, 0 or more)",
        ),
        4: ("1100000104", "ActionGeo_Lat (column 57)", "95.0 is outside -90 to 90"),
        5: (
            "1100000105",
            "ActionGeo_Long (column 58)",
            "a point needs ActionGeo_Long with ActionGeo_Lat",
        ),
        6: ("1100000106", "AvgTone (column 35)", "-140.5 is outside -100 to 100"),
    }


def test_geography_is_a_place_of_the_event() -> None:
    doc = _documents()["gdelt-1100000004"]
    place = next(e for e in doc["entities"] if e["id"] == doc["facts"][0]["place"])  # type: ignore[index,union-attr]
    assert (place["type"], place["name"]) == ("City", "Gaza, Gaza Strip, Israel")


def test_non_ascii_place_names_are_kept() -> None:
    names = {e["name"] for e in _documents()["gdelt-1100000006"]["entities"]}  # type: ignore[union-attr]
    assert "São Paulo, São Paulo, Brazil" in names


def test_a_row_without_geography_has_no_place() -> None:
    agreement = _documents()["gdelt-1100000009"]["facts"][0]  # type: ignore[index]
    assert agreement["type"] == "Agreement" and "place" not in agreement


def test_an_event_with_a_missing_actor_keeps_the_other_or_is_left_out_with_a_note() -> None:
    notes = ImportNotes()
    _records(notes=notes)
    facts = _documents()["gdelt-1100000006"]["facts"]
    statement = next(f for f in facts if f["cameo"] == "010")  # type: ignore[union-attr]
    assert [p["role"] for p in statement["participants"]] == ["issuer"]  # no recipient given
    # row 7 has no Actor1: a statement needs who said it
    assert any("needs who said it" in reason for reason in notes.counts)


def test_a_duplicated_row_and_a_second_code_for_one_event_are_kept_once() -> None:
    notes = ImportNotes()
    _records(notes=notes)
    facts = _documents()["gdelt-1100000004"]["facts"]
    assert [f["type"] for f in facts] == ["Attack", "Event"]  # type: ignore[index,union-attr]
    assert notes.counts["a duplicate row of an event already in its document"] == 1
    # rows 1 and 2: CHN visits the USA (042), the USA hosts CHN (043): one visit
    assert [f["cameo"] for f in _documents()["gdelt-1100000001"]["facts"]] == ["042", "036"]  # type: ignore[union-attr]


def test_a_bad_date_is_rejected_alone_with_file_line_column_and_rule() -> None:
    error = _errors()[12].error
    assert error is not None
    assert (error.location.source, error.location.line) == (str(GDELT), 12)
    assert error.location.field == "SQLDATE (column 2)"
    assert error.location.record == "1100000011"
    assert "not a real calendar date" in error.rule


def test_an_unknown_event_code_names_record_field_and_code() -> None:
    error = _errors()[13].error
    assert error is not None and error.location.field == "EventCode (column 27)"
    assert "unknown CAMEO event code '999'" in error.rule


def test_a_row_with_the_wrong_column_count_is_rejected_alone() -> None:
    error = _errors()[14].error
    assert error is not None and error.rule == "expected 61 tab-separated columns, found 60"
    assert error.location.record == "1100000013"
    assert len(_documents()) == 5  # the other rows still make their documents


def test_bytes_that_are_not_utf8_reject_their_row_only(tmp_path: Path) -> None:
    lines = GDELT.read_bytes().splitlines()
    bad = lines[0].replace(b"CHINA", b"CHIN\xff")
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"\n".join([bad, lines[3]]) + b"\n")
    records = _records(path)
    assert records[0].error is not None and "not UTF-8" in records[0].error.rule
    assert records[0].error.location.field == "Actor1Name (column 7)"
    assert [r.document is not None for r in records[1:]] == [True]


def test_documents_come_before_the_file_is_read_to_its_end(tmp_path: Path) -> None:
    """Rows are grouped by article within a window, so memory stays flat in the file's size."""
    row = GDELT.read_text(encoding="utf-8").splitlines()[3]
    fields = row.split("\t")
    rows = []
    for i in range(50):
        fields[0] = str(1200000000 + i)
        fields[60] = f"https://example.org/article-{i}"
        rows.append("\t".join(fields))
    path = tmp_path / "many.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    lines_read = []
    stream = gdelt_records([path], window=10, on_line=lambda n: lines_read.append(n))
    first = next(iter(stream))
    assert first.document is not None and len(lines_read) == 10


def test_the_import_loads_through_the_shapes_and_reports_bad_rows(graph: Graph) -> None:
    report = graph.import_file("gdelt", GDELT)
    assert report.documents_loaded == 5
    assert {r.line for r in report.rejections} == {12, 13, 14}
    assert all(v["constraint"] == "facts-format" for r in report.rejections for v in r.violations)
    assert not any("dip:Event," in w for w in report.warnings)  # a general class loads


def test_importing_the_same_file_again_changes_nothing(graph: Graph) -> None:
    graph.import_file("gdelt", GDELT)
    again = graph.import_file("gdelt", GDELT)
    assert again.documents_loaded == 0 and again.documents_unchanged == 5


def test_an_imported_article_is_retracted_like_any_document(graph: Graph) -> None:
    graph.import_file("gdelt", GDELT)
    assert graph.retract("gdelt-1100000004") > 0
    rows = graph.query("SELECT ?e WHERE { ?e dip:cameoCode cameo:190 }")
    assert rows == []


def test_provenance_names_the_article_and_the_dataset(graph: Graph) -> None:
    graph.import_file("gdelt", GDELT)
    rows = graph.query(
        """SELECT ?url ?tool WHERE {
             ?e dip:cameoCode cameo:190 ; prov:wasDerivedFrom ?doc .
             ?doc schema:url ?url . ?run prov:used ?doc ; prov:wasAssociatedWith ?x .
             ?x rdfs:label ?tool }"""
    )
    assert rows == [
        {"url": "https://news.example.org/2023/10/15/gaza", "tool": "GDELT 2.0 event export"}
    ]


def test_import_records_names_the_dataset() -> None:
    records = list(import_records("gdelt", [GDELT]))
    assert sum(r.document is not None for r in records) == 5
    with pytest.raises(Exception, match="unknown dataset 'icews'"):
        import_records("icews", [GDELT])


def test_dry_run_documents_are_json_lines_that_load_as_facts(tmp_path: Path, graph: Graph) -> None:
    docs = [r.raw for r in _records() if r.document is not None]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n")
    report = graph.load_file(path)
    assert report.documents_loaded == 5 and report.documents_rejected == 0


def test_a_zipped_export_reads_as_gdelt_publishes_it(tmp_path: Path) -> None:
    """GDELT publishes each 15-minute export as a zip archive of one file; .gz reads too."""
    archive = tmp_path / "20231014120000.export.CSV.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(GDELT, "20231014120000.export.CSV")
    squeezed = tmp_path / "events.tsv.gz"
    squeezed.write_bytes(gzip.compress(GDELT.read_bytes()))
    for path in (archive, squeezed):
        records = _records(path)
        assert sum(r.document is not None for r in records) == 5
        assert sum(r.error is not None for r in records) == 3
    member = f"{archive}:20231014120000.export.CSV"
    assert {r.source for r in _records(archive)} == {member}  # documents and rejections alike


def test_a_zip_of_several_files_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(GDELT, "a.CSV")
        out.write(GDELT, "b.CSV")
    with pytest.raises(InputError, match="must hold one file, it holds 2"):
        _records(archive)


def test_one_event_in_two_articles_is_one_node_attested_by_both(graph: Graph) -> None:
    """Rows 1 and 16: two articles report China's visit to the United States on 14 October."""
    graph.import_file("gdelt", GDELT)
    rows = graph.query(
        """SELECT ?visit (COUNT(DISTINCT ?doc) AS ?articles) WHERE {
             ?visit a dip:Visit ; dip:cameoCode cameo:042 ; prov:wasDerivedFrom ?doc }
           GROUP BY ?visit"""
    )
    assert len(rows) == 1 and rows[0]["articles"] == 2
