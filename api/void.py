"""The VoID description of the dataset at ``GET /.well-known/void``, computed by SPARQL over the
union of all graphs: its size, classes, properties, named graphs, class partitions, an example
resource, the SPARQL endpoint and the dumps (Turtle or another RDF format, negotiated).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.negotiation import (
    RDF_FORMATS,
    FormatParam,
    answer_head,
    choose_format,
    rdf_response,
    serialize,
)
from diplograph.api.store_reads import select, value_of
from diplograph.api.urls import server_url
from diplograph.api.void_cache import VoidCache
from diplograph.loader.config import Settings
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import (
    CAMEO,
    DCTERMS,
    DIP,
    KW,
    PLOVER,
    RDF,
    RDFS,
    VOID,
    VOID_PREFIXES,
    XSD,
)
from diplograph.loader.store import Store

__all__ = ["VoidStats", "router", "void_stats", "void_triples"]

router = APIRouter(tags=["linked data"])

_VOID_COUNTS = """
SELECT
  (COUNT(*) AS ?triples)
WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ ?s ?p ?o }} }}
"""
_VOID_ENTITIES = """
SELECT (COUNT(DISTINCT ?s) AS ?entities) WHERE {{
  ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ids}"))
}}
"""
_VOID_CLASSES = "SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE { ?s a ?c }"
_VOID_PROPERTIES = "SELECT (COUNT(DISTINCT ?p) AS ?properties) WHERE { ?s ?p ?o }"
_VOID_GRAPHS = "SELECT (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { } }"
_VOID_PARTITIONS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  ?s a ?class FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ids}"))
}} GROUP BY ?class ORDER BY ?class
"""
_VOID_EXAMPLE = """
SELECT ?s WHERE {{ ?s a dip:Person FILTER(STRSTARTS(STR(?s), "{ids}")) }} ORDER BY ?s LIMIT 1
"""


@dataclass(frozen=True)
class VoidStats:
    """The numbers of the VoID description."""

    triples: int
    entities: int
    classes: int
    properties: int
    graphs: int
    partitions: tuple[tuple[str, int], ...]
    example: str | None


def _count(store: Store, sparql: str, name: str) -> int:
    rows = select(store, sparql)
    value = value_of(rows[0], name) if rows else None
    return int(value) if value is not None else 0


def void_stats(store: Store, settings: Settings) -> VoidStats:
    """Count what the VoID description reports, by SPARQL over the union of all graphs."""
    ids = IriMinter(settings.base_iri).ids()
    partitions = tuple(
        (c, int(n))
        for row in select(store, _VOID_PARTITIONS.format(ids=ids))
        if (c := value_of(row, "class")) and (n := value_of(row, "n"))
    )
    example_rows = select(store, _VOID_EXAMPLE.format(ids=ids))
    return VoidStats(
        triples=_count(store, _VOID_COUNTS.format(), "triples"),
        entities=_count(store, _VOID_ENTITIES.format(ids=ids), "entities"),
        classes=_count(store, _VOID_CLASSES, "classes"),
        properties=_count(store, _VOID_PROPERTIES, "properties"),
        graphs=_count(store, _VOID_GRAPHS, "graphs"),
        partitions=partitions,
        example=value_of(example_rows[0], "s") if example_rows else None,
    )


def void_triples(stats: VoidStats, settings: Settings, server: str) -> list[Triple]:
    """The VoID description of the dataset this server (at ``server``) publishes."""
    from diplograph.loader.dump import FORMATS as DUMP_FORMATS

    def v(name: str) -> NamedNode:
        return NamedNode(VOID + name)

    def integer(n: int) -> Literal:
        return Literal(str(n), datatype=NamedNode(XSD + "integer"))

    a = NamedNode(RDF + "type")
    doc = NamedNode(server + "/.well-known/void")
    dataset = NamedNode(server + "/.well-known/void#dataset")
    out = [
        Triple(doc, a, v("DatasetDescription")),
        Triple(
            doc,
            NamedNode(DCTERMS + "title"),
            Literal("VoID description of diplograph", language="en"),
        ),
        Triple(doc, NamedNode("http://xmlns.com/foaf/0.1/primaryTopic"), dataset),
        Triple(dataset, a, v("Dataset")),
        Triple(dataset, NamedNode(DCTERMS + "title"), Literal("diplograph", language="en")),
        Triple(
            dataset,
            NamedNode(DCTERMS + "description"),
            Literal(
                "Facts about diplomacy and conflict extracted from news articles: events, "
                "relations, stances and posts, each with the documents it rests on. Every "
                "source document is a named graph; the ontology has a graph of its own.",
                language="en",
            ),
        ),
        Triple(dataset, NamedNode("http://xmlns.com/foaf/0.1/homepage"), NamedNode(server + "/")),
        Triple(dataset, v("sparqlEndpoint"), NamedNode(server + "/sparql")),
        Triple(dataset, v("uriSpace"), Literal(IriMinter(settings.base_iri).ids())),
        Triple(dataset, v("vocabulary"), NamedNode(DIP)),
        Triple(dataset, v("vocabulary"), NamedNode(KW)),
        Triple(dataset, v("vocabulary"), NamedNode(CAMEO)),
        Triple(dataset, v("vocabulary"), NamedNode(PLOVER)),
        Triple(dataset, v("triples"), integer(stats.triples)),
        Triple(dataset, v("entities"), integer(stats.entities)),
        Triple(dataset, v("classes"), integer(stats.classes)),
        Triple(dataset, v("properties"), integer(stats.properties)),
        Triple(dataset, v("documents"), integer(stats.graphs)),
        Triple(
            dataset,
            NamedNode(RDFS + "comment"),
            Literal(
                f"{stats.graphs} named graphs (void:documents): one per source document, the "
                "ontology's and the summary's. void:triples counts distinct triples of their "
                "union; void:entities the resources under the URI space.",
                language="en",
            ),
        ),
    ]
    if stats.example:
        out.append(Triple(dataset, v("exampleResource"), NamedNode(stats.example)))
    for name, fmt in DUMP_FORMATS.items():
        dump = NamedNode(f"{server}/dump?format={name}")
        out.append(Triple(dataset, v("dataDump"), dump))
        out.append(Triple(dump, NamedNode(DCTERMS + "format"), Literal(fmt.media_type)))
    for rdf_format in RDF_FORMATS:
        out.append(Triple(dataset, v("feature"), NamedNode(rdf_format.iri)))
    for index, (cls, n) in enumerate(stats.partitions):
        part = BlankNode(f"class{index}")
        out.append(Triple(dataset, v("classPartition"), part))
        out.append(Triple(part, v("class"), NamedNode(cls)))
        out.append(Triple(part, v("entities"), integer(n)))
    # Group by subject (in order of first mention) so Turtle writes each node once.
    first: dict[object, int] = {}
    for triple in out:
        first.setdefault(triple.subject, len(first))
    return sorted(out, key=lambda t: first[t.subject])


@router.get("/.well-known/void", summary="A VoID description of the dataset")
async def get_void(
    request: Request, settings: SettingsDep, store: StoreDep, format: FormatParam = None
) -> Response:
    fmt = choose_format(
        request.headers.get("accept"), RDF_FORMATS, override=format, what="the VoID description"
    )
    cache: VoidCache[VoidStats] = request.app.state.void_cache
    stats = await cache.get(store, settings.query_timeout)
    triples = void_triples(stats, settings, server_url(request, settings))
    return rdf_response(fmt, serialize(fmt, triples, dict(VOID_PREFIXES)))


answer_head(router)
