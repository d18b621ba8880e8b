"""The SPARQL 1.1 Protocol at ``/sparql``: queries, updates and the service description.

* ``GET /sparql?query=…`` and ``POST /sparql`` with ``application/x-www-form-urlencoded``
  (``query=`` or ``update=``, percent-decoded exactly once), ``application/sparql-query`` or
  ``application/sparql-update``.
* ``default-graph-uri`` / ``named-graph-uri`` set the dataset (they take precedence over the
  query's ``FROM``/``FROM NAMED``, as the protocol says). They only select graphs held in the
  store; an IRI that names no graph selects an empty graph. Nothing is ever fetched.
* Without a dataset in the request or the query, the default graph is the union of all named
  graphs when ``settings.union_default_graph`` is on (the default).
* ``using-graph-uri`` / ``using-named-graph-uri`` of an update are written into the update as
  ``USING`` clauses (:func:`diplograph.loader.sparql_text.apply_using`).
* Relative IRIs resolve against the endpoint's URL (the base IRI the protocol lets the service
  choose), and the prefixes of ``diplograph query`` are predeclared (listed in the service
  description as ``sh:declare``); a syntax error points into the client's own text
  (:mod:`diplograph.api.query_text`).
* Requests are UTF-8, as the protocol requires; another charset is refused with 415.
* Results are negotiated (:mod:`diplograph.api.formats`), run on the query workers and streamed
  (:mod:`diplograph.api.execution`).
* ``GET /sparql`` without ``query`` answers with the service description.

Updates need the write token (:func:`diplograph.api.deps.require_write_token`) and run one at a
time, atomically (one Oxigraph transaction). They bypass the facts validation: the validated path
is ``POST /facts``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pyoxigraph import BlankNode, Literal, NamedNode, QueryBoolean, QuerySolutions, Triple
from pyoxigraph import Store as OxStore
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from diplograph.api.data_update import graph_changes
from diplograph.api.deps import require_write_token, run_load
from diplograph.api.errors import MethodNotAllowedError, UnsupportedMediaTypeError
from diplograph.api.execution import QueryFailedError, Runner, StreamedResult, Tick
from diplograph.api.formats import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    negotiate,
    write_boolean,
    write_solutions,
    write_triples,
)
from diplograph.api.guard import inspect_query, inspect_update
from diplograph.api.query_text import PREDECLARED, prepare, readable
from diplograph.api.store_size import known_quads
from diplograph.api.urls import endpoint_url
from diplograph.loader.config import Settings
from diplograph.loader.errors import InputError, QuerySyntaxError
from diplograph.loader.namespaces import (
    DCTERMS,
    RDF,
    RDFS,
    SD,
    SERVICE_DESCRIPTION_PREFIXES,
    SH,
    VOID,
    XSD,
    output_prefixes,
)
from diplograph.loader.sparql_text import apply_using
from diplograph.loader.store import Store
from diplograph.loader.summary import Summary

__all__ = ["LeanRoute", "ProtocolRequest", "QueryTask", "read_protocol_request", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
#: Named graphs listed one by one in the service description (beyond that: only the count).
SD_GRAPH_LIST_LIMIT = 1000


@dataclass
class ProtocolRequest:
    """The protocol parameters of one request, whichever way they came."""

    query: str | None = None
    update: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    using_graphs: list[str] = field(default_factory=list)
    using_named_graphs: list[str] = field(default_factory=list)
    format: str | None = None

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[str, str]]) -> ProtocolRequest:
        out = cls()
        for key, value in pairs:
            if key in ("query", "update"):
                if getattr(out, key) is not None:
                    raise InputError(f"the request has more than one '{key}' parameter")
                setattr(out, key, value)
            elif key == "default-graph-uri":
                out.default_graphs.append(value)
            elif key == "named-graph-uri":
                out.named_graphs.append(value)
            elif key == "using-graph-uri":
                out.using_graphs.append(value)
            elif key == "using-named-graph-uri":
                out.using_named_graphs.append(value)
            elif key in ("format", "output") and value:
                out.format = value
        if out.query is not None and out.update is not None:
            raise InputError("a request carries either 'query' or 'update', not both")
        return out


def _media_type(request: Request) -> tuple[str, str]:
    """The request's media type (lower case) and charset (utf-8 when not given)."""
    header = request.headers.get("content-type", "")
    media, *params = (p.strip() for p in header.split(";"))
    charset = "utf-8"
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def _decode(body: bytes, charset: str) -> str:
    """The body as text: the protocol requires UTF-8 (another charset is refused with 415)."""
    if charset.replace("-", "").replace("_", "") not in ("utf8", "usascii", "ascii"):
        raise UnsupportedMediaTypeError(
            f"SPARQL requests are UTF-8; charset={charset} is not accepted (SPARQL 1.1 Protocol)"
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the request body is not valid UTF-8: {exc.reason}") from None


async def read_protocol_request(request: Request) -> ProtocolRequest:
    """Collect the protocol parameters from the URL and, for POST, the body.

    A form body is percent-decoded once, here (``+`` is a space, as in every form); it is never
    decoded again. A direct POST's body is the query or update text, taken as it is.
    """
    pairs = list(_url_pairs(request.scope.get("query_string", b"")))
    if request.method == "POST":
        media, charset = _media_type(request)
        body = await request.body()
        if media == FORM:
            try:
                text = _decode(body, charset)
                pairs += parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
            except UnicodeDecodeError:
                raise InputError("a form parameter is not valid percent-encoded UTF-8") from None
        elif media == QUERY_TYPE:
            pairs = [p for p in pairs if p[0] not in ("query", "update")]
            pairs.append(("query", _decode(body, charset)))
        elif media == UPDATE_TYPE:
            pairs = [p for p in pairs if p[0] not in ("query", "update")]
            pairs.append(("update", _decode(body, charset)))
        else:
            raise UnsupportedMediaTypeError(
                f"POST /sparql takes {FORM}, {QUERY_TYPE} or {UPDATE_TYPE}, "
                f"not {media or 'a body without Content-Type'}"
            )
    return ProtocolRequest.from_pairs(pairs)


def _url_pairs(query_string: bytes) -> tuple[tuple[str, str], ...]:
    """The URL's parameters, parsed as Starlette's ``request.query_params`` parses them (the
    last 256 query strings up to 8 KiB kept: a repeated lookup is not decoded again)."""
    if len(query_string) > _KEPT_QUERY_STRING:
        return _parse_url_pairs(query_string)
    return _kept_url_pairs(query_string)


def _parse_url_pairs(query_string: bytes) -> tuple[tuple[str, str], ...]:
    if not query_string:
        return ()
    return tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


_KEPT_QUERY_STRING = 8 * 1024
_kept_url_pairs = lru_cache(maxsize=256)(_parse_url_pairs)


def _graph_iris(iris: list[str], parameter: str) -> list[str]:
    for iri in iris:
        try:
            NamedNode(iri)
        except ValueError as exc:
            raise InputError(f"{parameter}={iri!r} is not an absolute IRI: {exc}") from None
    return iris


# --- routes ------------------------------------------------------------------------------------
#
# The two routes below document the endpoint (OpenAPI, /api-docs); the requests themselves are
# taken by :class:`LeanRoute`, which the app puts in front of them: the same handlers, called
# without FastAPI's per-request dependency solving and endpoint wrapping (a cheap lookup's
# front-process time is mostly such per-request work).


@router.get(
    "/sparql",
    summary="SPARQL query (GET), or the service description without 'query'",
    response_class=Response,
)
async def sparql_get(request: Request) -> Response:
    return await answer_get(request)


@router.post(
    "/sparql",
    summary="SPARQL query or update (POST: form, sparql-query or sparql-update body)",
    response_class=Response,
)
async def sparql_post(request: Request) -> Response:
    return await answer_post(request)


async def answer_get(request: Request) -> Response:
    """``GET /sparql``: a query, or the service description without ``query``."""
    state = request.app.state
    params = await read_protocol_request(request)
    if params.update is not None:
        raise MethodNotAllowedError("a SPARQL Update must be sent with POST, not GET")
    if params.query is None:
        return await service_description(request, state.settings, state.store, params.format)
    return await run_query(request, params, state.settings, state.runner)


async def answer_post(request: Request) -> Response:
    """``POST /sparql``: a query or an update."""
    state = request.app.state
    params = await read_protocol_request(request)
    if params.update is not None:
        return await run_update(request, params, state.settings, state.store)
    if params.query is None:
        raise InputError("the request has neither a 'query' nor an 'update'")
    return await run_query(request, params, state.settings, state.runner)


class _LeanEndpoint:
    """``GET`` and ``POST /sparql`` as a bare ASGI app. An error propagates to the app's error
    handlers (:mod:`diplograph.api.errors`), as it does from any route."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if scope["method"] == "GET":
            response = await answer_get(request)
        else:
            response = await answer_post(request)
        await response(scope, receive, send)


class LeanRoute(Route):
    """``GET`` and ``POST /sparql``, ahead of :data:`router`'s documented routes.

    Not ``HEAD``: the app's HEAD middleware answers it as the ``GET`` (status and headers once
    the first chunk exists, no body). Other methods get 405 with ``Allow: GET, HEAD, POST``
    through the app's error handler, as before.
    """

    def __init__(self) -> None:
        super().__init__(
            "/sparql", _LeanEndpoint(), methods=["GET", "POST"], include_in_schema=False
        )
        self.methods = {"GET", "POST"}


# --- query -------------------------------------------------------------------------------------


class WholeResult(Response):
    """A result that fit in the first chunk: one body with its Content-Length."""

    def __init__(self, body: bytes, media_type: str) -> None:
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            media_type += "; charset=utf-8"  # as Starlette's Response does
        self.status_code = 200
        self.background = None
        self.media_type = media_type
        self.body = body
        self.raw_headers = [
            (b"vary", b"Accept"),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", media_type.encode("latin-1")),
        ]


async def run_query(
    request: Request, params: ProtocolRequest, settings: Settings, runner: Runner
) -> Response:
    """Inspect, run and stream one query (``params.query``)."""
    started = time.monotonic()
    query = params.query or ""
    if not query.strip():
        raise InputError("the query is empty")
    inspection = inspect_query(query, settings)  # kept per text: a repeated query is not re-read
    accept = _header(request.scope, b"accept")
    # Refuse an impossible format before running anything, when the form is known.
    if inspection.form in ("SELECT", "ASK"):
        negotiate(accept, RESULT_FORMATS, override=params.format, what=f"a {inspection.form}")
    elif inspection.form in ("CONSTRUCT", "DESCRIBE"):
        negotiate(accept, GRAPH_FORMATS, override=params.format, what=f"a {inspection.form}")

    protocol_dataset = bool(params.default_graphs or params.named_graphs)
    task = QueryTask(
        original=query,
        base=endpoint_url(request, settings) if inspection.relative_iris else None,
        default_graph=_graph_iris(params.default_graphs, "default-graph-uri")
        if protocol_dataset
        else None,
        named_graphs=_graph_iris(params.named_graphs, "named-graph-uri")
        if protocol_dataset
        else None,
        union=settings.union_default_graph,
        dataset_in_query=inspection.dataset_clause,
        accept=accept,
        format=params.format,
        base_iri=settings.base_iri,
    )
    address = request.scope.get("client")
    client = address[0] if address else "-"
    label = f"query from {client}"
    stream = await runner.start(
        task,
        timeout=settings.query_timeout,
        max_rows=settings.max_result_rows,
        label=label,
        started=started,
        client=client,
    )
    if stream.whole is not None:  # small results: one body with a Content-Length
        return WholeResult(stream.whole, stream.media_type)
    return StreamedResult(stream, stream.media_type, headers={"Vary": "Accept"}, label=label)


def _header(scope: Scope, name: bytes) -> str | None:
    """The first ``name`` header (lower case), as ``request.headers.get`` reads it, without
    building the request's header map."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


@dataclass(frozen=True)
class QueryTask:
    """One query as a worker runs it (plain data: it travels to worker processes, so it holds
    the client's text alone; the worker puts the prologue in front, :func:`prepare`)."""

    original: str  #: the client's text, which syntax errors point into
    base: str | None  #: the base IRI, when the text has relative IRIs (and no BASE)
    default_graph: list[str] | None  #: the protocol's dataset, when the request gave one
    named_graphs: list[str] | None
    union: bool
    dataset_in_query: bool
    accept: str | None
    format: str | None
    base_iri: str | None  #: the data's base IRI: the prefixes of graph results

    def __call__(self, store: Store, tick: Tick) -> Iterator[str | bytes]:
        prepared = prepare(self.original, self.base is not None, self.base or "")
        try:
            if self.default_graph is not None or self.named_graphs is not None:
                result = store.query(
                    prepared.text, default_graph=self.default_graph, named_graphs=self.named_graphs
                )
            else:
                result = store.query(
                    prepared.text,
                    union_default_graph=self.union,
                    dataset_in_query=self.dataset_in_query,
                )
        except QuerySyntaxError as exc:
            raise readable(exc, prepared.shift, self.original) from None
        if isinstance(result, QueryBoolean):
            fmt = negotiate(self.accept, RESULT_FORMATS, override=self.format, what="an ASK")
            yield fmt.content_type
            tick()
            yield write_boolean(fmt, result)
        elif isinstance(result, QuerySolutions):
            fmt = negotiate(self.accept, RESULT_FORMATS, override=self.format, what="a SELECT")
            yield fmt.content_type
            yield from write_solutions(fmt, result, tick)
        else:
            fmt = negotiate(self.accept, GRAPH_FORMATS, override=self.format, what="a graph result")
            yield fmt.content_type
            prefixes = output_prefixes(self.base_iri)
            yield from write_triples(fmt, result, tick, prefixes=prefixes)


# --- update ------------------------------------------------------------------------------------


async def run_update(
    request: Request, params: ProtocolRequest, settings: Settings, store: Store
) -> Response:
    """Authorize, inspect and apply one update (``params.update``) atomically."""
    # Not a route dependency: a POST carries a query (public) or an update (token) alike.
    require_write_token(request)
    update = params.update or ""
    if not update.strip():
        raise InputError("the update is empty")
    inspection = inspect_update(update, settings)
    using = _graph_iris(params.using_graphs, "using-graph-uri")
    using_named = _graph_iris(params.using_named_graphs, "using-named-graph-uri")
    if using or using_named:
        update = apply_using(update, using, using_named)
        inspect_update(update, settings)
    prepared = prepare(update, inspection.relative_iris, endpoint_url(request, settings))
    original = update

    def apply(summary: Summary) -> None:
        # Data alone on named graphs: followed exactly, through the summary's keeper; any other
        # update is raw, and the union and summary are rebuilt after it (api/data_update.py).
        changes = graph_changes(prepared.text, store)
        if changes:
            summary.commit(changes)
            return
        try:
            store.update(prepared.text)
        except QuerySyntaxError as exc:
            exc = _parse_error(prepared.text) or exc
            raise readable(exc, prepared.shift, original, "update") from None
        except RuntimeError as exc:  # an evaluation error; the transaction was rolled back
            raise QueryFailedError(f"the update failed and nothing was changed: {exc}") from None

    await run_load(request, apply, kind="write")
    log.info("update applied (%d characters)", len(update))
    return Response(status_code=204)


def _parse_error(update: str) -> QuerySyntaxError | None:
    """The syntax error of ``update`` alone, run on a throwaway empty store.

    A store may wrap an update in more text (the embedded store does, to keep its union
    exact), which moves the positions in its errors; this one points into ``update``.
    Called only after the real run failed with a syntax error, so nothing runs here but a
    text that does not parse.
    """
    try:
        OxStore().update(update)
    except SyntaxError as exc:
        return QuerySyntaxError(f"malformed SPARQL update: {exc}")
    return None


# --- service description -----------------------------------------------------------------------


async def service_description(
    request: Request, settings: Settings, store: Store, format_override: str | None
) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint, in the negotiated RDF format."""
    fmt = negotiate(
        request.headers.get("accept"),
        GRAPH_FORMATS,
        override=format_override,
        what="the service description",
    )
    endpoint = endpoint_url(request, settings)
    graphs, quads = await anyio.to_thread.run_sync(
        lambda: (store.graph_names(), known_quads(store, settings.base_iri))
    )
    triples = list(_description_triples(settings, endpoint, graphs, quads))
    body = b"".join(
        write_triples(
            fmt, triples, lambda: None, prefixes={**SERVICE_DESCRIPTION_PREFIXES, "sh": SH}
        )
    )
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


def _description_triples(
    settings: Settings, endpoint: str, graphs: list[str], quads: int | None
) -> Iterator[Triple]:
    def sd(name: str) -> NamedNode:
        return NamedNode(SD + name)

    a = NamedNode(RDF + "type")
    service, dataset, default = BlankNode("service"), BlankNode("dataset"), BlankNode("default")
    yield Triple(service, a, sd("Service"))
    yield Triple(service, sd("endpoint"), NamedNode(endpoint))
    yield Triple(service, NamedNode(DCTERMS + "title"), Literal("diplograph SPARQL endpoint"))
    yield Triple(service, sd("supportedLanguage"), sd("SPARQL11Query"))
    # The predeclared prefixes, as SHACL prefix declarations (as other endpoints list theirs).
    for name, iri in PREDECLARED.items():
        declaration = BlankNode(f"prefix-{name}")
        yield Triple(service, NamedNode(SH + "declare"), declaration)
        yield Triple(declaration, NamedNode(SH + "prefix"), Literal(name))
        yield Triple(declaration, NamedNode(SH + "namespace"), Literal(iri, datatype=_XSD_ANY_URI))
    if settings.write_token is not None:
        yield Triple(service, sd("supportedLanguage"), sd("SPARQL11Update"))
    for fmt in (*RESULT_FORMATS, *GRAPH_FORMATS):
        yield Triple(service, sd("resultFormat"), NamedNode(fmt.iri))
    if settings.union_default_graph:
        yield Triple(service, sd("feature"), sd("UnionDefaultGraph"))
    if settings.allow_service:
        yield Triple(service, sd("feature"), sd("BasicFederatedQuery"))
    yield Triple(service, sd("defaultDataset"), dataset)
    yield Triple(dataset, a, sd("Dataset"))
    yield Triple(dataset, a, NamedNode(VOID + "Dataset"))
    size = f"{len(graphs)} named graphs"
    if quads is not None:  # not known without a scan of the store: left out (api/store_size.py)
        yield Triple(
            dataset, NamedNode(VOID + "triples"), Literal(str(quads), datatype=_XSD_INTEGER)
        )
        size += f", {quads} quads"
    yield Triple(dataset, NamedNode(RDFS + "comment"), Literal(size))
    yield Triple(dataset, sd("defaultGraph"), default)
    yield Triple(default, a, sd("Graph"))
    if len(graphs) <= SD_GRAPH_LIST_LIMIT:
        for index, graph in enumerate(graphs):
            node = BlankNode(f"g{index}")
            yield Triple(dataset, sd("namedGraph"), node)
            yield Triple(node, a, sd("NamedGraph"))
            yield Triple(node, sd("name"), NamedNode(graph))


_XSD_INTEGER = NamedNode(XSD + "integer")
_XSD_ANY_URI = NamedNode(XSD + "anyURI")
