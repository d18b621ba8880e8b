"""The SHACL shapes: the story conforms, every rule rejects its bad input with its own message.

tests/data/shapes/valid/story.ttl is the sample story written by hand in the triple patterns of
docs/mapping.md; it must conform. Each file in tests/data/shapes/invalid/ is a small bad input,
validated together with tests/data/shapes/context.ttl (a valid document to link to). Its header
says what must happen:

    # expect: <a distinctive part of the message of the rule it breaks>
    # focus: <the node that breaks it, as a prefixed name or <relative IRI>>
    # severity: Warning            (optional; Violation by default)

A Violation case must be rejected; a Warning or Info case must be kept with that result. Every
rule with a message in the shapes file must have at least one case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH

from diplograph.loader.facts import parse_document, read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import map_document
from diplograph.loader.namespaces import DIP
from diplograph.loader.namespaces import RDF as RDF_NS
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.validate import ValidationReport, Validator, Violation
from diplograph.shapes import shapes_path
from tests.conftest import DATA, EXAMPLES, ROOT

SHAPES_DATA = DATA / "shapes"
STORY = SHAPES_DATA / "valid" / "story.ttl"
CONTEXT = SHAPES_DATA / "context.ttl"
INVALID = sorted((SHAPES_DATA / "invalid").glob("*.ttl"))
BASE = "https://w3id.org/diplograph/"
DSH = "https://w3id.org/diplograph/shapes#"
_HEADER = re.compile(r"^# (expect|focus|severity): (.+)$", re.MULTILINE)
# Constraint parameters that are one rule together; any other pair is two rules in one shape.
_PAIRS = ({SH.minCount, SH.maxCount}, {SH.minInclusive, SH.maxInclusive})
_PARAMETERS = {
    SH[name]
    for name in (
        *("class", "datatype", "nodeKind", "minCount", "maxCount", "minInclusive", "maxInclusive"),
        *("minExclusive", "maxExclusive", "minLength", "maxLength", "pattern", "languageIn"),
        *("uniqueLang", "equals", "disjoint", "lessThan", "lessThanOrEquals", "not", "and", "or"),
        *("xone", "node", "property", "qualifiedValueShape", "hasValue", "in", "closed"),
    )
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@cache
def _shapes() -> Graph:
    return Graph().parse(shapes_path(), format="turtle")


@cache
def _messages() -> dict[str, str]:
    """Shape IRI -> its English sh:message, for every shape that has one."""
    return {
        str(shape): str(message)
        for shape, message in _shapes().subject_objects(SH.message)
        if isinstance(message, Literal) and message.language == "en"
    }


def _triples(path: Path) -> list[ox.Triple]:
    return list(ox.parse(path=path, format=ox.RdfFormat.TURTLE))


def _turtle(text: str) -> list[ox.Triple]:
    """Turtle with the prefixes (and base) of the context file."""
    lines = CONTEXT.read_text().splitlines()
    prefixes = "\n".join(line for line in lines if line.startswith(("@prefix", "@base")))
    return list(ox.parse(prefixes + "\n" + text, format=ox.RdfFormat.TURTLE))


# ------------------------------------------------------------------------------------------------
# The shapes file itself


def test_every_rule_is_a_named_shape_with_one_english_message() -> None:
    shapes = _shapes()
    rules = set(shapes.subjects(SH.message)) | set(shapes.subjects(SH.path))
    rules |= set(shapes.subjects(SH.targetClass)) | set(shapes.subjects(SH.targetSubjectsOf))
    rules |= set(shapes.subjects(SH.target))
    assert len(rules) > 100
    for shape in rules:
        assert isinstance(shape, URIRef) and str(shape).startswith(DSH), f"unnamed rule {shape}"
        messages = list(shapes.objects(shape, SH.message))
        assert len(messages) == 1, shape
        assert isinstance(messages[0], Literal) and messages[0].language == "en", shape
    # Rules are top-level shapes, never nested with sh:property: pySHACL validates a nested
    # property shape once per focus node, which made validation twice as slow.
    assert (None, SH.property, None) not in shapes


def test_every_shape_checks_one_rule() -> None:
    shapes = _shapes()
    for shape in _messages():
        parameters = {p for p in shapes.predicates(URIRef(shape)) if p in _PARAMETERS}
        assert len(parameters) == 1 or parameters in _PAIRS, (shape, parameters)


def test_severities_are_violation_unless_a_fact_should_be_kept() -> None:
    severities = {
        str(shape): str(severity)
        for shape, severity in _shapes().subject_objects(SH.severity)
        if isinstance(shape, URIRef)
    }
    assert severities == {
        DSH + "Entity-sameAs-wikidata": str(SH.Warning),
        DSH + "ArmedConflict-party-min": str(SH.Warning),
        DSH + "Stance-subject-min": str(SH.Warning),
        DSH + "PostHolding-post-in-organization": str(SH.Warning),
        DSH + "Event-time-info": str(SH.Info),
    }


def test_every_rule_is_documented() -> None:
    text = (ROOT / "docs" / "shapes.md").read_text()
    assert f"holds {len(_messages())} SHACL rules" in text
    for shape in _messages():
        assert f"`{shape.removeprefix(DSH)}`" in text, f"{shape} is not in docs/shapes.md"


def test_every_class_the_loader_writes_is_checked() -> None:
    """Each dip: class of the facts has a rule targeting it or one of its superclasses
    (sh:targetClass). The summary graph's classes are derived by the loader, not mapped from
    facts, and are checked by tests/test_summary.py instead."""
    targeted = {str(c) for c in _shapes().objects(None, SH.targetClass)}
    closure = superclass_closure()
    assert len(closure) > 40
    summary = {
        DIP + "Summary",
        DIP + "InteractionCount",
        DIP + "EventCountByMonth",
        DIP + "CorroborationCount",
        DIP + "EventTypeRank",
    }
    for cls, supers in closure.items():
        assert cls.startswith(DIP)
        if ({cls} | supers) & summary:
            continue
        assert ({cls} | supers) & targeted, f"no shape checks {cls}"


# ------------------------------------------------------------------------------------------------
# Valid data


def test_the_story_conforms(validator: Validator) -> None:
    report = validator.validate(_triples(STORY))
    assert report.conforms, "\n".join(map(str, report.results))
    # The only notes are for the events the article does not date (the six tour stops, the war
    # and the feared attack).
    assert {r.shape for r in report.results} == {"dsh:Event-time-info"}
    assert len(report.results) == 8


def test_the_story_writes_every_superclass_type() -> None:
    closure = superclass_closure()
    types: dict[str, set[str]] = {}
    for t in _triples(STORY):
        if t.predicate.value == RDF_NS + "type":
            types.setdefault(t.subject.value, set()).add(t.object.value)
    for node, classes in types.items():
        for cls in classes:
            assert closure.get(cls, frozenset()) <= classes, (node, cls)


def test_the_story_uses_only_predicates_the_loader_writes() -> None:
    [record] = list(read_path(EXAMPLES / "story.json"))
    assert record.document is not None
    mapped = map_document(record.document, IriMinter(BASE), superclass_closure())
    written = {t.predicate.value for t in mapped.triples}
    used = {t.predicate.value for t in _triples(STORY)}
    assert used <= written, used - written


def test_the_context_conforms(validator: Validator) -> None:
    report = validator.validate(_triples(CONTEXT))
    assert report.conforms and report.results == (), "\n".join(map(str, report.results))


def test_the_loaders_own_story_conforms(validator: Validator) -> None:
    [record] = list(read_path(EXAMPLES / "story.json"))
    assert record.document is not None
    mapped = map_document(record.document, IriMinter(BASE), superclass_closure())
    report = validator.validate(mapped.triples, focus_nodes=mapped.nodes)
    assert report.conforms, "\n".join(map(str, report.violations))


def test_a_call_with_one_side_from_the_loader_is_rejected(validator: Validator) -> None:
    line = (DATA / "facts" / "three.jsonl").read_text().splitlines()[1]
    record = parse_document(json.loads(line), source="three.jsonl", line=2)
    assert record.document is not None
    mapped = map_document(record.document, IriMinter(BASE), superclass_closure())
    report = validator.validate(mapped.triples, focus_nodes=mapped.nodes)
    assert not report.conforms
    [violation] = report.violations
    assert violation.shape == "dsh:Consultation-two-participants"
    assert violation.focus_node.startswith(BASE + "id/event/phonecall-")
    assert mapped.origins[violation.focus_node] == "facts[0]"


# ------------------------------------------------------------------------------------------------
# Invalid data: one file per rule (or more)


def _case(path: Path) -> tuple[str, str, str]:
    """(expected message part, focus node IRI, severity) from a case file's header."""
    header = dict(_HEADER.findall(path.read_text()))
    assert {"expect", "focus"} <= header.keys(), f"{path.name}: header needs expect and focus"
    focus = header["focus"].strip()
    if focus.startswith("<"):
        focus_iri = urljoin(BASE + "id/", focus[1:-1])
    else:
        focus_iri = str(Graph().parse(path, format="turtle").namespace_manager.expand_curie(focus))
    return header["expect"].strip(), focus_iri, header.get("severity", "Violation").strip()


def _rule_of(expect: str) -> str:
    """The one shape whose message contains ``expect``, as ``dsh:Name``."""
    matches = [shape for shape, message in _messages().items() if expect in message]
    assert len(matches) == 1, f"{expect!r} must name exactly one rule, matches {matches}"
    return "dsh:" + matches[0].removeprefix(DSH)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_a_bad_input_is_caught_by_its_rule(validator: Validator, path: Path) -> None:
    expect, focus, severity = _case(path)
    rule = _rule_of(expect)
    report = validator.validate(_triples(CONTEXT) + _triples(path))
    found = [r for r in report.results if r.shape == rule]
    assert found, f"{rule} did not fire; results:\n" + "\n".join(map(str, report.results))
    assert {r.focus_node for r in found} == {focus}
    assert {r.severity for r in found} == {severity}
    assert all(expect in r.message for r in found)
    if severity == "Violation":
        assert not report.conforms
    else:
        assert report.conforms, "a warning or info must not reject the document"
    # The case breaks no rule on other nodes: the context stays valid around it.
    assert {r.focus_node for r in report.violations} <= {focus}


def test_every_rule_has_a_bad_input() -> None:
    covered = {_rule_of(_case(path)[0]) for path in INVALID}
    rules = {"dsh:" + shape.removeprefix(DSH) for shape in _messages()}
    assert rules - covered == set(), "rules without a case in tests/data/shapes/invalid/"


# ------------------------------------------------------------------------------------------------
# Dates: end before start, across precisions


def _dated(start: str, end: str) -> list[ox.Triple]:
    return _triples(CONTEXT) + _turtle(
        f"""
        event:dated a dip:Statement , dip:SpeechAct , dip:DiplomaticEvent , dip:Event ;
            prov:wasDerivedFrom doc:shapes-test ; dip:attestedBy att:shared ;
            dip:modality kw:asserted ; dip:hasParticipant person:ana ; dip:speaker person:ana ;
            dip:startDate {start} ; dip:endDate {end} .
        """
    )


@pytest.mark.parametrize(
    ("start", "end", "ends_before_start"),
    [
        # a date start and a date-time end the evening before: sh:lessThan misses this one
        ('"2023-10-14"^^xsd:date', '"2023-10-13T23:00:00Z"^^xsd:dateTime', True),
        ('"2023-10-14"^^xsd:date', '"2023-10-14T23:00:00Z"^^xsd:dateTime', False),
        ('"2023-10-14T10:00:00Z"^^xsd:dateTime', '"2023-10-14T09:00:00Z"^^xsd:dateTime', True),
        (
            '"2023-10-14T10:00:00+02:00"^^xsd:dateTime',
            '"2023-10-14T09:00:00Z"^^xsd:dateTime',
            False,
        ),
        ('"2023-06-14"^^xsd:date', '"2023-06"^^xsd:gYearMonth', False),
        ('"2023-06"^^xsd:gYearMonth', '"2023-06-01"^^xsd:date', False),
        ('"2023"^^xsd:gYear', '"2023-01-01"^^xsd:date', False),
        ('"2024"^^xsd:gYear', '"2023-12"^^xsd:gYearMonth', True),
        ('"2023-10-14"^^xsd:date', '"2023-10-12"^^xsd:date', True),
    ],
)
def test_end_before_start(
    validator: Validator, start: str, end: str, ends_before_start: bool
) -> None:
    report = validator.validate(_dated(start, end))
    rules = {r.shape for r in report.violations}
    assert rules == ({"dsh:Fact-end-not-before-start"} if ends_before_start else set())


# ------------------------------------------------------------------------------------------------
# The Validator


def test_a_violation_names_node_path_value_rule_and_fix(validator: Validator) -> None:
    report = validator.validate(
        _triples(CONTEXT) + _turtle('att:shared dip:confidence "1.7"^^xsd:decimal .')
    )
    found = [r for r in report.results if r.shape == "dsh:Confidence-range"]
    assert found == [
        Violation(
            focus_node=BASE + "id/doc/shapes-test/attestation/shared",
            path="dip:confidence",
            value='"1.7"^^xsd:decimal',
            constraint="sh:MaxInclusiveConstraintComponent",
            shape="dsh:Confidence-range",
            message=_messages()[DSH + "Confidence-range"],
            severity="Violation",
        )
    ]
    assert "between 0 and 1" in str(found[0])


def test_paths_are_shown_in_sparql_syntax(validator: Validator) -> None:
    bad = SHAPES_DATA / "invalid" / "postholding-organization-equals.ttl"
    report = validator.validate(_triples(CONTEXT) + _triples(bad))
    found = [r for r in report.results if r.shape == "dsh:PostHolding-organization-equals"]
    assert {r.path for r in found} == {"dip:post/org:postIn"}
    # sh:equals reports each value that is on one side only
    assert {r.value for r in found} == {BASE + "id/org/ministry", BASE + "id/org/gov"}


def test_focus_nodes_limit_the_nodes_judged(validator: Validator) -> None:
    bad = SHAPES_DATA / "invalid" / "appeal-recipient-min.ttl"
    data = _triples(CONTEXT) + _triples(bad)
    event = BASE + "id/event/bad"
    assert not validator.validate(data, focus_nodes=[event]).conforms
    others = {t.subject.value for t in data if isinstance(t.subject, ox.NamedNode)} - {event}
    assert validator.validate(data, focus_nodes=others).conforms
    assert validator.validate(data, focus_nodes=[]) == ValidationReport(True, ())


def test_nodes_known_only_by_type_are_not_judged(validator: Validator) -> None:
    """The loader adds the stored types of linked nodes; those nodes are not focus nodes."""
    data = _triples(CONTEXT) + _turtle(
        """
        event:call dip:subEventOf event:elsewhere .
        event:elsewhere a dip:Meeting , dip:Consultation , dip:DiplomaticEvent , dip:Event .
        """
    )
    focus = {t.subject.value for t in _triples(CONTEXT)}
    assert validator.validate(data, focus_nodes=focus).conforms
    assert not validator.validate(data).conforms  # judged on its own, the meeting is incomplete


def _copy(triples: list[ox.Triple], tag: str) -> Iterator[ox.Triple]:
    """The triples with every data IRI renamed, as another document of the same size."""

    def rename(term: Any) -> Any:
        if isinstance(term, ox.NamedNode) and term.value.startswith(BASE + "id/"):
            return ox.NamedNode(BASE + f"id/{tag}/" + term.value.removeprefix(BASE + "id/"))
        return term

    for t in triples:
        yield ox.Triple(rename(t.subject), t.predicate, rename(t.object))


def test_a_batch_of_documents_is_validated_at_once(validator: Validator) -> None:
    story = _triples(STORY)
    batch = [t for i in range(5) for t in _copy(story, f"copy{i}")]
    report = validator.validate(batch)
    assert report.conforms
    assert len(report.results) == 5 * 8
    bad = _triples(CONTEXT) + _triples(SHAPES_DATA / "invalid" / "attack-target-min.ttl")
    report = validator.validate(batch + list(_copy(bad, "bad")))
    assert [r.focus_node for r in report.violations] == [BASE + "id/bad/event/bad"]


def test_literals_keep_their_datatype_and_language(validator: Validator) -> None:
    """A plain string, an xsd:string and a language-tagged string reach the shapes as such."""
    data = _triples(CONTEXT) + _turtle(
        """
        person:ana rdfs:label "Ana"^^xsd:string .
        person:bo rdfs:label "Bo" .
        """
    )
    found = {
        r.focus_node
        for r in validator.validate(data).results
        if r.shape == "dsh:Entity-label-datatype"
    }
    assert found == {BASE + "id/person/ana", BASE + "id/person/bo"}
