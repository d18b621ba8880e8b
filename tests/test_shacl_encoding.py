"""The validation store's two views: triples given as text land as triples given as terms."""

from __future__ import annotations

import pyoxigraph as ox

from diplograph.loader.namespaces import RDF, XSD
from diplograph.loader.shacl.encoding import BATCH, split_text, split_triples

EX = "http://example.org/"
NODE = ox.BlankNode("b1")
TRIPLES = [
    ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(RDF + "type"), ox.NamedNode(EX + "T")),
    ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(RDF + "type"), NODE),
    ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "name"), ox.Literal("Ana", language="en")),
    ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "note"), ox.Literal('says _: and "^^< .')),
    ox.Triple(
        ox.NamedNode(EX + "a"),
        ox.NamedNode(EX + "plain"),
        ox.Literal("typed as a string", datatype=ox.NamedNode(XSD + "string")),
    ),
    ox.Triple(
        ox.NamedNode(EX + "a"),
        ox.NamedNode(EX + "share"),
        ox.Literal("0.50", datatype=ox.NamedNode(XSD + "decimal")),
    ),
    ox.Triple(
        NODE,
        ox.NamedNode(EX + "on"),
        ox.Literal("2024-01", datatype=ox.NamedNode(XSD + "gYearMonth")),
    ),
    ox.Triple(NODE, ox.NamedNode(EX + "line"), ox.Literal("two\nlines .")),
]


def _stored(quads: list[ox.Quad], shared: bytes = b"") -> set[ox.Quad]:
    store = ox.Store()
    store.load(shared, format=ox.RdfFormat.N_QUADS)
    store.extend(quads)
    return set(store)


def test_text_and_terms_give_the_same_quads_predicates_types_and_count() -> None:
    quads, predicates, types, count = split_triples(TRIPLES, BATCH)
    text = ox.serialize(TRIPLES, format=ox.RdfFormat.N_TRIPLES) or b""
    shared, special, text_predicates, text_types, text_count = split_text(text, BATCH)
    assert _stored(special, shared) == _stored(quads)
    assert (text_predicates, text_types, text_count) == (predicates, types, count)


def test_only_blank_nodes_and_typed_literals_leave_the_text() -> None:
    text = ox.serialize(TRIPLES, format=ox.RdfFormat.N_TRIPLES) or b""
    shared, special, _, _, _ = split_text(text, BATCH)
    assert shared.count(b"\n") + 1 == 3  # the type T, the language tag, the xsd:string
    # the blank node lines, the decimal, and the note's false alarm (kept exact)
    assert {q.predicate.value for q in special} == {
        RDF + "type",
        EX + "share",
        EX + "on",
        EX + "line",
        EX + "note",
    }
