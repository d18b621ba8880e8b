"""The ontology at run time: the parsed graph, its triples, the class hierarchy and a reasoner.

The Turtle files in the ``ontology`` package are the source of truth (see docs/ontology.md). This
module parses them once and hands them out in the forms the rest of diplograph needs:

- :func:`ontology_graph` and :func:`ontology_turtle`: the merged ontology document, the ontology
  with its three code lists merged in, as an rdflib graph (for SHACL validation) and as Turtle
  (for serving at the namespace);
- :func:`ontology_triples`: the same as pyoxigraph triples, with stable blank node ids, for the
  store's ontology graph (so that "is the stored ontology current?" is a set comparison);
- :func:`superclass_closure`: the named superclasses of every ``dip:`` class, which the loader
  writes as extra ``rdf:type`` triples so that plain SPARQL finds instances of subclasses;
- :func:`reason`: a consistency check with HermiT (through owlready2, on Java), for tests and for
  ontology work. This is the only module that imports owlready2, and only inside :func:`reason`.

The merged document has one ontology header, the ontology's (with its version IRI), and no
``owl:imports``: it already holds what the imports name, so a client that opens it from a URL
(Protégé, any OWL API tool) has nothing left to fetch. The code lists' own headers are left out,
as ROBOT's ``merge`` does; the files in the ``ontology`` package keep their headers and their
imports of the ``w3id.org`` IRIs (docs/ontology.md, "Opening it in Protégé").
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

import diplograph.ontology as ontology_files
from diplograph.loader.errors import ConfigError, DiplographError, InputError
from diplograph.loader.namespaces import DIP, ONTOLOGY_IRI, TERM_PREFIXES

__all__ = [
    "OWL2_DATATYPES",
    "ReasonerReport",
    "ontology_graph",
    "ontology_triples",
    "ontology_turtle",
    "reason",
    "superclass_closure",
]

log = logging.getLogger(__name__)

_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL_NS = "http://www.w3.org/2002/07/owl#"
_XSD_NS = "http://www.w3.org/2001/XMLSchema#"

#: The datatypes of the OWL 2 datatype map (OWL 2 Structural Specification, section 4), plus
#: rdf:langString (RDF 1.1's name for language-tagged strings, which OWL 2 reads as
#: rdf:PlainLiteral). HermiT stops on a literal of any other datatype, such as xsd:date,
#: xsd:gYear, xsd:gYearMonth or xsd:duration.
OWL2_DATATYPES: frozenset[str] = frozenset(
    [_OWL_NS + "real", _OWL_NS + "rational", _RDFS_NS + "Literal"]
    + [_RDF_NS + name for name in ("PlainLiteral", "XMLLiteral", "langString")]
    + [
        _XSD_NS + name
        for name in (
            "decimal",
            "integer",
            "nonNegativeInteger",
            "nonPositiveInteger",
            "positiveInteger",
            "negativeInteger",
            "long",
            "int",
            "short",
            "byte",
            "unsignedLong",
            "unsignedInt",
            "unsignedShort",
            "unsignedByte",
            "double",
            "float",
            "string",
            "normalizedString",
            "token",
            "language",
            "Name",
            "NCName",
            "NMTOKEN",
            "boolean",
            "hexBinary",
            "base64Binary",
            "anyURI",
            "dateTime",
            "dateTimeStamp",
        )
    ]
)

_JAVA_MISSING = (
    "HermiT needs Java 17+: install default-jre-headless (or put a java 17+ executable on PATH)"
)


# ------------------------------------------------------------------------------------------------
# The ontology as RDF


@functools.cache
def _canonical_graph() -> Graph:
    """The merged ontology document, parsed once, with blank nodes renamed canonically."""
    parsed = Graph()
    for path in ontology_files.ontology_paths():
        parsed.parse(path, format="turtle")
    # Canonical blank node ids depend only on the triples, so every process (and every store
    # that keeps blank node ids, such as Oxigraph) sees the same ontology triples.
    graph = Graph()
    for triple in to_canonical_graph(_merge_imports(parsed, URIRef(ONTOLOGY_IRI))):
        graph.add(triple)
    _bind_prefixes(graph)
    return graph


def _merge_imports(union: Graph, main: URIRef) -> Graph:
    """``union`` (an ontology and the ontologies it imports) as one ontology named ``main``.

    Drops the imports of the ontologies ``union`` already holds and their headers. A document
    with several ``owl:Ontology`` headers is one ontology to the OWL API, named by whichever
    header it meets first, and an import left in it would be fetched from the web.
    """
    merged = {header for header in union.subjects(RDF.type, OWL.Ontology) if header != main}
    graph = Graph()
    for s, p, o in union:
        if s in merged or (s == main and p == OWL.imports and o in merged):
            continue
        graph.add((s, p, o))
    return graph


def _bind_prefixes(graph: Graph) -> None:
    for prefix, namespace in TERM_PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)


def ontology_graph() -> Graph:
    """The merged ontology document as an rdflib graph, with diplograph's prefixes bound.

    That is the ontology with its code lists merged in: every triple of the four files except
    the code lists' headers and the ``owl:imports`` of them (see the module docstring).

    The files are parsed once per process; each call returns a fresh copy, so callers may add
    data triples to it (as SHACL validation does) without changing what others see.
    """
    graph = Graph()
    for triple in _canonical_graph():
        graph.add(triple)
    _bind_prefixes(graph)
    return graph


@functools.cache
def ontology_turtle() -> str:
    """The merged ontology document (see :func:`ontology_graph`) as Turtle, for serving.

    It opens in Protégé from a URL with nothing left to import.
    """
    return _canonical_graph().serialize(format="turtle")


@functools.cache
def _ontology_triples() -> tuple[pyoxigraph.Triple, ...]:
    # A pass through an Oxigraph store puts typed literals in the form Oxigraph keeps them in
    # (it stores "0.0"^^xsd:decimal as "0"), so the triples equal those read back from a store.
    store = pyoxigraph.Store()
    store.extend(
        pyoxigraph.Quad(t.subject, t.predicate, t.object, pyoxigraph.DefaultGraph())
        for t in map(_to_oxigraph, _canonical_graph())
    )
    return tuple(sorted((quad.triple for quad in store), key=str))


def ontology_triples() -> list[pyoxigraph.Triple]:
    """The merged ontology document (see :func:`ontology_graph`) as pyoxigraph triples, sorted.

    Blank node ids are canonical (the same in every process), so the triples can be compared
    with those of a stored ontology graph as sets.
    """
    return list(_ontology_triples())


def _to_oxigraph(triple: tuple[Node, Node, Node]) -> pyoxigraph.Triple:
    s, p, o = triple
    return pyoxigraph.Triple(_subject(s), pyoxigraph.NamedNode(str(p)), _object(o))


def _subject(term: Node) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode:
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    return pyoxigraph.NamedNode(str(term))


def _object(term: Node) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal:
    if isinstance(term, Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(str(term.datatype)))
        return pyoxigraph.Literal(str(term))
    return _subject(term)


# ------------------------------------------------------------------------------------------------
# The class hierarchy


@functools.cache
def _superclass_closure() -> dict[str, frozenset[str]]:
    graph = _canonical_graph()
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    direct: dict[URIRef, set[URIRef]] = {c: set() for c in classes}
    for cls in classes:
        for sup in graph.objects(cls, RDFS.subClassOf):
            if isinstance(sup, URIRef):
                direct[cls].add(sup)
        for equivalent in _equivalents(graph, cls):
            if isinstance(equivalent, URIRef):
                # A ≡ B between named classes: each is a superclass of the other.
                direct[cls].add(equivalent)
                direct.setdefault(equivalent, set()).add(cls)
            else:
                # A ≡ (B ⊓ C ⊓ ∃p.D): the named members B and C are superclasses of A.
                for members in graph.objects(equivalent, OWL.intersectionOf):
                    direct[cls].update(m for m in graph.items(members) if isinstance(m, URIRef))
    closure: dict[str, frozenset[str]] = {}
    for cls in sorted(c for c in classes if str(c).startswith(DIP)):
        seen: set[URIRef] = set()
        todo = list(direct.get(cls, ()))
        while todo:
            sup = todo.pop()
            if sup not in seen:
                seen.add(sup)
                todo.extend(direct.get(sup, ()))
        closure[str(cls)] = frozenset(str(s) for s in seen if str(s).startswith(DIP) and s != cls)
    return closure


def _equivalents(graph: Graph, cls: URIRef) -> Iterable[Node]:
    yield from graph.objects(cls, OWL.equivalentClass)
    yield from graph.subjects(OWL.equivalentClass, cls)


def superclass_closure() -> dict[str, frozenset[str]]:
    """For every ``dip:`` class IRI, the IRIs of all its named ``dip:`` superclasses.

    Transitive over ``rdfs:subClassOf``, named ``owl:equivalentClass`` and the named members of an
    ``owl:intersectionOf`` a class is equivalent to (``dip:Diplomat`` ≡ ``dip:Person`` ⊓ …), not
    including the class itself. Classes with no superclass map to an empty set. For example,
    ``dip:PhoneCall`` maps to ``dip:Consultation``, ``dip:DiplomaticEvent`` and ``dip:Event``.
    """
    return dict(_superclass_closure())


# ------------------------------------------------------------------------------------------------
# Reasoning


@dataclass(frozen=True)
class ReasonerReport:
    """What HermiT found: consistency, unsatisfiable classes and types derived for individuals."""

    #: False when the ontology (with the extra data) has no model, e.g. a person who is also an
    #: organization; the other fields are then empty.
    consistent: bool
    #: IRIs of named classes that can have no instances (equivalent to owl:Nothing), sorted.
    unsatisfiable: list[str] = field(default_factory=list)
    #: individual IRI -> the ``dip:`` classes the reasoner derived for it beyond its asserted
    #: types and their named superclasses (e.g. ``dip:Diplomat`` for a person holding a
    #: diplomatic post), sorted. Only individuals with such derived types appear.
    inferred_types: dict[str, list[str]] = field(default_factory=dict)


def reason(extra: list[Path] | None = None) -> ReasonerReport:
    """Check the ontology, with the RDF files ``extra`` as data, with the HermiT reasoner.

    ``extra`` files may be Turtle, N-Triples, RDF/XML (``.rdf``, ``.owl``), TriG, N-Quads or
    JSON-LD, named by their usual suffix (others are read as Turtle); the graphs of a dataset are
    merged. Literals whose
    datatype is outside the OWL 2 datatype map (the loader's ``xsd:date``, ``xsd:gYear``,
    ``xsd:gYearMonth`` and ``xsd:duration`` values) are left out, because HermiT stops on them;
    SHACL checks those instead. Raises :class:`~loader.errors.ConfigError` when Java is missing,
    :class:`~loader.errors.InputError` when a file does not parse, and
    :class:`~loader.errors.DiplographError` when HermiT fails for another reason.
    """
    java = shutil.which("java")
    if java is None:
        raise ConfigError(_JAVA_MISSING)
    ontology = Graph()
    headers = set(_canonical_graph().subjects(RDF.type, OWL.Ontology))
    for s, p, o in _canonical_graph():
        # The header carries only annotations; one header-less file is what HermiT gets, so
        # owlready2 never looks at an ontology IRI.
        if s not in headers:
            ontology.add((s, p, o))
    data: list[pyoxigraph.Triple] = []
    for path in extra or []:
        data.extend(_read_data(Path(path)))
    with tempfile.TemporaryDirectory(prefix="diplograph-reason-") as tmp:
        # owlready2 does not read Turtle; N-Triples it does.
        source = Path(tmp) / "closure.nt"
        ontology.serialize(source, format="nt", encoding="utf-8")
        with source.open("a", encoding="utf-8") as out:
            out.writelines(f"{triple} .\n" for triple in data)
        return _run_hermit(java, source, _asserted_types(data))


def _read_data(path: Path) -> list[pyoxigraph.Triple]:
    """The triples of ``path``, without the literals HermiT cannot read."""
    suffix = path.suffix.lstrip(".").lower()
    if suffix == "owl":  # Protégé's default: RDF/XML
        fmt = pyoxigraph.RdfFormat.RDF_XML
    else:
        fmt = pyoxigraph.RdfFormat.from_extension(suffix) or pyoxigraph.RdfFormat.TURTLE
    kept: list[pyoxigraph.Triple] = []
    dropped = 0
    try:
        # Blank node ids are renamed so that two files (and the ontology) cannot share one.
        for item in pyoxigraph.parse(path=path, format=fmt, rename_blank_nodes=True):
            triple = item.triple if isinstance(item, pyoxigraph.Quad) else item
            obj = triple.object
            if isinstance(obj, pyoxigraph.Literal) and obj.datatype.value not in OWL2_DATATYPES:
                dropped += 1
                continue
            kept.append(triple)
    except (SyntaxError, OSError) as exc:
        raise InputError(f"cannot read {path} as {fmt.name}: {exc}") from exc
    if dropped:
        log.debug("left out %d literal(s) outside the OWL 2 datatype map in %s", dropped, path)
    return kept


def _asserted_types(data: list[pyoxigraph.Triple]) -> dict[str, set[str]]:
    """Each individual of ``data`` -> its asserted ``dip:`` types and their named superclasses.

    The individuals are the IRIs in subject or object position (not classes, not properties).
    """
    closure = _superclass_closure()
    rdf_type = str(RDF.type)
    asserted: dict[str, set[str]] = {}
    for triple in data:
        s, o = triple.subject, triple.object
        is_type = triple.predicate.value == rdf_type
        if isinstance(s, pyoxigraph.NamedNode):
            types = asserted.setdefault(s.value, set())
            if is_type and isinstance(o, pyoxigraph.NamedNode) and o.value.startswith(DIP):
                types.add(o.value)
                types.update(closure.get(o.value, ()))
        if isinstance(o, pyoxigraph.NamedNode) and not is_type:
            asserted.setdefault(o.value, set())
    return asserted


def _run_hermit(java: str, source: Path, asserted: dict[str, set[str]]) -> ReasonerReport:
    import owlready2

    owlready2.JAVA_EXE = java
    world = owlready2.World()
    try:
        world.get_ontology(source.as_uri()).load()
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ReasonerReport(consistent=False)
        except owlready2.OwlReadyJavaError as exc:
            message = str(exc).strip().splitlines()
            detail = " ".join(message[1:4]) if len(message) > 1 else str(exc)
            raise DiplographError(f"HermiT failed: {detail}") from exc
        except FileNotFoundError as exc:
            raise ConfigError(_JAVA_MISSING) from exc
        unsatisfiable = sorted(
            str(cls.iri) for cls in world.inconsistent_classes() if hasattr(cls, "iri")
        )
        inferred: dict[str, list[str]] = {}
        for iri, told in sorted(asserted.items()):
            individual = world[iri]
            if not isinstance(individual, owlready2.Thing):
                continue  # a class or property named in the data, or an unknown IRI
            types = {
                str(cls.iri)
                for cls in individual.INDIRECT_is_a
                if isinstance(cls, owlready2.ThingClass) and str(cls.iri).startswith(DIP)
            }
            if new := sorted(types - told):
                inferred[iri] = new
        return ReasonerReport(consistent=True, unsatisfiable=unsatisfiable, inferred_types=inferred)
    finally:
        world.close()
