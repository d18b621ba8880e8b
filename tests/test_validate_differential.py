"""The compiled SPARQL validation agrees exactly with pySHACL, the reference.

``Validator(engine="sparql")`` (loader/shacl/) must give the same results as
``Validator(engine="pyshacl")``: the same set of violations, warnings and infos, each with the
same focus node, path, value, constraint, shape, message and severity. The cases: every shapes
test file, the sample story as the loader maps it, a few hundred generated documents, random
mutations of valid documents (hypothesis), and shapes using the constructs the diplograph shapes
do not (nested sh:property, sh:sparql). A construct the compiler does not know is refused.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from rdflib import Graph

from bench.generate import generate
from diplograph.loader.errors import ConfigError
from diplograph.loader.facts import parse_document, read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.namespaces import DIP, RDF, XSD
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.shacl import SparqlShapes
from diplograph.loader.validate import ValidationReport, Validator
from tests.conftest import DATA, EXAMPLES

SHAPES_DATA = DATA / "shapes"
CONTEXT = SHAPES_DATA / "context.ttl"
VALID = sorted((SHAPES_DATA / "valid").glob("*.ttl"))
INVALID = sorted((SHAPES_DATA / "invalid").glob("*.ttl"))
BASE = "https://w3id.org/diplograph/"


@pytest.fixture(scope="module")
def sparql() -> Validator:
    return Validator("sparql")


@pytest.fixture(scope="module")
def pyshacl() -> Validator:
    return Validator("pyshacl")


def _triples(path: Path) -> list[ox.Triple]:
    return list(ox.parse(path=path, format=ox.RdfFormat.TURTLE))


def _mapped(document: dict[str, object], line: int = 1) -> MappedDocument:
    record = parse_document(document, source="generated", line=line)
    assert record.document is not None, record
    return map_document(record.document, IriMinter(BASE), superclass_closure())


def _story() -> MappedDocument:
    [record] = list(read_path(EXAMPLES / "story.json"))
    assert record.document is not None
    return map_document(record.document, IriMinter(BASE), superclass_closure())


def _agree(
    sparql: Validator,
    pyshacl: Validator,
    data: Sequence[ox.Triple],
    focus: Sequence[str] | None = None,
) -> ValidationReport:
    """Both engines' reports on ``data``; they must be equal. Returns the report."""
    fast = sparql.validate(data, focus_nodes=focus)
    reference = pyshacl.validate(data, focus_nodes=focus)
    only_fast = set(fast.results) - set(reference.results)
    only_reference = set(reference.results) - set(fast.results)
    assert not only_fast and not only_reference, (
        "engines disagree\nonly sparql:\n"
        + "\n".join(map(repr, only_fast))
        + "\nonly pyshacl:\n"
        + "\n".join(map(repr, only_reference))
    )
    assert fast == reference  # same order and verdict too
    return fast


# ------------------------------------------------------------------------------------------------
# The shapes test files and the sample story


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_engines_agree_on_a_valid_file(sparql: Validator, pyshacl: Validator, path: Path) -> None:
    report = _agree(sparql, pyshacl, _triples(path))
    assert report.conforms


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_engines_agree_on_a_bad_input(sparql: Validator, pyshacl: Validator, path: Path) -> None:
    report = _agree(sparql, pyshacl, _triples(CONTEXT) + _triples(path))
    assert report.results  # every case breaks a rule, so agreement is not on an empty report


def test_engines_agree_on_the_mapped_story(sparql: Validator, pyshacl: Validator) -> None:
    story = _story()
    _agree(sparql, pyshacl, story.triples)
    report = _agree(sparql, pyshacl, story.triples, focus=sorted(story.nodes))
    assert report.conforms and report.results  # the undated events get infos


# ------------------------------------------------------------------------------------------------
# Generated documents


@pytest.mark.slow
def test_engines_agree_on_batches_of_generated_documents(
    sparql: Validator, pyshacl: Validator
) -> None:
    """300 documents in batches of 50, as the loader validates them (with its focus nodes)."""
    docs = [_mapped(d, i) for i, d in enumerate(generate(300, seed=7), start=1)]
    for start in range(0, len(docs), 50):
        batch = docs[start : start + 50]
        triples = [t for d in batch for t in d.triples]
        _agree(sparql, pyshacl, triples, focus=sorted({n for d in batch for n in d.nodes}))


@pytest.mark.slow
def test_engines_agree_on_generated_documents_one_by_one(
    sparql: Validator, pyshacl: Validator
) -> None:
    """Without focus nodes, so that the nodes a document only links to are judged as well."""
    for i, document in enumerate(generate(20, seed=11), start=1):
        _agree(sparql, pyshacl, _mapped(document, i).triples)


# ------------------------------------------------------------------------------------------------
# Mutations of valid documents

_XSD_LITERALS = [
    ("2023-02-30", "date"),
    ("2023-10-14", "date"),
    ("2023-10-14T09:30:00", "dateTime"),
    ("2023-10-14T09:30:00+00:00", "dateTime"),
    ("2023-10-14T24:00:00Z", "dateTime"),
    ("2023-10", "gYearMonth"),
    ("2023", "gYear"),
    ("abc", "decimal"),
    ("0.50", "decimal"),
    ("1.7", "decimal"),
    ("-0.1", "decimal"),
    ("1e3", "decimal"),
    ("0.5", "double"),
    ("01", "integer"),
    ("-3", "integer"),
    ("12", "integer"),
    ("1", "boolean"),
    ("PT60M", "duration"),
    ("nonsense", "duration"),
    ("0.9", "string"),
]
_OTHER_TERMS: list[ox.NamedNode | ox.Literal] = [
    ox.Literal("Ana", language="en"),
    ox.Literal("plain"),
    ox.NamedNode(DIP + "Agent"),
    ox.NamedNode("http://www.wikidata.org/entity/Q42"),
    ox.NamedNode("https://example.org/not-wikidata"),
    ox.NamedNode(BASE + "kw/asserted"),
    ox.NamedNode(BASE + "kw/not-a-keyword"),
    ox.NamedNode(BASE + "cameo/041"),
    ox.NamedNode(BASE + "cameo/999"),
]
_CLASSES = [
    ox.NamedNode(DIP + name)
    for name in (
        *("Agent", "Person", "Organization", "Government", "GovernmentBody", "State", "Place"),
        *("Event", "PhoneCall", "Meeting", "Visit", "Attack", "Appeal", "Readout", "Statement"),
        *("Participation", "Stance", "Backing", "PostHolding", "Post", "DiplomaticPost"),
        *("Diplomat", "NewsArticle", "Attestation", "TextSpan", "Mediation", "Agreement"),
    )
]
_TYPE = ox.NamedNode(RDF + "type")
_REPLACEMENTS: list[ox.NamedNode | ox.Literal] = [
    ox.Literal(v, datatype=ox.NamedNode(XSD + d)) for v, d in _XSD_LITERALS
]
_REPLACEMENTS += _OTHER_TERMS


def _bases() -> list[list[ox.Triple]]:
    generated = [_mapped(d, i) for i, d in enumerate(generate(3, seed=5), start=1)]
    return [_story().triples, *(d.triples for d in generated), _triples(CONTEXT)]


_BASES = _bases()


@st.composite
def _mutations(draw: st.DrawFn) -> list[ox.Triple]:
    """A valid document with a few random edits of the kinds that break shapes."""
    triples = list(draw(st.sampled_from(_BASES)))
    index = st.integers(min_value=0, max_value=len(triples) - 1)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["drop", "duplicate", "literal", "retype", "relink"]))
        t = triples[draw(index)]
        if kind == "drop":
            triples.remove(t)
        elif kind == "duplicate":  # a second value of the same property, taken from elsewhere
            other = triples[draw(index)]
            triples.append(ox.Triple(t.subject, t.predicate, other.object))
        elif kind == "literal":  # another lexical form or datatype in place of a value
            replacement = draw(st.sampled_from(_REPLACEMENTS))
            literals = [i for i, x in enumerate(triples) if isinstance(x.object, ox.Literal)]
            i = draw(st.sampled_from(literals))
            triples[i] = ox.Triple(triples[i].subject, triples[i].predicate, replacement)
        elif kind == "retype":  # a node loses a type or gains another
            typed = [i for i, x in enumerate(triples) if x.predicate == _TYPE]
            i = draw(st.sampled_from(typed))
            triples[i] = ox.Triple(triples[i].subject, _TYPE, draw(st.sampled_from(_CLASSES)))
        else:  # a link to another node of the document
            other = triples[draw(index)]
            triples.append(ox.Triple(t.subject, t.predicate, other.subject))
        index = st.integers(min_value=0, max_value=len(triples) - 1)
    return triples


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=_mutations())
def test_engines_agree_on_mutated_documents(data: list[ox.Triple]) -> None:
    _agree(_validators()[0], _validators()[1], data)


@functools.cache
def _validators() -> tuple[Validator, Validator]:
    # hypothesis runs the test many times; function-scoped fixtures would not be shared.
    return Validator("sparql"), Validator("pyshacl")


@pytest.mark.slow
def test_the_mutations_break_shapes() -> None:
    """The strategy reaches rejected documents with offending values, not only harmless edits."""
    sparql = _validators()[0]
    with warnings.catch_warnings():  # find() warns that the example's repr is large
        warnings.simplefilter("ignore", HypothesisWarning)
        found = find(
            _mutations(),
            lambda data: any(r.value is not None for r in sparql.validate(data).violations),
            settings=settings(max_examples=200, database=None, derandomize=True),
        )
    assert not sparql.validate(found).conforms


# ------------------------------------------------------------------------------------------------
# Constructs the diplograph shapes do not use, and one no engine here knows

_PREFIXES = """
@prefix sh:  <http://www.w3.org/ns/shacl#> .
@prefix dip: <https://w3id.org/diplograph/ns#> .
@prefix ex:  <https://example.org/shapes#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""

_EXTRA_SHAPES = (
    _PREFIXES
    + """
ex:decl sh:declare [
    sh:prefix "dip" ; sh:namespace "https://w3id.org/diplograph/ns#"^^xsd:anyURI ] .

ex:Person
    a sh:NodeShape ;
    sh:targetClass dip:Person ;
    sh:property [
        sh:path rdfs:label ;
        sh:maxCount 1 ;
        sh:message "A person has one name."@en ;
    ] , [
        sh:path dip:holdsPost ;
        sh:minCount 1 ;
        sh:severity sh:Warning ;
        sh:message "A person in the news usually holds a post."@en ;
    ] .

ex:Event-no-self-talk
    a sh:NodeShape ;
    sh:targetClass dip:Event ;
    sh:sparql [
        sh:prefixes ex:decl ;
        sh:select '''SELECT $this ?value WHERE {
            $this dip:initiator ?value . $this dip:recipient ?value }''' ;
    ] ;
    sh:message "An event's initiator is also its recipient."@en .

ex:Event-is-event
    a sh:NodeShape ;
    sh:targetSubjectsOf dip:initiator ;
    sh:class dip:Event ;
    sh:hasValue <https://w3id.org/diplograph/id/event/never> ;
    sh:message "Only an event has an initiator."@en .
"""
)


@pytest.mark.slow
def test_engines_agree_on_nested_property_shapes_and_sparql_constraints() -> None:
    shapes = Graph().parse(data=_EXTRA_SHAPES, format="turtle")
    sparql, pyshacl = Validator("sparql", shapes=shapes), Validator("pyshacl", shapes=shapes)
    story = _story().triples
    person = ox.NamedNode(BASE + "id/person/antony-blinken")
    call = next(t.subject for t in story if t.predicate.value == DIP + "initiator")
    broken = [
        *story,
        ox.Triple(person, ox.NamedNode(RDF + "type"), ox.NamedNode(DIP + "Person")),
        ox.Triple(person, ox.NamedNode(str(_RDFS_LABEL)), ox.Literal("Tony", language="en")),
        ox.Triple(call, ox.NamedNode(DIP + "recipient"), _initiator(story, call)),
    ]
    for data in (story, broken):
        report = _agree(sparql, pyshacl, data)
    shapes_hit = {r.shape for r in report.results}
    assert {"ex:Event-no-self-talk", "ex:Event-is-event"} <= {
        s.replace("<https://example.org/shapes#", "ex:").rstrip(">") for s in shapes_hit
    }
    assert any(r.shape.endswith("[rdfs:label]") for r in report.results)


_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _initiator(triples: Sequence[ox.Triple], event: object) -> ox.NamedNode:
    for t in triples:
        if t.subject == event and t.predicate.value == DIP + "initiator":
            assert isinstance(t.object, ox.NamedNode)
            return t.object
    raise AssertionError("no initiator")


@pytest.mark.parametrize(
    ("shape", "construct"),
    [
        ("ex:S a sh:NodeShape ; sh:targetClass dip:Person ; sh:closed true", "sh:closed"),
        ("ex:S a sh:PropertyShape ; sh:targetNode dip:x ; sh:path dip:p", "sh:targetNode"),
        (
            "ex:S sh:targetClass dip:Person ; sh:path [ sh:zeroOrMorePath dip:p ] ; "
            'sh:minCount 1 ; sh:message "m"',
            "sh:zeroOrMorePath",
        ),
        (
            'ex:S sh:targetClass dip:Person ; sh:path dip:p ; sh:minLength 2 ; sh:message "m"',
            "sh:minLength",
        ),
        (
            "ex:S sh:targetClass dip:Person ; sh:path dip:p ; "
            'sh:or ( [ sh:nodeKind sh:IRI ] ) ; sh:message "m"',
            "sh:nodeKind",
        ),
    ],
)
def test_an_unsupported_construct_is_refused_naming_shape_and_construct(
    shape: str, construct: str
) -> None:
    graph = Graph().parse(data=_PREFIXES + shape + " .", format="turtle")
    with pytest.raises(ConfigError) as error:
        SparqlShapes(graph, ())
    assert construct in error.value.message
    assert "<https://example.org/shapes#S>" in error.value.message
    with pytest.raises(ConfigError):  # and so does the Validator that would use it
        Validator("sparql", shapes=graph)


def test_a_rule_without_a_message_is_refused() -> None:
    graph = Graph().parse(
        data=_PREFIXES + "ex:S sh:targetClass dip:Person ; sh:path dip:p ; sh:minCount 1 .",
        format="turtle",
    )
    with pytest.raises(ConfigError, match="without sh:message"):
        SparqlShapes(graph, ())


def test_the_diplograph_shapes_compile(sparql: Validator) -> None:
    """Every construct of shapes/diplograph-shapes.ttl is supported (else ConfigError)."""
    assert sparql.engine == "sparql"
    report = sparql.validate(_triples(CONTEXT))
    assert report == ValidationReport(True, ())
