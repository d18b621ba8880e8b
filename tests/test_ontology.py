"""The ontology and its code lists: parsing, OWL 2 DL hygiene, reasoning and the loader's view.

Each quality point of the ontology is one test: the files parse the same in three parsers; every
term used is declared, once, as one kind (no punning); every diplograph term has a label, a
definition and rdfs:isDefinedBy; labels are unique; the headers carry their metadata; the
catalog resolves the imports; the terms of docs/mapping.md and the enums of the facts format are
all in the ontology; HermiT finds the ontology consistent and catches planted errors; and
loader.ontology hands out what the loader and the server need (the merged document with one header
and no imports, superclass closure, stable triples).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from enum import StrEnum
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from diplograph import ontology
from diplograph.loader import ontology as lo
from diplograph.loader.errors import ConfigError, InputError
from diplograph.loader.facts import (
    EntityType,
    FactsDocument,
    FactType,
    Modality,
    Polarity,
    RelationQuality,
)
from diplograph.loader.facts import Role as FactRole
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import map_document
from diplograph.loader.namespaces import CAMEO, DIP, KW, ONTOLOGY_IRI, PLOVER, PREFIXES
from tests.conftest import EXAMPLES, ROOT
from tests.support.external import require_program
from tests.support.owlapi import run_owlapi_check

ONTOLOGY_DIR = ROOT / "ontology"
FILES = ["diplograph.ttl", "codes.ttl", "cameo.ttl", "plover.ttl"]
ONTOLOGY_IRIS = {
    "diplograph.ttl": ONTOLOGY_IRI,
    "codes.ttl": "https://w3id.org/diplograph/codes",
    "cameo.ttl": "https://w3id.org/diplograph/cameo",
    "plover.ttl": "https://w3id.org/diplograph/plover",
}
OUR_NAMESPACES = (DIP, KW, CAMEO, PLOVER)

DCTERMS = "http://purl.org/dc/terms/"
VANN = "http://purl.org/vocab/vann/"
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
BUILTIN_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))

DECLARATION_KINDS = {
    OWL.Class: "class",
    OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "datatype property",
    OWL.AnnotationProperty: "annotation property",
    RDFS.Datatype: "datatype",
    OWL.NamedIndividual: "individual",
}
BUILTIN_ANNOTATIONS = {
    RDFS.label,
    RDFS.comment,
    RDFS.isDefinedBy,
    RDFS.seeAlso,
    OWL.versionInfo,
    OWL.deprecated,
}
#: Predicates that make axioms (rather than annotations) about a class or property.
AXIOM_PREDICATES = {
    RDF.type,
    RDFS.subClassOf,
    OWL.equivalentClass,
    OWL.disjointWith,
    OWL.disjointUnionOf,
    RDFS.subPropertyOf,
    OWL.equivalentProperty,
    OWL.inverseOf,
    OWL.propertyChainAxiom,
    RDFS.domain,
    RDFS.range,
}
HEADER_PREDICATES = {OWL.imports, OWL.versionIRI, OWL.priorVersion}
CLASS_POSITIONS = {
    RDFS.subClassOf,
    OWL.equivalentClass,
    OWL.disjointWith,
    OWL.someValuesFrom,
    OWL.allValuesFrom,
    OWL.onClass,
    OWL.complementOf,
}
LIST_OF_CLASSES = {OWL.unionOf, OWL.intersectionOf, OWL.disjointUnionOf}
DATE_PROPERTIES = [
    *("startDate", "endDate", "earliestStart", "latestStart", "duration", "observedHeldOn"),
    *("heldFromEarliest", "heldFromLatest", "heldUntilEarliest", "heldUntilLatest"),
]


def _parse(name: str) -> Graph:
    graph = Graph()
    graph.parse(ONTOLOGY_DIR / name, format="turtle")
    return graph


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {name: _parse(name) for name in FILES}


@pytest.fixture(scope="module")
def closure(graphs: dict[str, Graph]) -> Graph:
    merged = Graph()
    for graph in graphs.values():
        merged += graph
    return merged


def _kinds(graph: Graph) -> dict[Node, set[str]]:
    kinds: dict[Node, set[str]] = {}
    for declaration, kind in DECLARATION_KINDS.items():
        for term in graph.subjects(RDF.type, declaration):
            if isinstance(term, URIRef):
                kinds.setdefault(term, set()).add(kind)
    return kinds


def _builtin(term: Node) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(BUILTIN_NAMESPACES)


def _ours(term: Node) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(OUR_NAMESPACES)


def _dip_terms(graph: Graph) -> list[URIRef]:
    return sorted(
        t
        for t, kinds in _kinds(graph).items()
        if isinstance(t, URIRef) and str(t).startswith(DIP) and kinds - {"individual"}
    )


# ------------------------------------------------------------------------------------------------
# Parsing


@pytest.mark.parametrize("name", FILES)
def test_rdflib_and_pyoxigraph_read_the_same_triples(name: str) -> None:
    rdflib_count = len(_parse(name))
    oxigraph_triples = list(pyoxigraph.parse(path=ONTOLOGY_DIR / name))
    # Equal counts also mean that no triple is written twice in the file.
    assert len(oxigraph_triples) == rdflib_count
    assert len(set(oxigraph_triples)) == rdflib_count


@pytest.mark.external
@pytest.mark.parametrize("name", FILES)
def test_rapper_reads_the_same_number_of_triples(name: str) -> None:
    rapper = require_program("rapper")
    done = subprocess.run(
        [rapper, "-i", "turtle", "-c", str(ONTOLOGY_DIR / name)],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"returned (\d+) triples", done.stderr)
    assert match, done.stderr
    assert int(match.group(1)) == len(_parse(name))
    assert "error" not in done.stderr.lower() and "warning" not in done.stderr.lower()


# ------------------------------------------------------------------------------------------------
# OWL 2 DL hygiene


@pytest.mark.parametrize("name", FILES)
def test_every_term_used_is_declared_in_its_own_file(name: str) -> None:
    graph = _parse(name)
    kinds = _kinds(graph)

    def kind(term: Node) -> set[str]:
        return kinds.get(term, set())

    problems: list[str] = []

    def need(term: Node, wanted: set[str], where: str) -> None:
        if isinstance(term, URIRef) and not _builtin(term) and not kind(term) & wanted:
            problems.append(f"{term} ({where}) is not declared as {' or '.join(sorted(wanted))}")

    properties = {"object property", "datatype property", "annotation property"}
    for s, p, o in graph:
        need(p, properties, "predicate")
        if p == RDF.type:
            need(o, {"class"}, "rdf:type object")
        if p in CLASS_POSITIONS:
            need(o, {"class"}, str(p))
            need(s, {"class"}, f"subject of {p}")
        if p in LIST_OF_CLASSES or (
            p == OWL.members and (s, RDF.type, OWL.AllDisjointClasses) in graph
        ):
            for member in Collection(graph, o):
                need(member, {"class"}, f"member of {p}")
        if p in {RDFS.subPropertyOf, OWL.inverseOf, OWL.equivalentProperty}:
            need(s, properties, str(p))
            need(o, properties, str(p))
        if p == OWL.onProperty:
            need(o, {"object property", "datatype property"}, "owl:onProperty")
        if p == OWL.propertyChainAxiom:
            for link in Collection(graph, o):
                need(link, {"object property"}, "property chain")
        if p == RDFS.domain:
            need(o, {"class"}, "rdfs:domain")
        if p == RDFS.range and "object property" in kind(s):
            need(o, {"class"}, "rdfs:range of an object property")
        if "object property" in kind(p) and isinstance(o, URIRef):
            need(s, {"individual", "class"}, f"subject of {p}")
            need(o, {"individual"}, f"object of {p}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_no_iri_is_declared_as_two_kinds(closure: Graph) -> None:
    punned = {str(t): sorted(k) for t, k in _kinds(closure).items() if len(k) > 1}
    assert not punned


def test_no_reserved_vocabulary_is_declared_or_described(closure: Graph) -> None:
    assert not [s for s in set(closure.subjects()) if _builtin(s)]


def test_external_terms_are_declared_only_never_given_axioms(closure: Graph) -> None:
    """MIREOT: ORG, PROV, SEM … terms are declared; axioms go on our terms, never on theirs."""
    headers = {str(i) for i in ONTOLOGY_IRIS.values()}
    extra = [
        (s, p, o)
        for s, p, o in closure
        if isinstance(s, URIRef)
        and not _ours(s)
        and str(s) not in headers
        and not (p == RDF.type and o in DECLARATION_KINDS)
    ]
    assert not extra


def test_only_the_code_lists_are_imported(closure: Graph) -> None:
    imports = {str(o) for o in closure.objects(None, OWL.imports)}
    assert imports == {iri for name, iri in ONTOLOGY_IRIS.items() if name != "diplograph.ttl"}


def test_classes_and_properties_carry_only_axioms_and_annotations(closure: Graph) -> None:
    """A class is never the subject of an object or data property (e.g. dip:cameoCode): the
    class-level hints use the annotation properties dip:typicalCameoCode/typicalPloverType."""
    kinds = _kinds(closure)
    annotations = {t for t, k in kinds.items() if "annotation property" in k} | BUILTIN_ANNOTATIONS
    wrong = []
    for term, kind in kinds.items():
        if kind - {"individual"}:
            allowed = AXIOM_PREDICATES | annotations
            wrong += [(term, p) for p in closure.predicates(term) if p not in allowed]
    for header in closure.subjects(RDF.type, OWL.Ontology):
        allowed = HEADER_PREDICATES | annotations | {RDF.type}
        wrong += [(header, p) for p in closure.predicates(header) if p not in allowed]
    assert not wrong


def test_datatype_ranges_are_in_the_owl2_datatype_map(closure: Graph) -> None:
    for prop in closure.subjects(RDF.type, OWL.DatatypeProperty):
        for rng in closure.objects(prop, RDFS.range):
            if isinstance(rng, BNode):  # a datatype restriction: check the base datatype
                rng = closure.value(rng, OWL.onDatatype)
            assert str(rng) in lo.OWL2_DATATYPES, (prop, rng)


@pytest.mark.parametrize("local", DATE_PROPERTIES)
def test_date_and_duration_properties_have_no_owl_range(closure: Graph, local: str) -> None:
    """xsd:date, xsd:gYear … are outside the OWL 2 datatype map; SHACL checks them instead."""
    prop = URIRef(DIP + local)
    assert (prop, RDF.type, OWL.DatatypeProperty) in closure
    assert closure.value(prop, RDFS.range) is None


def test_every_dip_term_has_a_label_a_definition_and_is_defined_by(closure: Graph) -> None:
    terms = _dip_terms(closure)
    assert len(terms) > 100
    for term in terms:
        labels = list(closure.objects(term, RDFS.label))
        assert len(labels) == 1 and isinstance(labels[0], Literal), term
        assert labels[0].language == "en", term
        definitions = list(closure.objects(term, SKOS.definition))
        assert definitions and all(
            isinstance(d, Literal) and d.language == "en" for d in definitions
        ), term
        assert (term, RDFS.isDefinedBy, URIRef(ONTOLOGY_IRI)) in closure, term


def test_labels_are_unique_across_all_terms(closure: Graph) -> None:
    labelled = [
        (str(label).casefold(), term) for term, label in closure.subject_objects(RDFS.label)
    ]
    headers = set(closure.subjects(RDF.type, OWL.Ontology))
    counts = Counter(label for label, term in labelled if term not in headers)
    assert not [label for label, n in counts.items() if n > 1]


@pytest.mark.parametrize("name", FILES)
def test_each_header_has_its_metadata(graphs: dict[str, Graph], name: str) -> None:
    graph = graphs[name]
    iri = URIRef(ONTOLOGY_IRIS[name])
    assert set(graph.subjects(RDF.type, OWL.Ontology)) == {iri}
    version = graph.value(iri, OWL.versionInfo)
    version_iri = graph.value(iri, OWL.versionIRI)
    assert version is not None and re.fullmatch(r"\d+\.\d+\.\d+", str(version))
    assert version_iri == URIRef(f"{iri}/{version}") and version_iri != iri
    for local in ("title", "description", "creator", "created"):
        assert graph.value(iri, URIRef(DCTERMS + local)) is not None, local
    assert graph.value(iri, URIRef(DCTERMS + "license")) == CC_BY
    created = graph.value(iri, URIRef(DCTERMS + "created"))
    assert isinstance(created, Literal) and created.datatype == XSD.date
    prefix = graph.value(iri, URIRef(VANN + "preferredNamespacePrefix"))
    namespace = graph.value(iri, URIRef(VANN + "preferredNamespaceUri"))
    assert prefix is not None and namespace is not None
    expected = {
        "diplograph.ttl": ("dip", DIP),
        "codes.ttl": ("kw", KW),
        "cameo.ttl": ("cameo", CAMEO),
        "plover.ttl": ("plover", PLOVER),
    }[name]
    assert (str(prefix), str(namespace)) == expected


def test_every_ontology_has_the_same_version(graphs: dict[str, Graph]) -> None:
    versions = {str(g.value(URIRef(ONTOLOGY_IRIS[n]), OWL.versionInfo)) for n, g in graphs.items()}
    assert versions == {"0.1.0"}


def test_the_catalog_resolves_every_import_to_a_shipped_file(graphs: dict[str, Graph]) -> None:
    entries = {
        element.attrib["name"]: element.attrib["uri"]
        for element in ET.parse(ONTOLOGY_DIR / "catalog-v001.xml").getroot().iter()
        if element.tag.endswith("}uri")
    }
    for name, target in entries.items():
        path = ONTOLOGY_DIR / target
        assert path.is_file(), target
        header = URIRef(ONTOLOGY_IRIS[target])
        assert URIRef(name) in {header, graphs[target].value(header, OWL.versionIRI)}
    imports = {str(o) for g in graphs.values() for o in g.objects(None, OWL.imports)}
    assert imports <= set(entries)
    assert set(entries.values()) == set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_no_machine_paths_or_local_hosts_in_the_files(name: str) -> None:
    text = (ONTOLOGY_DIR / name).read_text(encoding="utf-8")
    for needle in ("/home/", "/work/", "/tmp/", "file:", "localhost", "127.0.0.1"):
        assert needle not in text


# ------------------------------------------------------------------------------------------------
# The ontology covers the mapping and the facts format


def _mapping_doc_terms() -> set[str]:
    """Every prefixed name docs/mapping.md uses (one-letter names such as dip:C are
    placeholders, and names with braces such as dip:{type} are templates)."""
    text = (ROOT / "docs" / "mapping.md").read_text(encoding="utf-8")
    names = set(
        re.findall(r"\b((?:dip|kw|prov|org|dcterms|schema|skos|foaf):[A-Za-z][\w-]*)", text)
    )
    names |= set(re.findall(r"\b(cameo:\d+|plover:[A-Z]+)\b", text))
    return {n for n in names if len(n.split(":", 1)[1]) > 1}


def test_every_term_of_the_mapping_doc_is_declared(closure: Graph) -> None:
    prefixes = {**PREFIXES, "foaf": "http://xmlns.com/foaf/0.1/", "dcterms": DCTERMS}
    kinds = _kinds(closure)
    concepts = set(closure.subjects(RDF.type, SKOS.Concept))
    terms = _mapping_doc_terms()
    assert {"dip:hasParticipant", "kw:concerned-about", "prov:wasRevisionOf"} <= terms
    missing = []
    for name in sorted(terms):
        prefix, local = name.split(":", 1)
        term = URIRef(prefixes[prefix] + local)
        if prefix in {"kw", "cameo", "plover"}:
            if term not in concepts:
                missing.append(name)
        elif not kinds.get(term, set()) - {"individual"}:
            missing.append(name)
    assert not missing


def test_entity_and_fact_types_are_ontology_classes(closure: Graph) -> None:
    classes = set(closure.subjects(RDF.type, OWL.Class))
    for value in [*EntityType, *FactType]:
        assert URIRef(DIP + value.value) in classes, value


@pytest.mark.parametrize(
    ("enum", "scheme"),
    [
        (FactRole, "roles"),
        (Polarity, "polarities"),
        (Modality, "modalities"),
        (RelationQuality, "relation-qualities"),
    ],
)
def test_facts_enums_are_exactly_the_code_lists(
    closure: Graph, enum: type[StrEnum], scheme: str
) -> None:
    members = {URIRef(KW + m.value) for m in enum}
    in_scheme = set(closure.subjects(SKOS.inScheme, URIRef(KW + scheme)))
    assert in_scheme == members


def test_the_loader_output_for_the_story_uses_only_declared_terms(closure: Graph) -> None:
    """Catches typos in the mapping (dip:attaker) and terms the ontology forgot."""
    mapped = _map_story()
    kinds = _kinds(closure)
    concepts = {str(c) for c in closure.subjects(RDF.type, SKOS.Concept)}
    rdf_type = pyoxigraph.NamedNode(str(RDF.type))
    unknown = set()
    for triple in mapped:
        p = URIRef(triple.predicate.value)
        if not _builtin(p) and not kinds.get(p, set()) - {"individual", "class"}:
            unknown.add(str(p))
        obj = triple.object
        if triple.predicate == rdf_type and not kinds.get(URIRef(obj.value), set()) & {"class"}:
            unknown.add(obj.value)
        code = isinstance(obj, pyoxigraph.NamedNode) and obj.value.startswith((KW, CAMEO, PLOVER))
        if code and obj.value not in concepts:
            unknown.add(obj.value)
    assert not unknown


# ------------------------------------------------------------------------------------------------
# Code lists


def _concepts(graph: Graph) -> set[Node]:
    return set(graph.subjects(RDF.type, SKOS.Concept))


@pytest.mark.parametrize("name", ["codes.ttl", "cameo.ttl", "plover.ttl"])
def test_every_concept_is_complete_and_in_a_scheme(graphs: dict[str, Graph], name: str) -> None:
    graph = graphs[name]
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes
    for concept in _concepts(graph):
        label = graph.value(concept, SKOS.prefLabel)
        definition = graph.value(concept, SKOS.definition)
        notation = graph.value(concept, SKOS.notation)
        assert isinstance(label, Literal) and label.language == "en", concept
        assert isinstance(definition, Literal) and definition.language == "en", concept
        assert notation is not None and str(concept).endswith(str(notation)), concept
        concept_schemes = set(graph.objects(concept, SKOS.inScheme))
        assert len(concept_schemes) == 1 and concept_schemes <= schemes, concept
    for scheme in schemes:
        members = set(graph.subjects(SKOS.inScheme, scheme))
        tops = set(graph.objects(scheme, SKOS.hasTopConcept))
        assert tops == set(graph.subjects(SKOS.topConceptOf, scheme)), scheme
        assert tops <= members
        for concept in members - tops:  # every other concept reaches a top concept
            seen = concept
            for _ in range(5):
                seen = graph.value(seen, SKOS.broader)
                assert seen in members, concept
                if seen in tops:
                    break
            assert seen in tops, concept
        for prop in (SKOS.notation, SKOS.prefLabel):
            values = Counter(str(graph.value(c, prop)) for c in members)
            assert not [v for v, n in values.items() if n > 1], (scheme, prop)


def test_cameo_has_the_root_codes_and_the_codes_the_story_needs(graphs: dict[str, Graph]) -> None:
    graph = graphs["cameo.ttl"]
    scheme = URIRef(CAMEO)
    roots = {str(c).removeprefix(CAMEO) for c in graph.objects(scheme, SKOS.hasTopConcept)}
    assert roots == {f"{i:02d}" for i in range(1, 21)}
    needed = (
        "010 018 02 020 022 027 040 041 042 043 044 045 046 051 057 111 1123 18 180 190 193 195"
    )
    for code in needed.split():
        assert (URIRef(CAMEO + code), SKOS.inScheme, scheme) in graph, code
    quads = {str(graph.value(URIRef(CAMEO + root), SKOS.broadMatch)) for root in roots}
    assert quads == {f"{CAMEO}quad-{q}" for q in range(1, 5)}
    assert str(graph.value(URIRef(CAMEO + "041"), SKOS.broader)) == CAMEO + "04"


def test_plover_has_its_16_types_with_close_matches_to_cameo(graphs: dict[str, Graph]) -> None:
    graph = graphs["plover.ttl"]
    types = {str(c).removeprefix(PLOVER) for c in graph.subjects(SKOS.inScheme, URIRef(PLOVER))}
    assert len(types) == 16 and {"CONSULT", "REQUEST", "ACCUSE", "SUPPORT", "ASSAULT"} <= types
    cameo = _concepts(graphs["cameo.ttl"])
    for plover_type, cameo_code in [("CONSULT", "041"), ("SUPPORT", "051"), ("ACCUSE", "111")]:
        assert (URIRef(PLOVER + plover_type), SKOS.closeMatch, URIRef(CAMEO + cameo_code)) in graph
    for target in graph.objects(None, SKOS.closeMatch):
        assert target in cameo, target


def test_typical_codes_are_concepts_of_the_right_scheme(closure: Graph) -> None:
    for prop, scheme in (("typicalCameoCode", CAMEO), ("typicalPloverType", PLOVER)):
        uses = list(closure.subject_objects(URIRef(DIP + prop)))
        assert uses, prop
        for cls, code in uses:
            assert (cls, RDF.type, OWL.Class) in closure
            assert (code, SKOS.inScheme, URIRef(scheme)) in closure, (cls, code)


# ------------------------------------------------------------------------------------------------
# loader.ontology


def test_superclass_closure_follows_subclass_and_defined_classes() -> None:
    closure = lo.superclass_closure()
    assert closure[DIP + "PhoneCall"] == {
        DIP + "Consultation",
        DIP + "DiplomaticEvent",
        DIP + "Event",
    }
    assert closure[DIP + "Diplomat"] == {DIP + "Person", DIP + "Agent"}
    assert closure[DIP + "State"] == {DIP + "Agent", DIP + "Place"}
    assert closure[DIP + "Readout"] == {
        DIP + "Statement",
        DIP + "SpeechAct",
        DIP + "DiplomaticEvent",
        DIP + "Event",
    }
    assert closure[DIP + "Situation"] == frozenset()
    for cls, sups in closure.items():
        assert cls.startswith(DIP) and cls not in sups
        assert all(s.startswith(DIP) for s in sups)
    for value in [*EntityType, *FactType]:
        assert DIP + value.value in closure


@pytest.fixture(scope="module")
def merged(closure: Graph) -> Graph:
    """The merged document: the union of the files less the code lists' headers and imports."""
    code_lists = {URIRef(iri) for name, iri in ONTOLOGY_IRIS.items() if name != "diplograph.ttl"}
    graph = Graph()
    for s, p, o in closure:
        if s not in code_lists and p != OWL.imports:
            graph.add((s, p, o))
    return graph


def test_the_merged_document_has_one_header_and_nothing_to_import(closure: Graph) -> None:
    """What /ns serves: Protégé opening it from a URL has no import left to fetch."""
    graph = lo.ontology_graph()
    ontology_iri = URIRef(ONTOLOGY_IRI)
    assert set(graph.subjects(RDF.type, OWL.Ontology)) == {ontology_iri}
    assert not list(graph.triples((None, OWL.imports, None)))
    for p, o in closure.predicate_objects(ontology_iri):
        assert (ontology_iri, p, o) in graph or p == OWL.imports, p
    assert graph.value(ontology_iri, OWL.versionIRI) == URIRef(ONTOLOGY_IRI + "/0.1.0")
    # Every term and axiom of the code lists is in it: only their headers are left out (the
    # blank nodes are renamed, so the triples naming none are compared here; the isomorphism
    # test below covers the rest).
    ground = [t for t in closure if not any(isinstance(n, BNode) for n in t)]
    left_out = {s for s, p, o in ground if (s, p, o) not in graph}
    assert left_out == {URIRef(iri) for iri in ONTOLOGY_IRIS.values()}


def test_ontology_graph_is_the_merged_document_and_a_fresh_copy(merged: Graph) -> None:
    graph = lo.ontology_graph()
    assert isomorphic(graph, merged)
    assert dict(graph.namespaces())["dip"] == URIRef(DIP)
    graph.add((URIRef(DIP + "x"), RDF.type, OWL.Class))
    assert len(lo.ontology_graph()) == len(merged)


def test_ontology_turtle_reads_back_as_the_same_graph(merged: Graph) -> None:
    text = lo.ontology_turtle()
    assert text.count("@prefix dip:") == 1
    assert isomorphic(Graph().parse(data=text, format="turtle"), merged)


def test_ontology_triples_round_trip_through_a_store(merged: Graph) -> None:
    triples = lo.ontology_triples()
    assert len(triples) == len(set(triples)) == len(merged)
    graph = pyoxigraph.NamedNode(ONTOLOGY_IRI)
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    stored = {q.triple for q in store.quads_for_pattern(None, None, None, graph)}
    assert stored == set(triples)


def test_ontology_triples_are_the_same_in_every_process() -> None:
    """Blank node ids are canonical, so the loader sees an unchanged stored ontology as such."""
    code = (
        "import hashlib; from diplograph.loader.ontology import ontology_triples; "
        "print(hashlib.sha256(''.join(map(str, ontology_triples())).encode()).hexdigest())"
    )
    run = [sys.executable, "-c", code]
    first, second = (
        subprocess.run(run, capture_output=True, text=True, check=True, cwd=ROOT) for _ in range(2)
    )
    assert first.stdout == second.stdout
    here = hashlib.sha256("".join(map(str, lo.ontology_triples())).encode()).hexdigest()
    assert first.stdout.strip() == here


def test_the_package_ships_every_file() -> None:
    paths = ontology.ontology_paths()
    assert [p.name for p in paths] == FILES
    assert all(p.is_file() for p in [*paths, ontology.catalog_path()])
    assert ontology.ontology_path() == paths[0]
    assert ontology.code_list_paths() == paths[1:]


def test_reason_without_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="HermiT needs Java 17\\+: install default-jre-headless"):
        lo.reason()


# ------------------------------------------------------------------------------------------------
# Reasoning with HermiT (owlready2, Java)

TURTLE_PREFIXES = """
@prefix dip: <https://w3id.org/diplograph/ns#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
"""


def _data(tmp_path: Path, turtle: str) -> list[Path]:
    path = tmp_path / "data.ttl"
    path.write_text(TURTLE_PREFIXES + turtle, encoding="utf-8")
    return [path]


def _map_story() -> list[pyoxigraph.Triple]:
    doc = FactsDocument.model_validate(json.loads((EXAMPLES / "story.json").read_text()))
    minter = IriMinter("https://w3id.org/diplograph/")
    return map_document(doc, minter, lo.superclass_closure()).triples


@pytest.mark.slow
@pytest.mark.external
def test_hermit_finds_the_ontology_consistent_with_no_unsatisfiable_class() -> None:
    require_program("java")
    report = lo.reason()
    assert report.consistent
    assert report.unsatisfiable == []


@pytest.mark.slow
@pytest.mark.external
def test_hermit_finds_the_story_consistent(tmp_path: Path) -> None:
    """The loader's triples for the story (dates included: reason() leaves them out)."""
    require_program("java")
    path = tmp_path / "story.nt"
    path.write_text("".join(f"{t} .\n" for t in _map_story()), encoding="utf-8")
    assert "XMLSchema#date>" in path.read_text()
    report = lo.reason([path])
    assert report.consistent and report.unsatisfiable == []


@pytest.mark.slow
@pytest.mark.external
@pytest.mark.parametrize(
    "planted",
    [
        pytest.param("ex:hamas a dip:Person , dip:Organization .", id="person-and-organization"),
        pytest.param(
            "ex:s a dip:Stance ; dip:attacker ex:hezbollah .", id="attacker-on-a-situation"
        ),
        pytest.param(
            'ex:a a dip:Attestation ; dip:confidence "1.7"^^xsd:decimal .', id="confidence-over-1"
        ),
        pytest.param("ex:riyadh a dip:City ; dip:governs ex:sau .", id="a-city-governing"),
    ],
)
def test_hermit_finds_planted_errors(tmp_path: Path, planted: str) -> None:
    require_program("java")
    assert not lo.reason(_data(tmp_path, planted)).consistent


@pytest.mark.slow
@pytest.mark.external
def test_a_person_holding_a_diplomatic_post_is_inferred_a_diplomat(tmp_path: Path) -> None:
    require_program("java")
    data = """
    ex:blinken a dip:Person .
    ex:sos a dip:DiplomaticPost .
    ex:h1 a dip:PostHolding ; org:member ex:blinken ; dip:post ex:sos ;
        dip:startDate "2021-01-26"^^xsd:date .
    ex:wang a dip:Person ; dip:holdsPost ex:fm .
    ex:fm a dip:DiplomaticPost .
    ex:miller a dip:Person ; dip:holdsPost ex:spokesperson .
    ex:spokesperson a dip:Post .
    """
    report = lo.reason(_data(tmp_path, data))
    assert report.consistent
    assert DIP + "Diplomat" in report.inferred_types["https://example.org/blinken"]
    assert DIP + "Diplomat" in report.inferred_types["https://example.org/wang"]
    assert DIP + "Diplomat" not in report.inferred_types.get("https://example.org/miller", [])


@pytest.mark.slow
@pytest.mark.external
def test_reason_reads_datasets_and_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    require_program("java")
    trig = tmp_path / "data.trig"
    trig.write_text(
        TURTLE_PREFIXES
        + "ex:g1 { ex:wang a dip:Person ; dip:holdsPost ex:fm . }\n"
        + "ex:g2 { ex:fm a dip:DiplomaticPost . ex:e a dip:Event ;"
        + ' dip:startDate "2023"^^xsd:gYear . }\n',
        encoding="utf-8",
    )
    report = lo.reason([trig])
    assert report.inferred_types == {"https://example.org/wang": [DIP + "Diplomat"]}
    broken = tmp_path / "broken.ttl"
    broken.write_text("this is not Turtle", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.ttl"):
        lo.reason([broken])


# ------------------------------------------------------------------------------------------------
# An independent OWL 2 DL profile check (OWL API, the library Protégé uses)

DL_CHECK = r"""
import java.io.File;
import java.util.*;
import javax.xml.parsers.DocumentBuilderFactory;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.RDFParserMetaData;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.profiles.*;
import org.w3c.dom.*;

/** Loads an ontology, resolving imports only through a Protégé catalog, and checks OWL 2 DL. */
public class DlCheck {
    public static void main(String[] args) throws Exception {
        File catalog = new File(args[0]);
        Map<String, File> map = new HashMap<>();
        NodeList uris = DocumentBuilderFactory.newInstance().newDocumentBuilder()
            .parse(catalog).getElementsByTagName("uri");
        for (int i = 0; i < uris.getLength(); i++) {
            Element e = (Element) uris.item(i);
            File file = new File(catalog.getParentFile(), e.getAttribute("uri"));
            map.put(e.getAttribute("name"), file);
        }
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        manager.getIRIMappers().clear();
        manager.getIRIMappers().add(iri -> map.containsKey(iri.toString())
            ? IRI.create(map.get(iri.toString())) : null);
        OWLOntology o = manager.loadOntologyFromOntologyDocument(new File(args[1]));
        for (OWLOntology part : o.getImportsClosure()) {
            Optional<?> meta = manager.getOntologyFormat(part).getOntologyLoaderMetaData();
            if (meta.isPresent()) {
                ((RDFParserMetaData) meta.get()).getUnparsedTriples()
                    .forEach(t -> System.out.println("UNPARSED " + t));
            }
        }
        for (OWLProfileViolation v : new OWL2DLProfile().checkOntology(o).getViolations()) {
            System.out.println("VIOLATION " + v);
        }
        System.out.println("IMPORTS " + o.getImportsClosure().size());
    }
}
"""


@pytest.mark.slow
@pytest.mark.external
def test_the_owl_api_finds_the_imports_closure_in_owl2_dl(tmp_path: Path) -> None:
    """Optional: needs Debian's libowlapi-java and a JDK (java runs the check from source)."""
    done = run_owlapi_check(
        tmp_path / "DlCheck.java",
        DL_CHECK,
        ONTOLOGY_DIR / "catalog-v001.xml",
        ONTOLOGY_DIR / "diplograph.ttl",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert "IMPORTS 4" in lines, done.stdout
    assert not [line for line in lines if line.startswith(("VIOLATION", "UNPARSED"))]
