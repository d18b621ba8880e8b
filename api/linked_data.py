"""Linked data: every IRI the loader mints dereferences on this server, and so does the ontology.

The server root stands for ``settings.base_iri``: ``GET /id/person/antony-blinken`` describes
``{base_iri}id/person/antony-blinken``. Routes:

==============================  =================================================================
``GET /id/…``                   an entity, event, situation, post holding, document or one of
                                their sub-resources (attestations, spans, participations, runs)
``GET /ns``                     the ontology with its code lists (HTML documentation, Turtle,
                                RDF/XML for Protégé, JSON-LD, N-Triples)
``GET /kw/``, ``/cameo/``,      a code list (HTML, RDF); ``/codes``, ``/cameo``, ``/plover`` are
``/plover/``                    the same documents under their ontology IRIs
``GET /kw/{code}`` …            one code (HTML, RDF)
``GET /shapes``                 the SHACL shapes (Turtle or another RDF format)
``GET /schema``                 the facts JSON Schema (``application/schema+json``)
``GET /.well-known/void``       a VoID description of the dataset, computed by SPARQL
``GET /dump``                   the whole store (or ``?graph=``) in a dump format, streamed
==============================  =================================================================

Formats are negotiated with ``Accept`` (quality values respected; among equal qualities a
specific media type beats a wildcard, then the order above); ``?format=`` overrides it. Every
negotiated answer has ``Vary: Accept``. ``*/*`` or no ``Accept`` gives Turtle.

A resource's description is one SPARQL CONSTRUCT over the store (the union of all graphs): its
outgoing triples, the links into it, and the labels of the nodes on either side. The HTML page
adds, again by SPARQL, the facts an actor takes part in, the sources (article, publisher,
confidence, evidence offsets) each fact rests on, and the documents that describe the resource.
Store calls run on worker threads with the query timeout; nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Annotated, Any, TypeVar, cast
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
)

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.formats import GRAPH_FORMATS, Format, negotiate, parse_accept, write_triples
from diplograph.api.ui import (
    ONTOLOGY_ROOT,
    compact,
    html_response,
    link_prefixes,
    local_href,
    page,
)
from diplograph.loader.config import Settings
from diplograph.loader.errors import (
    DiplographError,
    NotFoundError,
    QueryTimeoutError,
    StoreError,
    UnsupportedFormatError,
)
from diplograph.loader.namespaces import (
    CAMEO,
    DCTERMS,
    DIP,
    KW,
    ONTOLOGY_IRI,
    ORG,
    OWL,
    PLOVER,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SEM,
    SH,
    SKOS,
    VANN,
    VOID,
    XSD,
    data_prefixes,
)
from diplograph.loader.store import GraphChange, Store

__all__ = [
    "HTML",
    "RDF_FORMATS",
    "choose_format",
    "describe",
    "router",
]

log = logging.getLogger(__name__)

router = APIRouter(tags=["linked data"])

T = TypeVar("T")

# --- formats --------------------------------------------------------------------------------------

HTML = Format("html", "HTML", "text/html", aliases=("application/xhtml+xml",), names=("htm",))
_BY_NAME = {f.name: f for f in GRAPH_FORMATS}
#: The RDF formats of a description, in order of preference (the first is the default).
RDF_FORMATS: tuple[Format, ...] = (
    _BY_NAME["turtle"],
    _BY_NAME["jsonld"],
    _BY_NAME["ntriples"],
    _BY_NAME["rdfxml"],
)
_PAGE_FORMATS = (*RDF_FORMATS, HTML)
_VARY = {"Vary": "Accept"}


def choose_format(
    accept: str | None, offered: Sequence[Format], *, override: str | None, what: str
) -> Format:
    """The format of ``offered`` the client prefers; 406 (UnsupportedFormatError) when none.

    Like :func:`diplograph.api.formats.negotiate`, with one refinement for linked data: among
    formats of
    equal quality, one named by a specific media range (``text/html``) beats one that only a
    wildcard (``*/*``) matches, so ``Accept: text/html, */*`` gets HTML.
    """
    if override:
        return negotiate(None, offered, override=override, what=what)
    ranges = parse_accept(accept)
    best: tuple[tuple[float, int, int], Format] | None = None
    for index, fmt in enumerate(offered):
        rank: tuple[int, float, int] | None = None
        for media_type in fmt.all_media_types:
            for media_range in ranges:
                if media_range.matches(media_type):
                    key = (
                        media_range.specificity * 2 + (media_type == fmt.media_type),
                        media_range.q,
                        media_range.specificity,
                    )
                    if rank is None or key[0] > rank[0]:
                        rank = key
        if rank is None or rank[1] <= 0:
            continue
        score = (rank[1], rank[2], -index)
        if best is None or score > best[0]:
            best = (score, fmt)
    if best is None:
        types = ", ".join(f.media_type for f in offered)
        names = "|".join(f.name for f in offered)
        raise UnsupportedFormatError(
            f"none of the media types in 'Accept: {accept}' can be produced for {what}; "
            f"available: {types} (or ?format={names})"
        )
    return best[1]


def _serialize(fmt: Format, triples: Iterable[Triple], prefixes: Mapping[str, str]) -> bytes:
    return b"".join(write_triples(fmt, list(triples), lambda: None, prefixes=dict(prefixes)))


def _rdf_response(fmt: Format, body: bytes) -> Response:
    return Response(body, media_type=fmt.content_type, headers=_VARY)


async def _in_thread(settings: Settings, work: Callable[[], T], what: str) -> T:
    """Run blocking store work on a worker thread, with the configured query timeout."""
    try:
        with anyio.fail_after(settings.query_timeout):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError:
        raise QueryTimeoutError(
            f"{what} took longer than the {settings.query_timeout:g} s query timeout"
        ) from None


# --- SPARQL helpers -------------------------------------------------------------------------------

Term = NamedNode | BlankNode | Literal | Triple
Row = dict[str, Term]

_PROLOGUE = "".join(
    f"PREFIX {p}: <{ns}>\n"
    for p, ns in {
        "rdf": RDF,
        "rdfs": RDFS,
        "owl": OWL,
        "skos": SKOS,
        "dip": DIP,
        "prov": PROV,
        "org": ORG,
        "dcterms": DCTERMS,
        "schema": SCHEMA,
        "xsd": XSD,
    }.items()
)


def select(store: Store, sparql: str) -> list[Row]:
    """Run a SELECT (with the prologue) and return its rows as plain dicts of bound terms."""
    result = store.query(_PROLOGUE + sparql, union_default_graph=True)
    if not isinstance(result, QuerySolutions):
        raise StoreError("expected solutions from a SELECT query")
    names = [v.value for v in result.variables]
    rows: list[Row] = []
    for solution in result:
        row: Row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                row[name] = value
        rows.append(row)
    return rows


def construct(store: Store, sparql: str) -> list[Triple]:
    """Run a CONSTRUCT (with the prologue); duplicates (one per graph) are dropped."""
    result = store.query(_PROLOGUE + sparql, union_default_graph=True)
    if isinstance(result, QuerySolutions | QueryBoolean):
        raise StoreError("expected triples from a CONSTRUCT query")
    return list(dict.fromkeys(result))


def _value(row: Row, name: str) -> str | None:
    term = row.get(name)
    if term is None or isinstance(term, Triple):
        return None
    return term.value


# --- the description of one resource --------------------------------------------------------------

#: How many outgoing triples and incoming links a description holds at most.
MAX_OUTGOING = 5000
MAX_INCOMING = 1000
#: How many facts an actor's page lists at most.
MAX_FACTS = 1000
#: Up to this many incoming links are shown open on a page; more are folded.
INCOMING_OPEN = 12

_LABEL_PROPERTIES = "rdfs:label skos:prefLabel dcterms:title dip:summary"

_DESCRIBE = """
CONSTRUCT {{ <{iri}> ?p ?o . ?o ?olp ?ol . ?s ?q <{iri}> . ?s ?slp ?sl . }}
WHERE {{
  {{ {{ SELECT DISTINCT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT {outgoing} }}
     OPTIONAL {{ VALUES ?olp {{ {labels} }} ?o ?olp ?ol FILTER(isIRI(?o)) }} }}
  UNION
  {{ {{ SELECT DISTINCT ?s ?q WHERE {{ ?s ?q <{iri}> }} LIMIT {incoming} }}
     OPTIONAL {{ VALUES ?slp {{ {labels} }} ?s ?slp ?sl }} }}
}}
"""


def describe(store: Store, iri: str) -> list[Triple]:
    """The description of ``iri``: outgoing triples, incoming links, labels of linked nodes."""
    triples = construct(
        store,
        _DESCRIBE.format(
            iri=iri, outgoing=MAX_OUTGOING, incoming=MAX_INCOMING, labels=_LABEL_PROPERTIES
        ),
    )
    subject = NamedNode(iri)

    def order(t: Triple) -> tuple[int, str, str, str]:
        return (0 if t.subject == subject else 1, str(t.subject), str(t.predicate), str(t.object))

    return sorted(triples, key=order)


_FACTS_OF = """
SELECT DISTINCT ?fact ?kind ?role WHERE {{
  VALUES ?kind {{ dip:Event dip:Situation dip:PostHolding }}
  ?fact ?role <{iri}> ; a ?kind .
}} LIMIT {limit}
"""

_FACT_DETAILS = """
SELECT ?fact ?type ?date ?summary ?label WHERE {{
  VALUES ?fact {{ {facts} }}
  {{ ?fact a ?type FILTER(STRSTARTS(STR(?type), STR(dip:))) }}
  UNION {{ ?fact dip:startDate ?date }} UNION {{ ?fact dip:earliestStart ?date }}
  UNION {{ ?fact dip:summary ?summary }} UNION {{ ?fact rdfs:label ?label }}
}}
"""

_FACT_OTHERS = """
SELECT DISTINCT ?fact ?other ?otherLabel WHERE {{
  VALUES ?fact {{ {facts} }}
  VALUES ?p {{ dip:hasParticipant dip:relationParty dip:sponsor dip:client dip:stanceHolder
              org:member dip:post org:organization }}
  ?fact ?p ?other FILTER(?other != <{iri}>)
  OPTIONAL {{ ?other rdfs:label ?otherLabel }}
}}
"""

_FACT_DOCUMENTS = """
SELECT DISTINCT ?fact ?doc ?title WHERE {{
  VALUES ?fact {{ {facts} }}
  ?fact prov:wasDerivedFrom ?doc OPTIONAL {{ ?doc dcterms:title ?title }}
}}
"""

_SOURCES = """
SELECT ?att ?doc ?title ?url ?issued ?publisher ?publisherLabel ?confidence ?span ?start ?end
WHERE {{
  <{iri}> dip:attestedBy ?att .
  OPTIONAL {{ ?att dip:confidence ?confidence }}
  OPTIONAL {{ ?att prov:wasDerivedFrom ?doc .
    OPTIONAL {{ ?doc dcterms:title ?title }}
    OPTIONAL {{ ?doc schema:url ?url }}
    OPTIONAL {{ ?doc dcterms:issued ?issued }}
    OPTIONAL {{ ?doc dcterms:publisher ?publisher
                OPTIONAL {{ ?publisher rdfs:label ?publisherLabel }} }}
  }}
  OPTIONAL {{ ?att dip:evidence ?span
    OPTIONAL {{ ?span dip:startOffset ?start }} OPTIONAL {{ ?span dip:endOffset ?end }} }}
}}
LIMIT 500
"""

_GRAPHS_OF = """
SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} ORDER BY ?g LIMIT 200
"""


@dataclass
class FactRow:
    """One fact an actor takes part in, as the resource page lists it."""

    iri: str
    kind: str
    roles: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    summaries: list[Literal] = field(default_factory=list)
    labels: list[Literal] = field(default_factory=list)
    others: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)


@dataclass
class ResourceView:
    """Everything the HTML page of a resource shows."""

    iri: str
    triples: list[Triple]
    facts: list[FactRow] = field(default_factory=list)
    sources: list[Row] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)


def resource_view(store: Store, iri: str, *, with_facts: bool = True) -> ResourceView:
    """The description of ``iri`` plus, for the HTML page, its facts, sources and graphs."""
    view = ResourceView(iri, describe(store, iri))
    if not view.triples or not with_facts:
        return view
    facts: dict[str, FactRow] = {}
    for row in select(store, _FACTS_OF.format(iri=iri, limit=MAX_FACTS)):
        fact, kind, role = _value(row, "fact"), _value(row, "kind"), _value(row, "role")
        if fact is None or kind is None or role is None or not isinstance(row["fact"], NamedNode):
            continue
        entry = facts.setdefault(fact, FactRow(fact, kind.removeprefix(DIP)))
        entry.roles.add(role)
    if facts:
        values = " ".join(f"<{f}>" for f in facts)
        for row in select(store, _FACT_DETAILS.format(facts=values)):
            entry = facts[_value(row, "fact") or ""]
            if (t := _value(row, "type")) is not None:
                entry.types.add(t)
            if (d := _value(row, "date")) is not None:
                entry.dates.add(d)
            for name, target in (("summary", entry.summaries), ("label", entry.labels)):
                term = row.get(name)
                if isinstance(term, Literal):
                    target.append(term)
        for row in select(store, _FACT_OTHERS.format(facts=values, iri=iri)):
            entry = facts[_value(row, "fact") or ""]
            other = _value(row, "other")
            if other is not None:
                label = _value(row, "otherLabel")
                if label or other not in entry.others:
                    entry.others[other] = label or ""
        for row in select(store, _FACT_DOCUMENTS.format(facts=values)):
            entry = facts[_value(row, "fact") or ""]
            doc = _value(row, "doc")
            if doc is not None:
                entry.documents[doc] = _value(row, "title") or entry.documents.get(doc, "")
    view.facts = sorted(facts.values(), key=lambda f: (min(f.dates, default="~"), f.iri))
    view.sources = select(store, _SOURCES.format(iri=iri))
    view.graphs = [
        g for row in select(store, _GRAPHS_OF.format(iri=iri)) if (g := _value(row, "g"))
    ]
    return view


# --- the ontology and code lists ------------------------------------------------------------------


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
    from diplograph.loader.store.embedded import EmbeddedStore

    store = EmbeddedStore(None)
    store.commit([GraphChange(ONTOLOGY_IRI, ontology_triples())])
    return store


def _ontology_turtle() -> bytes:
    from diplograph.loader.ontology import ontology_turtle

    return ontology_turtle().encode("utf-8")


def _package_file(package: str, name: str) -> Callable[[], bytes]:
    @functools.cache
    def read() -> bytes:
        from importlib.resources import files

        return (files(package) / name).read_bytes()

    return read


_DOCUMENTS: dict[str, VocabularyDocument] = {
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
def _document_triples(name: str) -> tuple[Triple, ...]:
    doc = _DOCUMENTS[name]
    if name == "ns":
        from diplograph.loader.ontology import ontology_triples

        return tuple(ontology_triples())
    return tuple(q.triple for q in parse(doc.turtle(), format=RdfFormat.TURTLE))


def _document_prefixes(name: str) -> dict[str, str]:
    prefixes = dict(PREFIXES)
    if name == "shapes":
        prefixes.update(sh=SH, dsh="https://w3id.org/diplograph/shapes#")
    return prefixes


async def _serve_document(request: Request, name: str, fmt_name: str | None) -> Response:
    doc = _DOCUMENTS[name]
    offered: tuple[Format, ...] = RDF_FORMATS if name == "shapes" else _PAGE_FORMATS
    fmt = choose_format(request.headers.get("accept"), offered, override=fmt_name, what=doc.title)
    if fmt is HTML:
        if doc.namespace is None:
            body = await anyio.to_thread.run_sync(ontology_page)
        else:
            body = await anyio.to_thread.run_sync(code_list_page, name)
        return html_response(body)
    if fmt.name == "turtle":
        return _rdf_response(fmt, doc.turtle())
    body_bytes = await anyio.to_thread.run_sync(
        lambda: _serialize(fmt, _document_triples(name), _document_prefixes(name))
    )
    return _rdf_response(fmt, body_bytes)


FormatParam = Annotated[
    str | None,
    Query(
        alias="format",
        description="Overrides Accept: turtle, jsonld, ntriples, rdfxml or html.",
    ),
]


@router.get("/ns", summary="The ontology (HTML, Turtle, RDF/XML, JSON-LD, N-Triples)")
async def get_ontology(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "ns", format)


@router.get("/codes", summary="The kw: code lists (roles, polarities, modalities, qualities)")
@router.get("/kw/", summary="The kw: code lists (same as /codes)")
async def get_codes(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "codes", format)


@router.get("/cameo", summary="The CAMEO code list")
@router.get("/cameo/", summary="The CAMEO code list (the concept scheme)")
async def get_cameo(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "cameo", format)


@router.get("/plover", summary="The PLOVER code list")
@router.get("/plover/", summary="The PLOVER code list (the concept scheme)")
async def get_plover(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "plover", format)


@router.get("/shapes", summary="The SHACL shapes (Turtle or another RDF format)")
async def get_shapes(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "shapes", format)


@router.get("/schema", summary="The JSON Schema of a facts document")
async def get_schema() -> JSONResponse:
    from diplograph.loader.facts import json_schema

    return JSONResponse(json_schema(), media_type="application/schema+json")


@router.get("/kw/{code}", summary="One code of the kw: code lists")
@router.get("/cameo/{code}", summary="One CAMEO code")
@router.get("/plover/{code}", summary="One PLOVER event type")
async def get_code(
    request: Request, code: str, settings: SettingsDep, format: FormatParam = None
) -> Response:
    iri = ONTOLOGY_ROOT + request.url.path.lstrip("/").split("/", 1)[0] + "/" + quote(code)
    return await _serve_resource(request, settings, iri, ontology_store(), format, with_facts=False)


@router.get(
    "/id/{path:path}",
    summary="A resource minted by the loader (HTML, Turtle, JSON-LD, N-Triples, RDF/XML)",
)
async def get_resource(
    request: Request, path: str, settings: SettingsDep, store: StoreDep, format: FormatParam = None
) -> Response:
    iri = settings.base_iri + "id/" + quote(path, safe="/:@!$&'()*+,;=-._~")
    return await _serve_resource(request, settings, iri, store, format)


async def _serve_resource(
    request: Request,
    settings: Settings,
    iri: str,
    store: Store,
    fmt_name: str | None,
    *,
    with_facts: bool = True,
) -> Response:
    fmt = choose_format(
        request.headers.get("accept"), _PAGE_FORMATS, override=fmt_name, what="a resource"
    )
    try:
        NamedNode(iri)
    except ValueError:
        raise NotFoundError(f"{iri!r} is not an IRI this server describes") from None
    what = f"describing <{iri}>"
    if fmt is HTML:

        def render() -> str | None:
            view = resource_view(store, iri, with_facts=with_facts)
            if not view.triples:
                return None
            return resource_page(view, settings, ontology_labels())

        text = await _in_thread(settings, render, what)
        if text is None:
            return html_response(not_found_page(iri), status_code=404)
        return html_response(text)
    prefixes = {**PREFIXES, **data_prefixes(settings.base_iri)}

    def serialize() -> bytes | None:
        triples = describe(store, iri)
        return _serialize(fmt, triples, prefixes) if triples else None

    body = await _in_thread(settings, serialize, what)
    if body is None:
        raise NotFoundError(f"nothing is known about <{iri}>")
    return _rdf_response(fmt, body)


# --- HTML: shared pieces --------------------------------------------------------------------------

_RDF_TYPE = RDF + "type"
_LABEL_ORDER = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title", DIP + "summary")
_ROLE_LIKE = {DIP + "hasParticipant"}


def _pick_label(literals: Iterable[Literal]) -> str | None:
    """The English (or untagged, or first) of ``literals``."""
    found = list(literals)
    for literal in found:
        if (literal.language or "").lower().startswith("en"):
            return literal.value
    for literal in found:
        if not literal.language:
            return literal.value
    return found[0].value if found else None


def labels_from(triples: Iterable[Triple]) -> dict[str, str]:
    """A label for every IRI the triples give one (label, prefLabel, title, then summary)."""
    by_node: dict[str, dict[str, list[Literal]]] = {}
    for t in triples:
        if (
            isinstance(t.subject, NamedNode)
            and isinstance(t.object, Literal)
            and t.predicate.value in _LABEL_ORDER
        ):
            by_node.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(
                t.object
            )
    labels: dict[str, str] = {}
    for node, props in by_node.items():
        for prop in _LABEL_ORDER:
            label = _pick_label(props.get(prop, ()))
            if label:
                labels[node] = label
                break
    return labels


@functools.cache
def ontology_labels() -> Mapping[str, str]:
    """Labels of the ontology's terms and codes (from the ontology store, by SPARQL)."""
    rows = select(
        ontology_store(),
        "SELECT ?t ?l WHERE { VALUES ?p { rdfs:label skos:prefLabel } ?t ?p ?l "
        "FILTER(isIRI(?t) && (LANG(?l) = '' || LANGMATCHES(LANG(?l), 'en'))) }",
    )
    return {t: lbl for row in rows if (t := _value(row, "t")) and (lbl := _value(row, "l"))}


@functools.cache
def _ontology_definitions() -> Mapping[str, str]:
    rows = select(
        ontology_store(),
        "SELECT ?t ?d WHERE { ?t skos:definition ?d FILTER(isIRI(?t)) }",
    )
    return {t: d for row in rows if (t := _value(row, "t")) and (d := _value(row, "d"))}


def _specific_types(types: Iterable[str]) -> list[str]:
    """The most specific of ``types`` (the loader also writes every superclass)."""
    from diplograph.loader.ontology import superclass_closure

    closure = superclass_closure()
    found = set(types)
    return sorted(
        t for t in found if not any(t != u and t in closure.get(u, frozenset()) for u in found)
    )


class _Html:
    """Renders terms as HTML for one request's settings and labels."""

    def __init__(self, settings: Settings, labels: Mapping[str, str]) -> None:
        self.settings = settings
        self.labels = labels
        self.prefixes = link_prefixes(settings)

    def href(self, iri: str) -> str:
        return local_href(iri, self.settings) or iri

    def name(self, iri: str) -> str:
        """A short name: ``prefix:local``, else the path under ``{base}id/``, else the IRI."""
        short = compact(iri, self.prefixes)
        ids = self.settings.base_iri + "id/"
        if short == iri and iri.startswith(ids):
            return iri[len(ids) :]
        return short

    def iri(self, iri: str, *, label: str | None = None, show_iri: bool = False) -> str:
        text = label or self.labels.get(iri) or self.name(iri)
        title = self.name(iri)
        external = local_href(iri, self.settings) is None
        attrs = ' rel="external"' if external else ""
        link = (
            f'<a href="{html.escape(self.href(iri))}" title="{html.escape(title)}"{attrs}>'
            f"{html.escape(text)}</a>"
        )
        if show_iri and text != title:
            link += f' <span class="iri">{html.escape(title)}</span>'
        return link

    def term(self, term: Term) -> str:
        if isinstance(term, NamedNode):
            return self.iri(term.value)
        if isinstance(term, BlankNode):
            return f'<span class="bnode">_:{html.escape(term.value)}</span>'
        if isinstance(term, Literal):
            text = f'<span class="literal">{html.escape(term.value)}</span>'
            if term.language:
                text += f' <span class="lang">@{html.escape(term.language)}</span>'
            elif term.datatype.value != XSD + "string":
                datatype = html.escape(compact(term.datatype.value, self.prefixes))
                text += f' <span class="datatype">{datatype}</span>'
            return text
        return f'<span class="triple">{html.escape(str(term))}</span>'

    def predicate(self, iri: str) -> str:
        name = compact(iri, self.prefixes)
        definition = _ontology_definitions().get(iri, "")
        title = f"{name}: {definition}" if definition else name
        return (
            f'<a href="{html.escape(self.href(iri))}" title="{html.escape(title)}">'
            f"{html.escape(name)}</a>"
        )


def _format_links(formats: Sequence[Format]) -> str:
    links = " · ".join(
        f'<a href="?format={f.name}" type="{f.media_type}">{html.escape(f.label)}</a>'
        for f in formats
    )
    return f'<p class="formats">Also as {links}</p>'


# --- HTML: a resource -----------------------------------------------------------------------------


def resource_page(view: ResourceView, settings: Settings, term_labels: Mapping[str, str]) -> str:
    """The HTML page of one resource."""
    labels = {**term_labels, **labels_from(view.triples)}
    r = _Html(settings, labels)
    subject = NamedNode(view.iri)
    outgoing = [t for t in view.triples if t.subject == subject]
    incoming = [t for t in view.triples if t.object == subject and t.subject != subject]
    types = [
        t.object.value
        for t in outgoing
        if t.predicate.value == _RDF_TYPE and isinstance(t.object, NamedNode)
    ]
    title = labels.get(view.iri) or compact(view.iri, r.prefixes)
    specific = _specific_types(types)
    chips = "".join(f'<li class="type">{r.iri(t)}</li>' for t in specific)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="iri-line"><code class="iri">{html.escape(view.iri)}</code></p>',
        f'<ul class="types">{chips}</ul>' if chips else "",
        _format_links(RDF_FORMATS),
    ]
    if view.sources:
        parts.append(_sources_html(view.sources, r))
    is_fact = bool(view.sources)
    kinds = (
        ("Event", "Related events" if is_fact else "Events"),
        ("Situation", "Related situations" if is_fact else "Relations, backings and stances"),
        ("PostHolding", "Post holdings" if is_fact else "Posts held"),
    )
    for kind, heading in kinds:
        rows = [f for f in view.facts if f.kind == kind]
        if rows:
            parts.append(_facts_html(heading, kind, rows, r))
    parts.append(_properties_html(outgoing, r))
    if incoming:
        parts.append(_incoming_html(incoming, r))
    if view.graphs:
        items = "".join(f"<li>{r.iri(g, show_iri=True)}</li>" for g in view.graphs)
        parts.append(
            '<section id="described-in"><h2>Described in</h2>'
            "<p>The source documents (named graphs) that state something about this resource.</p>"
            f"<ul>{items}</ul></section>"
        )
    if view.iri.startswith(ONTOLOGY_ROOT) and not view.iri.startswith(settings.base_iri + "id/"):
        uses = f"SELECT ?fact ?property WHERE {{\n  ?fact ?property <{view.iri}> .\n}}\nLIMIT 200\n"
        link = html.escape("/?run=1&query=" + quote(uses))
        parts.append(f'<p><a href="{link}">Find what uses this code</a></p>')
    return page(title, "".join(parts))


def _facts_html(heading: str, kind: str, rows: Sequence[FactRow], r: _Html) -> str:
    body = []
    for fact in rows:
        label = _pick_label(fact.summaries) or _pick_label(fact.labels)
        types = _specific_types(fact.types)
        type_text = ", ".join(r.iri(t) for t in types)
        if not label:
            names = [r.labels.get(t) or t.rsplit("#", 1)[-1] for t in types] or [kind]
            label = " ".join(names)
        roles = sorted(fact.roles - _ROLE_LIKE) or sorted(fact.roles)
        role_text = ", ".join(r.predicate(role) for role in roles)
        others = ", ".join(
            r.iri(other, label=name or None)
            for other, name in sorted(fact.others.items(), key=lambda i: i[1] or i[0])
        )
        docs = ", ".join(
            r.iri(doc, label=title or None) for doc, title in sorted(fact.documents.items())
        )
        date = ", ".join(sorted(d[:10] for d in fact.dates))
        body.append(
            f"<tr><td>{r.iri(fact.iri, label=label)}</td><td>{type_text}</td><td>{role_text}</td>"
            f"<td>{others}</td><td>{html.escape(date)}</td><td>{docs}</td></tr>"
        )
    anchor = kind.lower()
    return (
        f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>'
        '<table class="facts"><thead><tr><th>What</th><th>Type</th><th>Role</th><th>With</th>'
        f"<th>Date</th><th>Sources</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</section>"
    )


def _sources_html(rows: Sequence[Row], r: _Html) -> str:
    by_att: dict[str, dict[str, Any]] = {}
    for row in rows:
        att = _value(row, "att")
        if att is None:
            continue
        entry = by_att.setdefault(att, {"row": row, "spans": set()})
        start, end = _value(row, "start"), _value(row, "end")
        if start is not None and end is not None:
            entry["spans"].add((int(start), int(end)))
    body = []
    for att, entry in sorted(by_att.items()):
        row = entry["row"]
        doc = _value(row, "doc")
        document = r.iri(doc, label=_value(row, "title")) if doc else ""
        publisher = _value(row, "publisher")
        pub = r.iri(publisher, label=_value(row, "publisherLabel")) if publisher else ""
        url = _value(row, "url")
        article = (
            f'<a href="{html.escape(url)}" rel="external nofollow">{html.escape(url)}</a>'
            if url
            else ""
        )
        spans = ", ".join(f"{s}–{e}" for s, e in sorted(entry["spans"]))
        body.append(
            f"<tr><td>{document}</td><td>{pub}</td>"
            f"<td>{html.escape(_value(row, 'issued') or '')}</td>"
            f"<td>{html.escape(_value(row, 'confidence') or '')}</td><td>{html.escape(spans)}</td>"
            f"<td>{article}</td><td>{r.iri(att, label='attestation')}</td></tr>"
        )
    return (
        '<section id="sources"><h2>Sources</h2>'
        "<p>The documents this fact rests on, with the extractor's confidence and the character "
        "offsets of the evidence in each document.</p>"
        '<table class="sources"><thead><tr><th>Document</th><th>Publisher</th><th>Issued</th>'
        "<th>Confidence</th><th>Evidence (offsets)</th><th>Article</th><th></th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></section>"
    )


def _properties_html(outgoing: Sequence[Triple], r: _Html) -> str:
    grouped: dict[str, list[Term]] = {}
    for t in outgoing:
        grouped.setdefault(t.predicate.value, []).append(t.object)

    def order(p: str) -> tuple[int, str]:
        if p == _RDF_TYPE:
            return (0, "")
        if p in _LABEL_ORDER:
            return (1, str(_LABEL_ORDER.index(p)))
        return (2, compact(p, r.prefixes))

    body = "".join(
        f'<tr><th scope="row">{r.predicate(p)}</th><td><ul class="values">'
        + "".join(f"<li>{r.term(v)}</li>" for v in grouped[p])
        + "</ul></td></tr>"
        for p in sorted(grouped, key=order)
    )
    return (
        '<section id="properties"><h2>Properties</h2>'
        f'<table class="properties"><tbody>{body}</tbody></table></section>'
    )


def _incoming_html(incoming: Sequence[Triple], r: _Html) -> str:
    pairs = sorted(
        {(t.predicate.value, t.subject) for t in incoming},
        key=lambda pair: (compact(pair[0], r.prefixes), str(pair[1])),
    )
    body = "".join(f"<tr><td>{r.term(s)}</td><td>{r.predicate(p)}</td></tr>" for p, s in pairs)
    note = f"<p>The first {MAX_INCOMING} links are shown.</p>" if len(pairs) >= MAX_INCOMING else ""
    opened = " open" if len(pairs) <= INCOMING_OPEN else ""
    return (
        '<section id="links-in"><h2>Referenced by</h2>'
        f"<details{opened}><summary>{len(pairs)} resource(s) link to this one</summary>"
        f'<table class="links-in"><thead><tr><th>Resource</th><th>Property</th></tr></thead>'
        f"<tbody>{body}</tbody></table>{note}</details></section>"
    )


def not_found_page(iri: str) -> str:
    """The HTML 404 page for a resource nothing is known about."""
    return page(
        "Not found",
        "<h1>Not found</h1>"
        f'<p>Nothing is known about <code class="iri">{html.escape(iri)}</code> in this graph.</p>'
        '<p>Try <a href="/">a query</a>.</p>',
    )


# --- HTML: the ontology ---------------------------------------------------------------------------

_KINDS = (
    (OWL + "Class", "classes", "Classes"),
    (OWL + "ObjectProperty", "object-properties", "Object properties"),
    (OWL + "DatatypeProperty", "datatype-properties", "Datatype properties"),
    (OWL + "AnnotationProperty", "annotation-properties", "Annotation properties"),
)

_ONTOLOGY_TERMS = """
SELECT ?term ?kind ?label ?definition ?comment WHERE {
  VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty }
  ?term a ?kind FILTER(isIRI(?term) && STRSTARTS(STR(?term), STR(dip:)))
  OPTIONAL { ?term rdfs:label ?label }
  OPTIONAL { ?term skos:definition ?definition }
  OPTIONAL { ?term rdfs:comment ?comment }
}
"""

_ONTOLOGY_LINKS = """
SELECT ?term ?rel ?other WHERE {
  VALUES ?rel { rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:inverseOf
                owl:disjointWith owl:equivalentClass skos:exactMatch skos:closeMatch
                skos:broadMatch skos:narrowMatch }
  { ?term ?rel ?other FILTER(isIRI(?other)) }
  UNION { ?term ?rel ?x . ?x owl:unionOf/rdf:rest*/rdf:first ?other FILTER(isIRI(?other)) }
  UNION { ?term ?rel ?x . ?x owl:onDatatype ?other }
  FILTER(isIRI(?term) && STRSTARTS(STR(?term), STR(dip:)))
}
"""

_ONTOLOGY_DEFINED = """
SELECT ?term ?member ?onProperty ?some WHERE {
  ?term owl:equivalentClass ?e . ?e owl:intersectionOf/rdf:rest*/rdf:first ?member .
  OPTIONAL { ?member owl:onProperty ?onProperty ; owl:someValuesFrom ?some }
  FILTER(isIRI(?term) && STRSTARTS(STR(?term), STR(dip:)))
}
"""

_ONTOLOGY_HEADER = """
SELECT ?p ?o WHERE { <%s> ?p ?o }
"""

_SCHEMES = """
SELECT ?scheme ?label ?definition (COUNT(DISTINCT ?concept) AS ?n) WHERE {
  ?scheme a skos:ConceptScheme .
  OPTIONAL { ?scheme skos:prefLabel ?label }
  OPTIONAL { ?scheme skos:definition ?definition }
  OPTIONAL { ?concept skos:inScheme ?scheme }
} GROUP BY ?scheme ?label ?definition ORDER BY ?scheme
"""


@dataclass
class _TermDoc:
    iri: str
    kind: str
    label: str = ""
    definition: str = ""
    links: dict[str, list[str]] = field(default_factory=dict)
    reverse: dict[str, list[str]] = field(default_factory=dict)
    defined_as: list[str] = field(default_factory=list)


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1] or iri


@functools.cache
def ontology_page() -> str:
    """The HTML documentation of the ontology, generated by SPARQL over the ontology graph."""
    store = ontology_store()
    labels = ontology_labels()
    terms: dict[str, _TermDoc] = {}
    for row in select(store, _ONTOLOGY_TERMS):
        iri, kind = _value(row, "term"), _value(row, "kind")
        if iri is None or kind is None:
            continue
        doc = terms.setdefault(iri, _TermDoc(iri, kind))
        label = row.get("label")
        if isinstance(label, Literal) and (
            not doc.label or (label.language or "").startswith("en")
        ):
            doc.label = label.value
        doc.definition = doc.definition or _value(row, "definition") or _value(row, "comment") or ""
    for row in select(store, _ONTOLOGY_LINKS):
        iri, rel, other = _value(row, "term"), _value(row, "rel"), _value(row, "other")
        if iri in terms and rel and other:
            terms[iri].links.setdefault(rel, []).append(other)
            if other in terms:
                terms[other].reverse.setdefault(rel, []).append(iri)
    for row in select(store, _ONTOLOGY_DEFINED):
        iri, member = _value(row, "term"), _value(row, "member")
        if iri not in terms or member is None:
            continue
        on, some = _value(row, "onProperty"), _value(row, "some")
        terms[iri].defined_as.append(
            f"{_term_link(on, labels)} some {_term_link(some, labels)}"
            if on and some
            else _term_link(member, labels)
            if isinstance(row.get("member"), NamedNode)
            else ""
        )
    header: dict[str, list[Term]] = {}
    for row in select(store, _ONTOLOGY_HEADER % ONTOLOGY_IRI):
        p, o = _value(row, "p"), row.get("o")
        if p and o is not None:
            header.setdefault(p, []).append(o)

    def first(prop: str) -> str:
        values = header.get(prop, [])
        return values[0].value if values and not isinstance(values[0], Triple) else ""

    title = first(DCTERMS + "title") or "diplograph ontology"
    description = first(DCTERMS + "description")
    version = first(OWL + "versionInfo")
    license_iri = first(DCTERMS + "license")
    toc: list[str] = []
    sections: list[str] = []
    for kind, anchor, heading in _KINDS:
        members = sorted((t for t in terms.values() if t.kind == kind), key=lambda t: _local(t.iri))
        if not members:
            continue
        toc.append(
            f'<li><a href="#{anchor}">{heading}</a>: '
            + ", ".join(
                f'<a href="#{html.escape(_local(t.iri))}">{html.escape(_local(t.iri))}</a>'
                for t in members
            )
            + "</li>"
        )
        sections.append(
            f'<section id="{anchor}"><h2>{heading}</h2>'
            + "".join(_term_section(t, labels) for t in members)
            + "</section>"
        )
    schemes = select(store, _SCHEMES)
    scheme_items = "".join(
        f"<li>{_term_link(_value(row, 'scheme'), labels)}: "
        f"{html.escape(_value(row, 'label') or '')}"
        f" ({_value(row, 'n') or 0} codes) — {html.escape(_value(row, 'definition') or '')}</li>"
        for row in schemes
    )
    formats = " · ".join(
        f'<a href="/ns?format={f.name}">{html.escape(f.label)}</a>' for f in RDF_FORMATS
    )
    facts_line = f'<code class="iri">{html.escape(ONTOLOGY_IRI)}</code>'
    if version:
        facts_line += f" · version {html.escape(version)}"
    if license_iri:
        facts_line += (
            f' · license <a href="{html.escape(license_iri)}" rel="external">'
            f"{html.escape(license_iri)}</a>"
        )
    body = (
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="iri-line">{facts_line}</p>'
        f'<p class="lead">{html.escape(description)}</p>'
        f'<p class="formats">Download: {formats}. Protégé opens this URL directly '
        "(it asks for RDF/XML).</p>"
        f'<nav class="toc" aria-label="contents"><h2>Contents</h2><ul>{"".join(toc)}'
        '<li><a href="#code-lists">Code lists</a></li></ul></nav>'
        + "".join(sections)
        + f'<section id="code-lists"><h2>Code lists</h2><ul>{scheme_items}</ul>'
        '<p>Browse them at <a href="/kw/">/kw/</a>, <a href="/cameo/">/cameo/</a> and '
        '<a href="/plover/">/plover/</a>.</p></section>'
    )
    return page(title, body)


def _term_link(iri: str | None, labels: Mapping[str, str]) -> str:
    if not iri:
        return ""
    if iri.startswith(DIP):
        name = _local(iri)
        return f'<a href="/ns#{html.escape(name)}">{html.escape(name)}</a>'
    if iri.startswith(ONTOLOGY_ROOT):
        path = "/" + iri[len(ONTOLOGY_ROOT) :]
        text = labels.get(iri) or compact(iri, PREFIXES)
        return f'<a href="{html.escape(path)}">{html.escape(text)}</a>'
    name = compact(iri, _TERM_PREFIXES)
    return f'<a href="{html.escape(iri)}" rel="external">{html.escape(name)}</a>'


_TERM_PREFIXES = {**PREFIXES, "sem": SEM, "vann": VANN}

_LINK_LABELS = (
    (RDFS + "subClassOf", "Subclass of", False),
    (OWL + "equivalentClass", "Equivalent to", False),
    (RDFS + "subClassOf", "Superclass of", True),
    (OWL + "disjointWith", "Disjoint with", False),
    (RDFS + "domain", "Properties of this class", True),
    (RDFS + "range", "Properties with values of this class", True),
    (RDFS + "subPropertyOf", "Sub-property of", False),
    (RDFS + "subPropertyOf", "Super-property of", True),
    (OWL + "inverseOf", "Inverse of", False),
    (RDFS + "domain", "Domain", False),
    (RDFS + "range", "Range", False),
    (SKOS + "exactMatch", "Exact match", False),
    (SKOS + "closeMatch", "Close match", False),
    (SKOS + "broadMatch", "Broad match", False),
    (SKOS + "narrowMatch", "Narrow match", False),
)


def _term_section(term: _TermDoc, labels: Mapping[str, str]) -> str:
    name = _local(term.iri)
    rows = []
    for rel, label, reverse in _LINK_LABELS:
        targets = (term.reverse if reverse else term.links).get(rel, [])
        if targets:
            rows.append(
                f"<tr><th>{label}</th><td>"
                + ", ".join(_term_link(t, labels) for t in sorted(set(targets)))
                + "</td></tr>"
            )
    if term.defined_as:
        rows.insert(
            0,
            "<tr><th>Defined as</th><td>all of: "
            + ", ".join(d for d in term.defined_as if d)
            + "</td></tr>",
        )
    table = f'<table class="term-links">{"".join(rows)}</table>' if rows else ""
    label = f' <span class="term-label">{html.escape(term.label)}</span>' if term.label else ""
    definition = f"<p>{html.escape(term.definition)}</p>" if term.definition else ""
    anchor = html.escape(name)
    return (
        f'<section class="term" id="{anchor}">'
        f'<h3>{anchor} <a class="anchor" href="#{anchor}" aria-label="link to {anchor}">#</a>'
        f"{label}</h3>"
        f'<p class="iri-line"><code class="iri">{html.escape(term.iri)}</code></p>'
        f"{definition}{table}</section>"
    )


_CONCEPTS = """
SELECT ?scheme ?concept ?notation ?label ?definition ?rel ?other WHERE {
  ?concept skos:inScheme ?scheme FILTER(STRSTARTS(STR(?concept), "%s"))
  OPTIONAL { ?concept skos:notation ?notation }
  OPTIONAL { ?concept skos:prefLabel ?label }
  OPTIONAL { ?concept skos:definition ?definition }
  OPTIONAL { VALUES ?rel { skos:broader skos:exactMatch skos:closeMatch skos:broadMatch
                          skos:narrowMatch skos:relatedMatch }
             ?concept ?rel ?other }
}
"""


@functools.cache
def code_list_page(name: str) -> str:
    """The HTML page of one code list: its schemes and every code, with an anchor per code."""
    doc = _DOCUMENTS[name]
    namespace = doc.namespace or ""
    labels = ontology_labels()
    definitions = _ontology_definitions()
    schemes: dict[str, dict[str, dict[str, Any]]] = {}
    for row in select(ontology_store(), _CONCEPTS % namespace):
        scheme, concept = _value(row, "scheme"), _value(row, "concept")
        if scheme is None or concept is None:
            continue
        entry = schemes.setdefault(scheme, {}).setdefault(
            concept, {"notation": "", "label": "", "definition": "", "links": {}}
        )
        for key in ("notation", "label", "definition"):
            entry[key] = entry[key] or _value(row, key) or ""
        rel, other = _value(row, "rel"), _value(row, "other")
        if rel and other:
            entry["links"].setdefault(compact(rel, PREFIXES), set()).add(other)
    sections = []
    for scheme in sorted(schemes):
        rows = []
        for concept, entry in sorted(schemes[scheme].items(), key=lambda i: i[0]):
            anchor = concept[len(namespace) :] if concept.startswith(namespace) else concept
            links = "; ".join(
                f"{html.escape(rel)} " + ", ".join(_term_link(o, labels) for o in sorted(others))
                for rel, others in sorted(entry["links"].items())
            )
            rows.append(
                f'<tr id="{html.escape(anchor)}">'
                f'<td><a href="{html.escape("/" + concept[len(ONTOLOGY_ROOT) :])}">'
                f"<code>{html.escape(compact(concept, PREFIXES))}</code></a></td>"
                f"<td>{html.escape(entry['notation'])}</td><td>{html.escape(entry['label'])}</td>"
                f"<td>{html.escape(entry['definition'])}</td><td>{links}</td></tr>"
            )
        scheme_anchor = _local(scheme.rstrip("/")) if scheme != namespace else "scheme"
        sections.append(
            f'<section class="scheme" id="scheme-{html.escape(scheme_anchor)}">'
            f"<h2>{html.escape(labels.get(scheme, compact(scheme, PREFIXES)))}</h2>"
            f'<p class="iri-line"><code class="iri">{html.escape(scheme)}</code></p>'
            f"<p>{html.escape(definitions.get(scheme, ''))}</p>"
            '<table class="codes"><thead><tr><th>Code</th><th>Notation</th><th>Label</th>'
            f"<th>Definition</th><th>Mappings</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></section>"
        )
    path = "/" + name
    formats = " · ".join(
        f'<a href="{path}?format={f.name}">{html.escape(f.label)}</a>' for f in RDF_FORMATS
    )
    body = (
        f"<h1>{html.escape(doc.title)}</h1>"
        f'<p class="iri-line">Codes: <code class="iri">{html.escape(namespace)}</code> · '
        f'part of <a href="/ns">the diplograph ontology</a></p>'
        f'<p class="formats">Download: {formats}</p>' + "".join(sections)
    )
    return page(doc.title, body)


# --- VoID -----------------------------------------------------------------------------------------

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
    value = _value(rows[0], name) if rows else None
    return int(value) if value is not None else 0


def void_stats(store: Store, settings: Settings) -> VoidStats:
    """Count what the VoID description reports, by SPARQL over the union of all graphs."""
    ids = settings.base_iri + "id/"
    partitions = tuple(
        (c, int(n))
        for row in select(store, _VOID_PARTITIONS.format(ids=ids))
        if (c := _value(row, "class")) and (n := _value(row, "n"))
    )
    example_rows = select(store, _VOID_EXAMPLE.format(ids=ids))
    return VoidStats(
        triples=_count(store, _VOID_COUNTS.format(), "triples"),
        entities=_count(store, _VOID_ENTITIES.format(ids=ids), "entities"),
        classes=_count(store, _VOID_CLASSES, "classes"),
        properties=_count(store, _VOID_PROPERTIES, "properties"),
        graphs=_count(store, _VOID_GRAPHS, "graphs"),
        partitions=partitions,
        example=_value(example_rows[0], "s") if example_rows else None,
    )


def void_triples(stats: VoidStats, settings: Settings, server: str) -> list[Triple]:
    """The VoID description of the dataset this server (at ``server``) publishes."""
    from diplograph.loader.dump import FORMATS as DUMP_FORMATS

    def v(name: str) -> NamedNode:
        return NamedNode(VOID + name)

    def integer(n: int) -> Literal:
        return Literal(str(n), datatype=NamedNode(XSD + "integer"))

    a = NamedNode(_RDF_TYPE)
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
        Triple(dataset, v("uriSpace"), Literal(settings.base_iri + "id/")),
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


def server_url(request: Request, settings: Settings) -> str:
    """The server's root URL as the client used it (``settings.public_url`` when set)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


@router.get("/.well-known/void", summary="A VoID description of the dataset")
async def get_void(
    request: Request, settings: SettingsDep, store: StoreDep, format: FormatParam = None
) -> Response:
    fmt = choose_format(
        request.headers.get("accept"), RDF_FORMATS, override=format, what="the VoID description"
    )
    stats = await _in_thread(settings, lambda: void_stats(store, settings), "counting the dataset")
    triples = void_triples(stats, settings, server_url(request, settings))
    prefixes = {**PREFIXES, "void": VOID, "dip": DIP}
    return _rdf_response(fmt, _serialize(fmt, triples, prefixes))


# --- dumps ----------------------------------------------------------------------------------------

#: Bytes per chunk of a streamed dump, and how many chunks may wait for a slow client.
DUMP_CHUNK_BYTES = 64 * 1024
DUMP_BUFFER_CHUNKS = 8
#: A client that takes no chunk for this long is dropped.
DUMP_STALL_SECONDS = 300.0


class _Stop(Exception):
    """The client went away: stop writing the dump."""


class _ChunkWriter:
    """A binary file-like object that hands fixed-size chunks to ``emit``."""

    def __init__(self, emit: Callable[[bytes], None], size: int = DUMP_CHUNK_BYTES) -> None:
        self._emit = emit
        self._size = size
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= self._size:
            self._emit(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        if self._buffer:
            self._emit(bytes(self._buffer))
            self._buffer.clear()


class DumpStream:
    """A dump written on its own thread and handed to the response chunk by chunk.

    The thread blocks when :data:`DUMP_BUFFER_CHUNKS` chunks wait for the client (so memory stays
    bounded) and stops when the client goes away. :meth:`start` waits for the first chunk, so an
    error that happens before any output is answered with its proper status.
    """

    def __init__(self, write: Callable[[IO[bytes]], None]) -> None:
        self._write = write
        self._queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self._slots = threading.Semaphore(DUMP_BUFFER_CHUNKS)
        self._stopped = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._first = b""
        self._ended = False

    def _put(self, item: bytes | BaseException | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone (server shutdown)
            self._stopped.set()

    def _emit(self, chunk: bytes) -> None:
        waited = 0.0
        while not self._slots.acquire(timeout=1.0):
            waited += 1.0
            if self._stopped.is_set() or waited >= DUMP_STALL_SECONDS:
                raise _Stop
        if self._stopped.is_set():
            raise _Stop
        self._put(chunk)

    def _run(self) -> None:
        writer = _ChunkWriter(self._emit)
        try:
            self._write(cast(IO[bytes], writer))
            writer.finish()
        except _Stop:
            return
        except BaseException as exc:  # handed to the response
            exc.__traceback__ = None
            self._put(
                exc if isinstance(exc, DiplographError) else StoreError(f"the dump failed: {exc}")
            )
            return
        self._put(None)

    async def start(self) -> None:
        threading.Thread(target=self._run, name="diplograph-dump", daemon=True).start()
        try:
            first = await self._queue.get()
        except BaseException:  # the request was cancelled: stop the writer
            self._stopped.set()
            raise
        if isinstance(first, BaseException):
            raise first
        if first is None:
            self._ended = True
        else:
            self._first = first
            self._slots.release()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            if self._first:
                yield self._first
            if self._ended:
                return
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    log.warning("dump stopped mid-stream: %s", item)
                    raise item
                self._slots.release()
                yield item
        finally:
            self._stopped.set()


def _wants_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` accepts gzip (by name, or by ``*`` when gzip is not named)."""
    qualities: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 1.0
        if coding:
            qualities[coding.lower()] = q
    for name in ("gzip", "x-gzip", "*"):
        if name in qualities:
            return qualities[name] > 0
    return False


DumpFormatParam = Annotated[
    str | None,
    Query(
        alias="format",
        description="turtle, trig, nquads, ntriples or jsonld (default: by Accept, else trig)",
    ),
]


@router.get("/dump", summary="The whole store (or one graph) as a dump, streamed")
async def get_dump(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    format: DumpFormatParam = None,
    graph: Annotated[str | None, Query(description="Dump only this named graph")] = None,
    compress: Annotated[
        str | None,
        Query(description="gzip: a .gz file; none: never compressed; default: Accept-Encoding"),
    ] = None,
) -> Response:
    from diplograph.loader.dump import FORMATS as DUMP_FORMATS
    from diplograph.loader.dump import write_dump

    offered = [
        Format(f.name, f.name, f.media_type, text=False)
        for f in sorted(DUMP_FORMATS.values(), key=lambda f: f.name != "trig")
    ]
    chosen = choose_format(request.headers.get("accept"), offered, override=format, what="a dump")
    dump_format = DUMP_FORMATS[chosen.name]
    if compress not in (None, "gzip", "none"):
        raise UnsupportedFormatError(f"compress={compress!r}: use gzip or none")
    if graph is not None:
        try:
            NamedNode(graph)
        except ValueError:
            raise NotFoundError(f"graph={graph!r} is not an IRI") from None
        exists = await _in_thread(
            settings,
            lambda: bool(
                select(store, f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT 1")
            ),
            "looking up the graph",
        )
        if not exists:
            raise NotFoundError(f"no named graph <{graph}> in the store")
    file_gzip = compress == "gzip"
    encoding_gzip = compress is None and _wants_gzip(request.headers.get("accept-encoding"))
    gzip = file_gzip or encoding_gzip

    def write(output: IO[bytes]) -> None:
        write_dump(
            store, output, dump_format.name, graph=graph, gzip=gzip, base_iri=settings.base_iri
        )

    stream = DumpStream(write)
    await stream.start()
    name = "diplograph"
    if graph is not None:
        name += "-" + (
            re.sub(r"[^A-Za-z0-9._-]+", "-", graph.rstrip("/").rsplit("/", 1)[-1]) or "graph"
        )
    filename = f"{name}.{dump_format.extension}" + (".gz" if file_gzip else "")
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Vary": "Accept, Accept-Encoding",
    }
    media_type = dump_format.media_type
    if file_gzip:
        media_type = "application/gzip"
    elif encoding_gzip:
        headers["Content-Encoding"] = "gzip"
    if dump_format.media_type.startswith("text/") and not file_gzip:
        media_type += "; charset=utf-8"
    return StreamingResponse(stream.chunks(), media_type=media_type, headers=headers)


# --- HEAD ---------------------------------------------------------------------------------------
# Link checkers and crawlers ask with HEAD: every GET route above but /dump answers it too, with
# the same status and headers (the server sends no body).
for _route in list(router.routes):
    if isinstance(_route, APIRoute) and "GET" in (_route.methods or ()) and _route.path != "/dump":
        router.add_api_route(
            _route.path, _route.endpoint, methods=["HEAD"], include_in_schema=False
        )
