"""Property-based tests of the facts format: whatever an extractor sends, the reader and the
loader end in a whole load or a clean rejection.

Documents are generated from the format itself (docs/facts.md: the entity and fact types, the
roles each kind of fact takes, dates, durations, confidences, references between records), then
broken in one way at a time: a wrong type, a missing or an unknown field, a huge string, deep
nesting, a lone surrogate or an undecodable byte, an impossible date, a confidence outside
[0, 1], a reference to an undeclared record, a cycle of references. Each input goes through the
real path — :func:`loader.facts.read_documents` and :meth:`loader.pipeline.Loader.load` into an
in-memory store that already holds the example story — and must end in one of two ways:

* loaded whole: the document's named graph is exactly what the mapping makes of it;
* rejected: every violation names the field (or the node) and the rule, the rejection names the
  record when the input has a document id, the report can be written as UTF-8 JSON, and the
  store holds exactly the quads it held before.

Any exception other than diplograph's own error classes fails the test.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from diplograph.loader.config import load_settings
from diplograph.loader.errors import DiplographError
from diplograph.loader.facts import (
    FactsDocument,
    SourceRecord,
    json_schema,
    printable,
    read_documents,
    read_path,
)
from diplograph.loader.identity import Identities
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.mentions import claims
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.pipeline import Loader
from diplograph.loader.reconcile import facts_record
from diplograph.loader.report import LoadReport, Rejection
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLES
from tests.support.facts_strategies import (
    JSON_SCALARS,
    JSON_VALUES,
    format_documents,
    json_path,
    parent,
    paths,
)

SETTINGS = load_settings(store="memory")
STORY_TEXT = (EXAMPLES / "story.json").read_text()
STORY: dict[str, Any] = json.loads(STORY_TEXT)

#: Bounded: every example of a loading property costs a fresh store and one load (~50 ms).
LOADING = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
READING = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the loading path and its two allowed endings ----------------------------------------------


@dataclass
class Outcome:
    """What one load did: the report, and the store's quads before and after it."""

    report: LoadReport
    before: set[Any]
    after: set[Any]
    store: EmbeddedStore


def load_text(text: str) -> Outcome:
    """Read ``text`` with the real reader and load it into a store holding the story."""
    store = EmbeddedStore(None)
    loader = Loader(store, SETTINGS)
    loader.load(read_documents(io.StringIO(STORY_TEXT), source="story"))
    before = set(store.quads())
    try:
        report = loader.load(read_documents(io.StringIO(text), source="input"))
    except DiplographError as exc:  # our own errors are an allowed ending; nothing else is
        pytest.fail(f"a non-strict load raised {type(exc).__name__}: {exc}")
    return Outcome(report, before, set(store.quads()), store)


def document_id(value: Any) -> str | None:
    """The document id the input claims, if any."""
    if isinstance(value, dict) and isinstance(value.get("document"), dict):
        doc_id = value["document"].get("id")
        return doc_id if isinstance(doc_id, str) else None
    return None


def assert_clean_rejection(rejection: Rejection, value: Any) -> None:
    """Every violation says where (field or node) and which rule, with a message; the record is
    named when the input has a document id; the report can be sent as UTF-8 JSON."""
    assert rejection.violations, "a rejection without violations"
    for violation in rejection.violations:
        assert isinstance(violation["message"], str) and violation["message"].strip(), violation
        assert violation["constraint"], violation
        if isinstance(value, dict):
            assert violation["field"] or violation["focus_node"], violation
    claimed = document_id(value)
    if claimed is not None:
        assert rejection.record is not None
        assert rejection.record.startswith(printable(claimed)), (rejection.record, claimed)
    json.dumps(rejection.to_dict(), ensure_ascii=False).encode("utf-8")


def _mapped_beside_the_story(doc: FactsDocument) -> MappedDocument:
    """The graph the loader writes for ``doc`` in a store holding the story: mapped with the
    identities of both documents (loader/identity.py), keeping its facts."""
    minter = IriMinter(SETTINGS.base_iri)
    [story] = read_documents(io.StringIO(STORY_TEXT))
    assert story.document is not None
    said = claims(doc)
    present = [said]
    if minter.document(story.document.document.id) != minter.document(doc.document.id):
        present.append(claims(story.document))
    identities = Identities(
        {m for c in present for m in c.entities},
        minter=minter,
        events={r for c in present for r in c.events},
    )
    mapped = map_document(doc, minter, superclass_closure(), identities=identities, claimed=said)
    mapped.triples.append(facts_record(mapped.graph, doc))
    return mapped


def assert_whole_or_nothing(text: str, value: Any) -> Outcome:
    """The property: one document in, loaded whole or rejected cleanly with the store as it was."""
    outcome = load_text(text)
    report = outcome.report
    assert report.documents_seen == 1, report.to_dict()
    if report.documents_rejected:
        assert_clean_rejection(report.rejections[0], value)
        assert outcome.after == outcome.before, "a rejected document changed the store"
    elif report.documents_loaded:
        [record] = read_documents(io.StringIO(text))
        assert record.document is not None
        mapped = _mapped_beside_the_story(record.document)
        assert outcome.store.graph_triples(mapped.graph) == set(mapped.triples)
    else:  # unchanged: only the story itself, loaded again, can be unchanged
        assert outcome.after == outcome.before
    return outcome


def only_record(text: str) -> SourceRecord:
    [record] = read_documents(io.StringIO(text), source="input")
    return record


# --- documents that follow the format ----------------------------------------------------------


@READING
@given(format_documents())
def test_every_document_built_from_the_format_passes_the_reader(doc: dict[str, Any]) -> None:
    record = only_record(json.dumps(doc))
    assert record.error is None, record.error


@pytest.mark.slow
@LOADING
@given(format_documents())
def test_a_document_built_from_the_format_loads_whole_or_is_rejected_by_named_rules(
    doc: dict[str, Any],
) -> None:
    assert_whole_or_nothing(json.dumps(doc), doc)


# --- one thing broken at a time ----------------------------------------------------------------


def _dict_paths(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Paths whose last step is a field name (not a list index)."""
    return [p for p in paths(doc) if isinstance(p[-1], str)]


#: A value of another JSON type for each kind of value.
def _other_type(value: Any) -> st.SearchStrategy[Any]:
    kinds: list[st.SearchStrategy[Any]] = [
        st.none(),
        st.booleans(),
        st.integers(-5, 5),
        st.floats(allow_nan=False, allow_infinity=False),
        st.just([]),
        st.just({}),
        st.just("x"),
    ]
    return st.one_of(*kinds).filter(lambda v: type(v) is not type(value))


@pytest.mark.slow
@LOADING
@given(format_documents(), st.data())
def test_a_value_of_the_wrong_type_is_rejected_naming_its_field_or_coerced(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(paths(doc)))
    original = parent(doc, path)[path[-1]]
    parent(doc, path)[path[-1]] = data.draw(_other_type(original))
    record = only_record(json.dumps(doc))
    if record.error is not None:
        field = record.error.location.field or ""
        # the field itself, or the record holding it (a model-level rule such as time order)
        assert json_path(path).startswith(field) or field.startswith(json_path(path)), (
            field,
            path,
        )
    assert_whole_or_nothing(json.dumps(doc), doc)


REQUIRED = {"document", "extraction", "id", "type", "name", "published", "tool", "version"}
REQUIRED_IN_PARTICIPANTS = {"entity", "role"}


@READING
@given(format_documents(), st.data())
def test_a_missing_required_field_is_rejected_naming_it(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    required = [
        p
        for p in _dict_paths(doc)
        if p[-1] in REQUIRED
        or (p[-1] in REQUIRED_IN_PARTICIPANTS and "participants" in p)
        or p == ("extraction", "time")
    ]
    path = data.draw(st.sampled_from(required))
    del parent(doc, path)[path[-1]]
    record = only_record(json.dumps(doc))
    assert record.error is not None
    assert record.error.location.field == json_path(path)
    assert record.error.rule.startswith("required field is missing")


def _field_names(schema: Any) -> set[str]:
    """Every property name the published JSON Schema knows, at any level."""
    names: set[str] = set()
    if isinstance(schema, dict):
        names.update(schema.get("properties", {}))
        for inner in schema.values():
            names |= _field_names(inner)
    elif isinstance(schema, list):
        for inner in schema:
            names |= _field_names(inner)
    return names


KNOWN_FIELDS = _field_names(json_schema())


@READING
@given(format_documents(), st.data(), st.text(min_size=1, max_size=20))
def test_an_unknown_field_is_rejected_naming_it(
    doc: dict[str, Any], data: st.DataObject, name: str
) -> None:
    if name in KNOWN_FIELDS:
        return
    objects = [()] + [p for p in paths(doc) if isinstance(parent(doc, (*p, None)), dict)]
    where = data.draw(st.sampled_from(objects))
    parent(doc, (*where, None))[name] = data.draw(JSON_SCALARS)
    record = only_record(json.dumps(doc))
    assert record.error is not None
    assert record.error.location.field == json_path((*where, name))
    assert record.error.rule.startswith("unknown field")


@pytest.mark.slow
@LOADING
@given(format_documents(), st.data())
def test_a_huge_string_loads_whole_or_is_rejected_naming_its_field(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    strings = [p for p in paths(doc) if isinstance(parent(doc, p)[p[-1]], str)]
    path = data.draw(st.sampled_from(strings))
    parent(doc, path)[path[-1]] = data.draw(st.sampled_from(["x", "é", "文", " "])) * 200_000
    record = only_record(json.dumps(doc))
    if record.error is not None:
        assert record.error.location.field == json_path(path)
    assert_whole_or_nothing(json.dumps(doc), doc)


NESTED = "__nested__"


@READING
@given(format_documents(), st.data(), st.sampled_from([50, 900, 5_000, 200_000]))
def test_deep_nesting_in_any_field_is_rejected_cleanly(
    doc: dict[str, Any], data: st.DataObject, depth: int
) -> None:
    path = data.draw(st.sampled_from(paths(doc)))
    parent(doc, path)[path[-1]] = NESTED
    opener, closer = data.draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    text = json.dumps(doc).replace(json.dumps(NESTED), opener * depth + "1" + closer * depth)
    record = only_record(text)
    assert record.error is not None
    if record.error.location.field is not None:  # decoded: the nested field is named
        assert record.error.location.field.startswith(json_path(path))
    else:  # too deep to decode: a syntax error on the line
        assert record.error.rule == "not valid JSON: arrays or objects nested too deeply"


@READING
@given(
    format_documents(),
    st.data(),
    st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\udbff\udbff"]),
)
def test_a_lone_surrogate_is_rejected_naming_its_field_and_the_report_encodes(
    doc: dict[str, Any], data: st.DataObject, bad: str
) -> None:
    strings = [p for p in paths(doc) if isinstance(parent(doc, p)[p[-1]], str)]
    path = data.draw(st.sampled_from(strings))
    parent(doc, path)[path[-1]] = bad
    record = only_record(json.dumps(doc))  # ASCII JSON with "\ud800" escapes
    assert record.error is not None
    assert record.error.location.field == json_path(path)
    json.dumps(record.error.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.slow
@LOADING
@given(format_documents(), st.data())
def test_an_id_with_a_lone_surrogate_is_rejected_and_named_printably(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    where = data.draw(
        st.sampled_from(
            [("document", "id")] + [("facts", i, "id") for i in range(len(doc["facts"]))]
        )
    )
    parent(doc, where)[where[-1]] += "\ud800"
    assert_whole_or_nothing(json.dumps(doc), doc)


@READING
@given(format_documents(), st.data(), st.binary(min_size=1, max_size=4))
def test_undecodable_bytes_in_a_file_are_reported_never_raised(
    doc: dict[str, Any], data: st.DataObject, junk: bytes
) -> None:
    raw = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    at = data.draw(st.integers(0, len(raw)))
    raw = raw[:at] + b"\xff" + junk + raw[at:]
    fd, name = tempfile.mkstemp(suffix=".jsonl")
    try:
        os.write(fd, raw)
        os.close(fd)
        records = list(read_path(name))
    finally:
        os.unlink(name)
    for record in records:
        assert (record.document is None) != (record.error is None)
    # the same bytes through a text stream that keeps them (surrogateescape), as a pipe may
    text = raw.decode("utf-8", errors="surrogateescape")
    for record in read_documents(io.StringIO(text), source="input"):
        if record.error is not None:
            json.dumps(record.error.to_dict(), ensure_ascii=False).encode("utf-8")


@READING
@given(
    format_documents(),
    st.integers(1, 9999),
    st.integers(1, 12),
    st.integers(28, 32),
    st.sampled_from(["published", "time"]),
)
@example(STORY, 2023, 2, 30, "published")
@example(STORY, 2024, 2, 29, "published")
@example(STORY, 2023, 2, 29, "published")
def test_a_date_is_accepted_exactly_when_the_calendar_has_it(
    doc: dict[str, Any], year: int, month: int, day: int, where: str
) -> None:
    doc = copy.deepcopy(doc)
    date = f"{year:04d}-{month:02d}-{day:02d}"
    exists = day <= calendar.monthrange(year, month)[1]
    if where == "published" or not doc["facts"]:
        doc["document"]["published"] = date
        field = "document.published"
    else:
        doc["facts"][0]["time"] = {"start": date}
        field = "facts[0].time.start"
    record = only_record(json.dumps(doc))
    if exists:
        assert record.error is None, record.error
    else:
        assert record.error is not None
        assert record.error.location.field == field
        assert "calendar" in record.error.rule


@READING
@given(
    format_documents().filter(lambda d: bool(d["facts"])),
    st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**30), 10**30),
)
@example(STORY, 1.0000001)
@example(STORY, -0.0)
@example(STORY, float("nan"))
def test_a_confidence_is_accepted_exactly_when_it_is_in_zero_to_one(
    doc: dict[str, Any], confidence: float
) -> None:
    doc = copy.deepcopy(doc)
    doc["facts"][-1]["confidence"] = confidence
    record = only_record(json.dumps(doc, allow_nan=True))
    if not math.isnan(confidence) and 0 <= confidence <= 1:
        assert record.error is None, record.error
    else:
        assert record.error is not None
        assert record.error.location.field == f"facts[{len(doc['facts']) - 1}].confidence"


INSTANTS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
ZONES = st.sampled_from(["Z", "+05:00", "-08:00", "+14:00", "-12:00"])


def _written(instant: dt.datetime, zone: str) -> str:
    """``instant`` (UTC) as the clock time of ``zone``."""
    offset = dt.timedelta(0) if zone == "Z" else dt.datetime.strptime(zone, "%z").utcoffset()
    assert offset is not None
    return (instant + offset).strftime("%Y-%m-%dT%H:%M:%S") + zone


@READING
@given(format_documents().filter(lambda d: bool(d["facts"])), INSTANTS, INSTANTS, ZONES, ZONES)
@example(STORY, dt.datetime(2023, 10, 14, 20), dt.datetime(2023, 10, 14, 22), "+05:00", "Z")
def test_an_end_is_rejected_exactly_when_it_is_before_the_start_in_time(
    doc: dict[str, Any], start: dt.datetime, end: dt.datetime, start_zone: str, end_zone: str
) -> None:
    doc = copy.deepcopy(doc)
    doc["facts"][0]["time"] = {"start": _written(start, start_zone), "end": _written(end, end_zone)}
    record = only_record(json.dumps(doc))
    if end < start:
        assert record.error is not None
        assert record.error.location.field == "facts[0].time"
        assert "is before start" in record.error.rule
    else:
        assert record.error is None, record.error


REFERENCES = {
    "part_of",
    "located_in",
    "entity",
    "on_behalf_of",
    "place",
    "post",
    "sub_event_of",
    "according_to",
}


@READING
@given(format_documents(), st.data())
def test_a_reference_to_an_undeclared_record_is_rejected_naming_it(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    refs = [p for p in _dict_paths(doc) if p[-1] in REFERENCES]
    if not refs:
        return
    path = data.draw(st.sampled_from(refs))
    parent(doc, path)[path[-1]] = "undeclared-record"
    record = only_record(json.dumps(doc))
    assert record.error is not None
    assert record.error.location.field == json_path(path)
    assert "'undeclared-record'" in record.error.rule


@READING
@given(format_documents().filter(lambda d: bool(d["facts"])), st.data())
def test_a_fact_that_refers_to_itself_is_rejected(doc: dict[str, Any], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(doc["facts"]) - 1))
    fact = doc["facts"][index]
    name = data.draw(st.sampled_from(["sub_event_of", "reports_on", "first_since"]))
    fact[name] = fact["id"]
    record = only_record(json.dumps(doc))
    assert record.error is not None
    assert record.error.location.field == f"facts[{index}].{name}"


@pytest.mark.slow
@LOADING
@given(format_documents().filter(lambda d: len(d["facts"]) >= 2), st.data())
def test_cycles_of_references_load_whole_or_are_rejected_cleanly(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    facts, entities = doc["facts"], doc["entities"]
    size = data.draw(st.integers(2, len(facts)))
    for a, b in zip(facts[:size], facts[1:size] + facts[:1], strict=True):
        a[data.draw(st.sampled_from(["sub_event_of", "first_since", "reports_on"]))] = b["id"]
    for a, b in zip(entities, entities[1:] + entities[:1], strict=True):
        a[data.draw(st.sampled_from(["part_of", "located_in"]))] = b["id"]
    assert only_record(json.dumps(doc)).error is None  # the format allows cycles
    assert_whole_or_nothing(json.dumps(doc), doc)


# --- anything at all ---------------------------------------------------------------------------


@pytest.mark.slow
@LOADING
@given(JSON_VALUES)
def test_arbitrary_json_is_rejected_cleanly(value: Any) -> None:
    if isinstance(value, list):
        value = {"list": value}  # a top-level list is a list of documents
    text = json.dumps(value, allow_nan=True)
    assert_whole_or_nothing(text, value)


@pytest.mark.slow
@LOADING
@given(st.text(max_size=300))
@example('{"a": ' + "1" * 5000 + "}")
@example("[" * 100_000 + "]" * 100_000)
@example('{"document": {"id": "x\\ud800"}}')
def test_arbitrary_text_is_rejected_cleanly(text: str) -> None:
    if not text.strip():
        return
    outcome = load_text(text)
    assert outcome.after == outcome.before
    for rejection in outcome.report.rejections:
        assert rejection.violations and all(v["message"] for v in rejection.violations)
        json.dumps(rejection.to_dict(), ensure_ascii=False).encode("utf-8")


# --- regressions the properties found ----------------------------------------------------------


def test_json_nested_deeper_than_the_recursion_limit_is_a_syntax_error_not_a_crash() -> None:
    record = only_record("[" * 100_000 + "]" * 100_000)
    assert record.error is not None
    assert record.error.rule == "not valid JSON: arrays or objects nested too deeply"
    assert record.error.location.line == 1


def test_a_number_with_thousands_of_digits_is_a_syntax_error_not_a_crash() -> None:
    record = only_record('{"document": ' + "9" * 5000 + "}")
    assert record.error is not None
    assert record.error.rule.startswith("not valid JSON: a number with more than")


def test_a_document_id_with_a_lone_surrogate_is_named_with_a_backslash_escape() -> None:
    doc = copy.deepcopy(STORY)
    doc["document"]["id"] = "story\ud800"
    record = only_record(json.dumps(doc))
    assert record.error is not None
    assert record.error.location.record == "story\\ud800"
    assert record.error.location.field == "document.id"
    assert json.loads(json.dumps(record.error.to_dict(), ensure_ascii=False).encode("utf-8"))
