"""The namespaces diplograph uses, and the prefixes bound on every graph and dump.

The ontology namespace is fixed once: ``https://w3id.org/diplograph/ns#``. Data IRIs minted by
the loader live under a configurable base (``Settings.base_iri``, by default
``https://w3id.org/diplograph/``) in per-kind paths such as ``id/person/`` and ``id/event/``.
"""

from __future__ import annotations

from typing import Final

ONTOLOGY_IRI: Final = "https://w3id.org/diplograph/ns"
DIP: Final = "https://w3id.org/diplograph/ns#"
DEFAULT_BASE_IRI: Final = "https://w3id.org/diplograph/"
# Code lists (SKOS concept schemes) shipped with the ontology.
CAMEO: Final = "https://w3id.org/diplograph/cameo/"
PLOVER: Final = "https://w3id.org/diplograph/plover/"
KW: Final = "https://w3id.org/diplograph/kw/"
#: Where the embedded store keeps triples written to "the default graph" (SPARQL Update without
#: GRAPH, the Graph Store Protocol's ``?default``): the store's own default graph holds the
#: materialized union of the named graphs (docs/stores.md).
STORED_DEFAULT_GRAPH: Final = "https://w3id.org/diplograph/graph/default"

RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
OWL: Final = "http://www.w3.org/2002/07/owl#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
PROV: Final = "http://www.w3.org/ns/prov#"
ORG: Final = "http://www.w3.org/ns/org#"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
SCHEMA: Final = "https://schema.org/"
DCTERMS: Final = "http://purl.org/dc/terms/"
SEM: Final = "http://semanticweb.cs.vu.nl/2009/11/sem/"
VANN: Final = "http://purl.org/vocab/vann/"
VOID: Final = "http://rdfs.org/ns/void#"
SH: Final = "http://www.w3.org/ns/shacl#"
WD: Final = "http://www.wikidata.org/entity/"

# Prefixes for pretty Turtle, dumps and the query page, in a stable order.
PREFIXES: Final[dict[str, str]] = {
    "dip": DIP,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "prov": PROV,
    "org": ORG,
    "foaf": FOAF,
    "schema": SCHEMA,
    "dcterms": DCTERMS,
    "cameo": CAMEO,
    "plover": PLOVER,
    "kw": KW,
    "wd": WD,
}


def data_prefixes(base_iri: str) -> dict[str, str]:
    """Per-kind prefixes for data IRIs under ``base_iri``.

    Turtle prefixed names cannot hold '/', so each kind of data IRI gets a prefix of its own.
    """
    return {
        "person": f"{base_iri}id/person/",
        "orgn": f"{base_iri}id/org/",
        "state": f"{base_iri}id/state/",
        "place": f"{base_iri}id/place/",
        "post": f"{base_iri}id/post/",
        "event": f"{base_iri}id/event/",
        "situation": f"{base_iri}id/situation/",
        "holding": f"{base_iri}id/holding/",
        "doc": f"{base_iri}id/doc/",
    }


def sparql_prologue(prefixes: dict[str, str] | None = None) -> str:
    """PREFIX declarations for ``prefixes`` (default: :data:`PREFIXES`), one per line."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or PREFIXES).items())
