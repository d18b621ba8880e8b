"""The namespaces diplograph uses, and the one home of its prefix sets.

Prefix sets, each for one use:

* :data:`PREFIXES` – the standard prefixes of pretty Turtle, dumps, queries and the query page.
* :func:`data_prefixes` – per-kind prefixes for data IRIs under a base IRI;
  :func:`output_prefixes` – both together, for answers and dumps of data.
* :data:`SHAPE_PREFIXES` – the standard ones plus SHACL and the shapes namespace (``sh:``,
  ``dsh:``), for showing shapes and validation reports.
* :data:`TERM_PREFIXES` – the standard ones plus the vocabularies the ontology cites
  (``sem:``, ``vann:``).
* :data:`SERVICE_DESCRIPTION_PREFIXES` – the SPARQL service description's.
* :data:`VOID_PREFIXES` – the VoID description's.

:func:`compact` shortens an IRI with one of these sets (``dip:Person``).

The ontology namespace is fixed once: ``https://w3id.org/diplograph/ns#``. Data IRIs minted by
the loader live under a configurable base (``Settings.base_iri``, by default
``https://w3id.org/diplograph/``) in per-kind paths such as ``id/person/`` and ``id/event/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from diplograph.loader.iris import IriMinter

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
#: The W3C WGS 84 Basic Geo vocabulary (``geo:lat``, ``geo:long`` of a place's points).
GEO: Final = "http://www.w3.org/2003/01/geo/wgs84_pos#"
VANN: Final = "http://purl.org/vocab/vann/"
VOID: Final = "http://rdfs.org/ns/void#"
SH: Final = "http://www.w3.org/ns/shacl#"
WD: Final = "http://www.wikidata.org/entity/"
SD: Final = "http://www.w3.org/ns/sparql-service-description#"
#: The namespace of the facts shapes (``shapes/``).
DSH: Final = "https://w3id.org/diplograph/shapes#"

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
    "geo": GEO,
    "cameo": CAMEO,
    "plover": PLOVER,
    "kw": KW,
    "wd": WD,
}

#: :data:`PREFIXES` plus SHACL and the shapes namespace.
SHAPE_PREFIXES: Final[dict[str, str]] = {**PREFIXES, "sh": SH, "dsh": DSH}
#: :data:`PREFIXES` plus the vocabularies the ontology cites.
TERM_PREFIXES: Final[dict[str, str]] = {**PREFIXES, "sem": SEM, "vann": VANN}
#: The prefixes the SPARQL service description is written with.
SERVICE_DESCRIPTION_PREFIXES: Final[dict[str, str]] = {
    "sd": SD,
    "void": VOID,
    "dcterms": DCTERMS,
    "rdfs": RDFS,
}
#: The prefixes the VoID description is written with.
VOID_PREFIXES: Final[dict[str, str]] = {**PREFIXES, "void": VOID}


def data_prefixes(base_iri: str) -> dict[str, str]:
    """Per-kind prefixes for data IRIs under ``base_iri`` (the namespaces :class:`IriMinter`
    mints in).

    Turtle prefixed names cannot hold '/', so each kind of data IRI gets a prefix of its own.
    """
    minter = IriMinter(base_iri)
    ids = minter.ids()
    return {
        "person": f"{ids}person/",
        "orgn": f"{ids}org/",
        "state": f"{ids}state/",
        "place": f"{ids}place/",
        "post": f"{ids}post/",
        "event": f"{ids}event/",
        "situation": f"{ids}situation/",
        "holding": f"{ids}holding/",
        "doc": minter.documents(),
    }


def output_prefixes(base_iri: str | None) -> dict[str, str]:
    """:data:`PREFIXES` plus the data prefixes under ``base_iri`` (none when it is empty).

    Turtle, TriG and RDF/XML answers and dumps are written with these.
    """
    return {**PREFIXES, **(data_prefixes(base_iri) if base_iri else {})}


def sparql_prologue(prefixes: dict[str, str] | None = None) -> str:
    """PREFIX declarations for ``prefixes`` (default: :data:`PREFIXES`), one per line."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or PREFIXES).items())


#: The local part of a prefixed name as results and reports show it: letters, digits, ``_``,
#: ``-`` and inner dots (Turtle's PN_LOCAL without escapes, so the name can be pasted back).
LOCAL_NAME: Final = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


def compact(
    iri: str, prefixes: Mapping[str, str], *, local_name: re.Pattern[str] = LOCAL_NAME
) -> str | None:
    """``iri`` as ``prefix:local``, or None when no prefix of ``prefixes`` fits.

    A prefix fits when ``iri`` starts with its namespace and the rest is empty or matches
    ``local_name`` in full; of the prefixes that fit, the one with the longest namespace wins
    (the first of equals). Callers choose what an IRI no prefix fits becomes (the IRI itself on
    pages, ``<iri>`` in results).
    """
    best: str | None = None
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and (best is None or len(namespace) > len(prefixes[best])):
            local = iri[len(namespace) :]
            if local == "" or local_name.fullmatch(local):
                best = prefix
    return None if best is None else f"{best}:{iri[len(prefixes[best]) :]}"
