"""The vocabulary documents the server serves whole (the ontology, its code lists, the SHACL
shapes) and a private in-memory store over the ontology and code lists, for SPARQL over them:
the labels and definitions of terms every page shows, and the vocabulary pages.

The data store is never asked about the ontology: these answers do not depend on it (so /ns
answers even when the store is slow or down).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files

from pyoxigraph import RdfFormat, Triple, parse

from diplograph.api.store_reads import select, value_of
from diplograph.loader.namespaces import (
    CAMEO,
    KW,
    ONTOLOGY_IRI,
    PLOVER,
    PREFIXES,
    SHAPE_PREFIXES,
)
from diplograph.loader.store import GraphChange, Store, memory_store

__all__ = [
    "DOCUMENTS",
    "VocabularyDocument",
    "document_prefixes",
    "document_triples",
    "ontology_definitions",
    "ontology_labels",
    "ontology_store",
]


@dataclass(frozen=True)
class VocabularyDocument:
    """An RDF document the server serves as a whole: the ontology, a code list, the shapes."""

    name: str
    title: str
    turtle: Callable[[], bytes]
    namespace: str | None = None  #: for code lists: the namespace of their codes


@functools.cache
def ontology_store() -> Store:
    """An in-memory store holding the ontology and its code lists, for SPARQL over them."""
    from diplograph.loader.ontology import ontology_triples

    store = memory_store()
    store.commit([GraphChange(ONTOLOGY_IRI, ontology_triples())])
    return store


def _ontology_turtle() -> bytes:
    from diplograph.loader.ontology import ontology_turtle

    return ontology_turtle().encode("utf-8")


def _package_file(package: str, name: str) -> Callable[[], bytes]:
    @functools.cache
    def read() -> bytes:
        return (files(package) / name).read_bytes()

    return read


#: The documents, by the path they are served at (``/ns``, ``/codes``, ``/cameo``, …).
DOCUMENTS: dict[str, VocabularyDocument] = {
    "ns": VocabularyDocument("ns", "diplograph ontology", _ontology_turtle),
    "codes": VocabularyDocument(
        "codes", "diplograph code lists", _package_file("diplograph.ontology", "codes.ttl"), KW
    ),
    "cameo": VocabularyDocument(
        "cameo", "CAMEO event codes", _package_file("diplograph.ontology", "cameo.ttl"), CAMEO
    ),
    "plover": VocabularyDocument(
        "plover", "PLOVER event types", _package_file("diplograph.ontology", "plover.ttl"), PLOVER
    ),
    "shapes": VocabularyDocument(
        "shapes",
        "diplograph SHACL shapes",
        _package_file("diplograph.shapes", "diplograph-shapes.ttl"),
    ),
}


@functools.cache
def document_triples(name: str) -> tuple[Triple, ...]:
    """The triples of document ``name`` (parsed once)."""
    doc = DOCUMENTS[name]
    if name == "ns":
        from diplograph.loader.ontology import ontology_triples

        return tuple(ontology_triples())
    return tuple(q.triple for q in parse(doc.turtle(), format=RdfFormat.TURTLE))


def document_prefixes(name: str) -> dict[str, str]:
    """The prefixes document ``name`` is written with (the shapes add ``sh:`` and ``dsh:``)."""
    return dict(SHAPE_PREFIXES) if name == "shapes" else dict(PREFIXES)


@functools.cache
def ontology_labels() -> Mapping[str, str]:
    """Labels of the ontology's terms and codes (from the ontology store, by SPARQL)."""
    rows = select(
        ontology_store(),
        "SELECT ?t ?l WHERE { VALUES ?p { rdfs:label skos:prefLabel } ?t ?p ?l "
        "FILTER(isIRI(?t) && (LANG(?l) = '' || LANGMATCHES(LANG(?l), 'en'))) }",
    )
    return {t: lbl for row in rows if (t := value_of(row, "t")) and (lbl := value_of(row, "l"))}


@functools.cache
def ontology_definitions() -> Mapping[str, str]:
    """``skos:definition`` of the ontology's terms and codes."""
    rows = select(
        ontology_store(),
        "SELECT ?t ?d WHERE { ?t skos:definition ?d FILTER(isIRI(?t)) }",
    )
    return {t: d for row in rows if (t := value_of(row, "t")) and (d := value_of(row, "d"))}
