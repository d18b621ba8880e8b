"""How the validation store holds terms: two views of every typed literal and blank node.

Oxigraph canonicalizes typed literals when it stores them (``"0.50"^^xsd:decimal`` becomes
``"0.5"``) and rdflib normalizes them differently (``"01"`` becomes ``"1"``). The store the
compiled queries read holds each typed literal in rdflib's form under a private datatype that
Oxigraph does not interpret, and blank nodes as private IRIs (so they can be named in a query);
results are decoded back. The shapes' own SPARQL (``sh:select`` of a SPARQL target, ``sh:sparql``)
reads a second copy with the real datatypes and blank nodes.

Each side (background, batch) has a graph of the triples both views share (IRIs, plain and
language-tagged strings: nearly all), one of the encoded terms and one of the raw terms;
:data:`ENCODED_VIEW` and :data:`RAW_VIEW` are the default graphs the two kinds of query read.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Final

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from diplograph.loader.errors import InputError
from diplograph.loader.namespaces import XSD

__all__ = [
    "BACKGROUND",
    "BATCH",
    "ENCODED_VIEW",
    "RAW_VIEW",
    "RDF_TYPE",
    "SKOLEM",
    "XSD_STRING",
    "Side",
    "decode",
    "decode_raw",
    "encode",
    "encode_raw",
    "from_rdflib",
    "sparql_term",
    "split_text",
    "split_triples",
    "to_rdflib",
]

# Private names in the store the compiled queries read; never written anywhere else.
SKOLEM: Final = "urn:x-diplograph:validation:bnode:"
LEXICAL: Final = "urn:x-diplograph:validation:datatype:"
# Each side (background, batch) has a graph of the triples both views share, and one per view.
Side = tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode]
BACKGROUND: Final[Side] = (
    ox.NamedNode("urn:x-diplograph:validation:background-shared"),
    ox.NamedNode("urn:x-diplograph:validation:background-encoded"),
    ox.NamedNode("urn:x-diplograph:validation:background-raw"),
)
BATCH: Final[Side] = (
    ox.NamedNode("urn:x-diplograph:validation:batch-shared"),
    ox.NamedNode("urn:x-diplograph:validation:batch-encoded"),
    ox.NamedNode("urn:x-diplograph:validation:batch-raw"),
)
Graphs = list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]
ENCODED_VIEW: Final[Graphs] = [BACKGROUND[0], BACKGROUND[1], BATCH[0], BATCH[1]]
RAW_VIEW: Final[Graphs] = [BACKGROUND[0], BACKGROUND[2], BATCH[0], BATCH[2]]

XSD_STRING: Final = XSD + "string"

RDF_TYPE: Final = ox.NamedNode(str(RDF.type))


def to_rdflib(term: Any) -> Node:
    """The rdflib term pySHACL sees for a pyoxigraph term (xsd:string literals are plain)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise InputError(f"cannot validate {term}: triple terms (RDF-star) are not supported")


@functools.lru_cache(maxsize=65536)
def _lexical(value: str, datatype: str) -> str:
    """The lexical form rdflib keeps for a typed literal (it normalizes ``"01"`` to ``"1"``)."""
    return str(Literal(value, datatype=URIRef(datatype)))


def encode(term: Any) -> Any:
    """The term in the store the compiled queries read: nothing Oxigraph would canonicalize."""
    if isinstance(term, ox.NamedNode):
        return term
    if isinstance(term, ox.BlankNode):
        return ox.NamedNode(SKOLEM + term.value)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if term.language or datatype == XSD_STRING:
            return term
        return ox.Literal(_lexical(term.value, datatype), datatype=ox.NamedNode(LEXICAL + datatype))
    raise InputError(f"cannot validate {term}: triple terms (RDF-star) are not supported")


def encode_raw(term: Any) -> Any:
    """The term in the store the shapes' own SPARQL reads: real datatypes, real blank nodes."""
    if isinstance(term, ox.Literal) and not term.language:
        datatype = term.datatype.value
        if datatype != XSD_STRING:
            return ox.Literal(_lexical(term.value, datatype), datatype=term.datatype)
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        return term
    raise InputError(f"cannot validate {term}: triple terms (RDF-star) are not supported")


@functools.lru_cache(maxsize=65536)
def decode(term: Any) -> Node:
    """The rdflib term for a term read from the encoded store."""
    if isinstance(term, ox.NamedNode):
        if term.value.startswith(SKOLEM):
            return BNode(term.value.removeprefix(SKOLEM))
        return URIRef(term.value)
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(LEXICAL):
        return Literal(term.value, datatype=URIRef(term.datatype.value.removeprefix(LEXICAL)))
    return to_rdflib(term)


def decode_raw(term: Any) -> Any:
    """A term read from the encoded store as it is in the raw store (for SPARQL pre-binding)."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(SKOLEM):
        return ox.BlankNode(term.value.removeprefix(SKOLEM))
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(LEXICAL):
        datatype = ox.NamedNode(term.datatype.value.removeprefix(LEXICAL))
        return ox.Literal(term.value, datatype=datatype)
    return term


def from_rdflib(node: Node) -> Any:
    """The pyoxigraph term for an rdflib term (the background triples, the shapes' values)."""
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    return ox.NamedNode(str(node))


def sparql_term(term: Any) -> str:
    """A term of the encoded store written in a query (N-Triples syntax is SPARQL syntax)."""
    return str(term)


_RDF_TYPE_TOKEN: Final = b"<" + RDF_TYPE.value.encode() + b">"


def split_text(text: bytes, graphs: Side) -> tuple[bytes, list[ox.Quad], set[str], set[str], int]:
    """:func:`split_triples` for triples given as N-Triples (as pyoxigraph writes them: one
    triple a line, terms separated by one space): the shared graph's quads as N-Quads text,
    the quads of the other two graphs, the predicates' and types' IRIs, the number of triples.

    A line is shared unless it holds a blank node or a typed literal other than xsd:string
    (which N-Triples writes without a datatype); a literal whose text merely contains ``_:``
    or ``"^^<`` takes the exact, slower path. Measured on a 3k-document load, splitting the
    Triple objects took 5.1 of the 16 s of validation (a Quad built per triple); the text
    takes a fraction of that, and a worker process that receives text never parses it into
    Python objects."""
    shared_end = b" <" + graphs[0].value.encode() + b"> ."
    shared: list[bytes] = []
    special: list[bytes] = []
    predicates: set[bytes] = set()
    types: set[bytes] = set()
    count = 0
    for line in text.splitlines():
        if not line:
            continue
        count += 1
        _, predicate, rest = line.split(b" ", 2)
        predicates.add(predicate)
        if predicate == _RDF_TYPE_TOKEN and rest.startswith(b"<"):
            types.add(rest[1:-3])  # "<iri> ." -> iri
        if b"_:" in line or b'"^^<' in line:
            special.append(line)
        else:
            shared.append(line[:-2] + shared_end)
    # The few others as terms (a false alarm among them lands in the shared graph all the same).
    quads, _, _, _ = split_triples(
        ox.parse(b"\n".join(special), format=ox.RdfFormat.N_TRIPLES), graphs
    )
    return (
        b"\n".join(shared),
        quads,
        {p[1:-1].decode() for p in predicates},
        {t.decode() for t in types},
        count,
    )


def split_triples(
    triples: Iterable[ox.Triple], graphs: Side
) -> tuple[list[ox.Quad], set[str], set[str], int]:
    """The quads for ``triples`` in the shared, encoded and raw graphs of one side, the IRIs of
    the predicates and of the types used, and the number of triples."""
    shared, encoded, raw = graphs
    quads: list[ox.Quad] = []
    predicates: set[ox.NamedNode] = set()
    types: set[Any] = set()
    count = 0
    named, literal = ox.NamedNode, ox.Literal
    for t in triples:
        count += 1
        subject, predicate, obj = t.subject, t.predicate, t.object
        predicates.add(predicate)
        if predicate == RDF_TYPE:
            types.add(obj)
        # This loop runs for every triple of every batch: the common case is tested inline.
        if type(subject) is named and (
            type(obj) is named
            or (type(obj) is literal and (obj.language or obj.datatype.value == XSD_STRING))
        ):
            quads.append(ox.Quad(subject, predicate, obj, shared))
        else:
            quads.append(ox.Quad(encode(subject), predicate, encode(obj), encoded))
            quads.append(ox.Quad(encode_raw(subject), predicate, encode_raw(obj), raw))
    type_iris = {t.value for t in types if isinstance(t, ox.NamedNode)}
    return quads, {p.value for p in predicates}, type_iris, count
