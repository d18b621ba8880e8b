"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/store``.

Targets (indirect graph identification):

* ``/store?graph=<iri>`` – one named graph;
* ``/store?default`` – the store's own default graph: what writes to ``?default`` wrote, so a
  PUT then a GET reads back what was written (queries keep the union of the named graphs as
  their default graph when ``union_default_graph`` is on);
* ``/store`` – the whole dataset, in TriG or N-Quads.

Methods: GET and HEAD (public), PUT (replace), POST (add), DELETE (remove; not on the whole
dataset). A POST of a graph to ``/store`` itself creates a new graph, named ``urn:uuid:…``, and
answers 201 with its URL in ``Location`` (§5.5); a POST of a dataset (TriG, N-Quads) there adds
its quads. PUT and POST take ``multipart/form-data`` too: its parts are merged
(:mod:`diplograph.api.rdf_body`). Writes need the bearer token, run one at a time, and each is
one transaction. A write of a named graph is a graph change committed through the summary's
keeper, which keeps the summary exact; the others (the default graph, the dataset, a POST with
blank nodes) are raw writes, after which the summary is rebuilt (docs/mapping.md).

Uploaded RDF is parsed by Oxigraph: no external XML entities, no external DTDs,
no remote JSON-LD contexts (each tested); RDF/XML that declares entities is refused (an
entity-expansion bomb would otherwise turn a few hundred bytes into gigabytes). Uploads are
**not** validated against the facts shapes: the validated path is ``POST /facts``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pyoxigraph import DefaultGraph, NamedNode, Quad, QueryBoolean, Triple

from diplograph.api.data_update import insertion
from diplograph.api.deps import RunnerDep, SettingsDep, StoreDep, WriteAuth, run_load, run_write
from diplograph.api.execution import StreamedResult, Tick
from diplograph.api.formats import (
    DATASET_FORMATS,
    GRAPH_FORMATS,
    Format,
    negotiate,
    rdf_format_for_content_type,
    write_quads,
    write_triples,
)
from diplograph.api.rdf_body import read_rdf
from diplograph.api.urls import endpoint_url
from diplograph.loader.config import Settings
from diplograph.loader.errors import InputError, NotFoundError
from diplograph.loader.namespaces import output_prefixes
from diplograph.loader.store import GraphChange, Store
from diplograph.loader.summary import Summary

__all__ = ["router"]

router = APIRouter(tags=["Graph Store"])

Kind = Literal["graph", "default", "dataset"]

# The routes read their parameters and bodies from the request themselves (the protocol's
# ?default has no value, and the body's media type picks the parser), so the OpenAPI
# description says what they take: clients and fuzzers then see the real interface.
_TARGET: list[dict[str, Any]] = [
    {
        "name": "graph",
        "in": "query",
        "required": False,
        "description": "The IRI of a named graph (indirect graph identification).",
        "schema": {"type": "string"},
    },
    {
        "name": "default",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": "The default graph (present without a value). Neither ?graph nor "
        "?default: the whole dataset.",
        "schema": {"type": "string"},
    },
]
_FORMAT: dict[str, Any] = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "The format of the answer, overriding Accept (e.g. turtle, nquads).",
    "schema": {"type": "string"},
}
_READ_DOC: dict[str, Any] = {"parameters": [*_TARGET, _FORMAT]}
_WRITE_DOC: dict[str, Any] = {
    "parameters": _TARGET,
    "requestBody": {
        "required": True,
        "description": "RDF: a graph format for ?graph and ?default, a dataset format for "
        "the whole dataset; or multipart/form-data whose parts are graphs (merged). A POST of "
        "a graph to /store itself creates a new graph (201, Location).",
        # multipart/form-data is taken too (see the description); it is not listed, because
        # the API fuzzer's client cannot send the bodies a generic schema describes.
        "content": {
            f.media_type: {"schema": {"type": "string"}} for f in (*GRAPH_FORMATS, *DATASET_FORMATS)
        },
    },
}
_DELETE_DOC: dict[str, Any] = {"parameters": _TARGET}


def _target(request: Request) -> tuple[Kind, str | None]:
    params = request.query_params
    graphs = params.getlist("graph")
    if "default" in params and graphs:
        raise InputError("name either ?default or ?graph=<iri>, not both")
    if len(graphs) > 1:
        raise InputError("name one graph: ?graph=<iri> appears more than once")
    if graphs:
        try:
            NamedNode(graphs[0])
        except ValueError as exc:
            raise InputError(f"graph={graphs[0]!r} is not an absolute IRI: {exc}") from None
        return "graph", graphs[0]
    if "default" in params:
        return "default", None
    return "dataset", None


def _exists(store: Store, graph: str) -> bool:
    result = store.query(f"ASK {{ GRAPH <{graph}> {{ }} }}", union_default_graph=False)
    return bool(result) if isinstance(result, QueryBoolean) else False


def _read_format(kind: Kind, request: Request) -> Format:
    offered = DATASET_FORMATS if kind == "dataset" else GRAPH_FORMATS
    return negotiate(
        request.headers.get("accept"),
        offered,
        override=request.query_params.get("format"),
        what="the whole dataset" if kind == "dataset" else "a graph",
    )


# --- reads -------------------------------------------------------------------------------------


@router.get(
    "/store",
    summary="Read a graph or the dataset",
    response_class=Response,
    openapi_extra=_READ_DOC,
)
async def store_get(
    request: Request, settings: SettingsDep, store: StoreDep, runner: RunnerDep
) -> Response:
    started = time.monotonic()
    kind, graph = _target(request)
    fmt = _read_format(kind, request)
    if graph is not None and not await anyio.to_thread.run_sync(_exists, store, graph):
        raise NotFoundError(f"the store has no graph <{graph}>")
    task = GraphRead(
        kind=kind, graph=graph, format=fmt.name, prefixes=output_prefixes(settings.base_iri)
    )
    client = request.client.host if request.client else "-"
    stream = await runner.start(
        task,
        timeout=settings.query_timeout,
        max_rows=None,
        label="GET /store",
        deadline_mid_stream=False,
        started=started,
        client=client,
    )
    return StreamedResult(stream, fmt.content_type, headers={"Vary": "Accept"}, label="GET /store")


@dataclass(frozen=True)
class GraphRead:
    """A Graph Store read as a worker runs it (plain data: it travels to worker processes)."""

    kind: Kind
    graph: str | None
    format: str  #: the name of a :data:`GRAPH_FORMATS` or :data:`DATASET_FORMATS` entry
    prefixes: dict[str, str]

    def __call__(self, store: Store, tick: Tick) -> Iterator[str | bytes]:
        offered = DATASET_FORMATS if self.kind == "dataset" else GRAPH_FORMATS
        fmt = next(f for f in offered if f.name == self.format)
        yield fmt.content_type
        if self.kind == "dataset":
            yield from write_quads(fmt, store.quads(), tick)
            return
        triples: Iterable[Triple]
        if self.graph is not None:
            triples = (quad.triple for quad in store.quads(self.graph))
        else:  # the stored default graph (what writes to ?default wrote), not the union
            result = store.query("CONSTRUCT WHERE { ?s ?p ?o }", union_default_graph=False)
            assert not isinstance(result, QueryBoolean)
            triples = result
        yield from write_triples(fmt, triples, tick, prefixes=self.prefixes)


@router.head(
    "/store", summary="Headers of GET /store", response_class=Response, openapi_extra=_READ_DOC
)
async def store_head(request: Request, store: StoreDep) -> Response:
    kind, graph = _target(request)
    fmt = _read_format(kind, request)
    if graph is not None and not await anyio.to_thread.run_sync(_exists, store, graph):
        return Response(status_code=404, headers={"Vary": "Accept"})
    return Response(headers={"Content-Type": fmt.content_type, "Vary": "Accept"})


# --- writes ------------------------------------------------------------------------------------


async def _parse_body(
    request: Request, settings: Settings, kind: Kind, graph: str | None
) -> list[Quad]:
    """The request body (one document, or multipart parts) as quads; triples land in the
    default graph. Relative IRIs resolve against the graph's IRI, else the endpoint's URL."""
    accepted = DATASET_FORMATS if kind == "dataset" else GRAPH_FORMATS
    base = graph or endpoint_url(request, settings)
    return await read_rdf(request, accepted, base, graphs=kind == "dataset")


def _insert_data(quads: list[Quad]) -> str:
    """An ``INSERT DATA`` for ``quads`` (empty string when there are none)."""
    default: list[str] = []
    named: dict[str, list[str]] = {}
    for quad in quads:
        line = f"{quad.triple} ."
        if isinstance(quad.graph_name, DefaultGraph):
            default.append(line)
        elif isinstance(quad.graph_name, NamedNode):
            named.setdefault(quad.graph_name.value, []).append(line)
        else:
            raise InputError("a graph named by a blank node cannot be stored; name it with an IRI")
    if not quads:
        return ""
    parts = ["\n".join(default)]
    for name, lines in named.items():
        parts.append(f"GRAPH <{name}> {{\n" + "\n".join(lines) + "\n}")
    return "INSERT DATA {\n" + "\n".join(p for p in parts if p) + "\n}"


def _triples(quads: list[Quad]) -> list[Triple]:
    return [quad.triple for quad in quads]


@router.put(
    "/store",
    summary="Replace a graph, the default graph or the dataset",
    status_code=204,
    openapi_extra=_WRITE_DOC,
)
async def store_put(
    request: Request, _: WriteAuth, settings: SettingsDep, store: StoreDep
) -> Response:
    kind, graph = _target(request)
    quads = await _parse_body(request, settings, kind, graph)
    if graph is not None:
        target = graph

        def replace_graph(summary: Summary) -> bool:
            existed = _exists(store, target)
            if quads:
                summary.commit([GraphChange(target, _triples(quads))])
            else:  # an empty graph still exists afterwards
                store.update(f"DROP SILENT GRAPH <{target}> ; CREATE GRAPH <{target}>")
            return existed

        existed = await run_load(request, replace_graph, kind="write")
        return Response(status_code=204 if existed else 201)
    clear = "CLEAR SILENT DEFAULT" if kind == "default" else "CLEAR SILENT ALL"

    def replace() -> None:
        insert = _insert_data(quads)
        store.update(clear + (" ;\n" + insert if insert else ""))

    await run_write(request, replace)
    return Response(status_code=204)


@router.post(
    "/store",
    summary="Add to a graph, the default graph or the dataset",
    status_code=204,
    openapi_extra=_WRITE_DOC,
)
async def store_post(
    request: Request, _: WriteAuth, settings: SettingsDep, store: StoreDep
) -> Response:
    kind, graph = _target(request)
    if kind == "dataset" and not _is_dataset_body(request):
        return await _create_graph(request, settings, store)
    quads = await _parse_body(request, settings, kind, graph)
    target = graph

    def add(summary: Summary) -> bool:
        into = quads
        if target is not None:
            name = NamedNode(target)
            into = [Quad(q.subject, q.predicate, q.object, name) for q in quads]
        existed = True if target is None else _exists(store, target)
        # The graph with the new triples, through the summary's keeper: a raw update rebuilds
        # the union and the summary, minutes at 10k documents.
        change = None if target is None or not quads else insertion(store, target, _triples(quads))
        if change is not None:
            summary.commit([change])
            return existed
        insert = _insert_data(into)
        if insert:
            store.update(insert)
        elif target is not None and not existed:
            store.update(f"CREATE SILENT GRAPH <{target}>")
        return existed

    existed = await run_load(request, add, kind="write")
    return Response(status_code=204 if existed else 201)


def _is_dataset_body(request: Request) -> bool:
    """Whether a POST to the store itself carries a dataset (TriG, N-Quads: its quads are
    added) rather than a graph (a new graph is made, §5.5)."""
    return (
        rdf_format_for_content_type(request.headers.get("content-type"), DATASET_FORMATS)
        is not None
    )


async def _create_graph(request: Request, settings: Settings, store: Store) -> Response:
    """POST of a graph to the store itself: a new graph with a new IRI, 201 with its URL."""
    iri = f"urn:uuid:{uuid.uuid4()}"
    quads = await read_rdf(request, GRAPH_FORMATS, endpoint_url(request, settings), graphs=False)

    def create(summary: Summary) -> None:
        if quads:
            summary.commit([GraphChange(iri, _triples(quads))])
        else:
            store.update(f"CREATE SILENT GRAPH <{iri}>")

    await run_load(request, create, kind="write")
    location = f"{endpoint_url(request, settings)}?graph={quote(iri, safe='')}"
    return Response(status_code=201, headers={"Location": location})


@router.delete(
    "/store",
    summary="Delete a graph or clear the default graph",
    status_code=204,
    openapi_extra=_DELETE_DOC,
)
async def store_delete(request: Request, _: WriteAuth, store: StoreDep) -> Response:
    kind, graph = _target(request)
    if kind == "dataset":
        raise InputError("DELETE needs ?graph=<iri> or ?default; the whole dataset is not deleted")
    if graph is None:
        await run_write(request, lambda: store.update("CLEAR SILENT DEFAULT"))
        return Response(status_code=204)
    target = graph

    def drop(summary: Summary) -> bool:
        if not _exists(store, target):
            return False
        summary.commit([GraphChange(target, None)])
        return True

    if not await run_load(request, drop, kind="write"):
        raise NotFoundError(f"the store has no graph <{graph}>")
    return Response(status_code=204)
