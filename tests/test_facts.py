"""The facts format: what is accepted, and how bad input is reported (record, field, rule)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from diplograph.loader.facts import json_schema, parse_document, read_documents, read_path
from tests.conftest import DATA, EXAMPLES, ROOT

FACTS = DATA / "facts"


def _minimal() -> dict:
    return json.loads((FACTS / "minimal.json").read_text())


def test_the_story_example_is_a_valid_document() -> None:
    [record] = list(read_path(EXAMPLES / "story.json"))
    assert record.error is None
    assert record.document is not None
    assert len(record.document.facts) > 20


def test_json_lines_yield_one_record_per_line_with_line_numbers() -> None:
    records = list(read_path(FACTS / "three.jsonl"))
    assert [r.line for r in records] == [1, 2, 3]
    assert [r.record_id for r in records] == ["doc-1", "doc-2", "doc-3"]


def test_a_json_list_of_documents_is_accepted() -> None:
    text = json.dumps([_minimal(), _minimal()], indent=2)
    records = list(read_documents(io.StringIO(text), source="list.json"))
    assert len(records) == 2
    assert all(r.error is None for r in records)


def test_a_pretty_printed_single_document_is_accepted() -> None:
    records = list(read_documents(io.StringIO(json.dumps(_minimal(), indent=2))))
    assert len(records) == 1
    assert records[0].error is None


@pytest.mark.parametrize(
    ("line", "field", "rule"),
    [
        (1, "facts[0].colour", "unknown field"),
        (2, "facts[0].time.start", "not a real calendar date"),
        (3, "facts[0].confidence", "less than or equal to 1"),
        (4, "facts[0].participants[1].entity", "no entity with id 'nobody'"),
        (5, None, "not valid JSON"),
    ],
)
def test_format_errors_name_the_line_record_field_and_rule(
    line: int, field: str | None, rule: str
) -> None:
    records = {r.line: r for r in read_path(FACTS / "format-errors.jsonl")}
    error = records[line].error
    assert error is not None
    assert error.location.line == line
    assert error.location.field == field
    assert rule in error.rule
    assert str(FACTS / "format-errors.jsonl") in str(error)


def test_an_error_inside_a_fact_names_the_fact_in_the_record() -> None:
    doc = _minimal()
    doc["facts"][0]["confidence"] = -0.5
    error = parse_document(doc).error
    assert error is not None
    assert error.location.record == "doc-minimal#call"


def test_unknown_fields_can_be_downgraded_to_warnings() -> None:
    doc = _minimal()
    doc["facts"][0]["colour"] = "red"
    doc["document"]["mood"] = "calm"
    record = parse_document(doc, unknown="warn")
    assert record.error is None
    assert any("facts[0].colour" in w for w in record.warnings)
    assert any("document.mood" in w for w in record.warnings)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2023", True),
        ("2023-06", True),
        ("2023-10-14", True),
        ("2023-10-14T09:30:00Z", True),
        ("2023-10-14T09:30:00+02:00", True),
        ("2023-10-14T09:30:00", False),  # no time zone: ambiguous
        ("2023-13", False),
        ("2023-02-29", False),
        ("2024-02-29", True),
        ("14/10/2023", False),
    ],
)
def test_dates_must_be_iso_and_exist_in_the_calendar(value: str, ok: bool) -> None:
    doc = _minimal()
    doc["facts"][0]["time"]["start"] = value
    doc["facts"][0]["time"].pop("text")
    assert (parse_document(doc).error is None) is ok


def test_a_time_that_ends_before_it_starts_is_rejected() -> None:
    doc = _minimal()
    doc["facts"][0]["time"] = {"start": "2023-10-14", "end": "2023-10-13"}
    error = parse_document(doc).error
    assert error is not None
    assert error.location.field == "facts[0].time"
    assert "before start" in error.rule


def test_duplicate_local_ids_are_rejected() -> None:
    doc = _minimal()
    doc["entities"][1]["id"] = "a"
    error = parse_document(doc).error
    assert error is not None
    assert error.location.field == "entities[1].id"


def test_a_file_that_is_not_utf8_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"document": {"id": "caf\xe9"}}\n')
    [record] = list(read_path(path))
    assert record.error is not None
    assert "UTF-8" in record.error.rule


def test_published_json_schema_matches_the_models() -> None:
    published = json.loads((ROOT / "docs" / "facts.schema.json").read_text())
    assert published == json_schema()


def test_the_json_schema_accepts_the_story() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    story = json.loads((EXAMPLES / "story.json").read_text())
    jsonschema.validate(story, json_schema())


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("2023-06-14", "2023-06", True),
        ("2023-10-14", "2023", True),
        ("2023-06", "2023-05-31", False),
        ("2023-10-14T10:00:00Z", "2023-10-14", True),
    ],
)
def test_times_of_mixed_precision_compare_at_their_common_precision(
    start: str, end: str, ok: bool
) -> None:
    doc = _minimal()
    doc["facts"][0]["time"] = {"start": start, "end": end}
    assert (parse_document(doc).error is None) is ok
