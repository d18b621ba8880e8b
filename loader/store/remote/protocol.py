"""The SPARQL 1.1 protocol over HTTP: requests, errors, and answers parsed by pyoxigraph.

:class:`SparqlHttp` sends the remote store's requests and turns every failure into a
:class:`~loader.errors.RemoteStoreError` (or :class:`~loader.errors.QuerySyntaxError` for the
caller's own malformed SPARQL). Reads are ``POST``, form-encoded: Virtuoso 7.2 does not answer a
``application/sparql-query`` body. SELECT and ASK ask for ``application/sparql-results+json``,
CONSTRUCT and DESCRIBE for N-Triples; answers are parsed by pyoxigraph, so callers get the same
types as from the embedded store. Ordered SELECTs are paged (``LIMIT``/``OFFSET``) in pages of at
most ``page_size`` rows, shrunk to the store's own row cap when it announces one (Virtuoso's
``X-SPARQL-MaxRows``), so a capped store cannot cut them short.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator, Sequence
from contextlib import suppress
from urllib.parse import urlencode

import httpx
from pyoxigraph import (
    BlankNode,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolution,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
)
from pyoxigraph import Literal as RdfLiteral

from diplograph.loader.errors import QuerySyntaxError, RemoteStoreError, ResultTooLargeError
from diplograph.loader.store.base import QueryResult

__all__ = ["JSON", "NTRIPLES", "SparqlHttp", "dataset", "rows", "spo"]

#: A graph no one writes: naming it selects an empty default graph or no named graphs.
_EMPTY_GRAPH = "urn:x-diplograph:empty"

JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
_FORM = "application/x-www-form-urlencoded"
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"

_TAG = re.compile(r"<[^>]*>")


class SparqlHttp:
    """The HTTP side of one remote store: a connection pool, and what the server told about
    itself (its ``Server`` header, its row cap).

    ``user``/``password`` answer the server's HTTP basic or digest challenge (Virtuoso's
    ``/sparql-auth`` asks for digest). ``timeout`` bounds every request, in seconds;
    ``transport`` routes requests elsewhere (tests use :class:`httpx.MockTransport`).
    """

    def __init__(
        self,
        *,
        user: str | None,
        password: str | None,
        timeout: float,
        page_size: int,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.timeout = timeout
        self.page_size = page_size
        self._server: str | None = None
        auth = _ChallengeAuth(user, password or "") if user else None
        self._client = httpx.Client(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"User-Agent": "diplograph"},
            transport=transport,
        )

    @property
    def server(self) -> str | None:
        """The ``Server`` header of the last answer; None before the first request."""
        return self._server

    @property
    def is_virtuoso(self) -> bool:
        """Whether the server said it is Virtuoso (known only after a first request)."""
        return self._server is not None and self._server.lower().startswith("virtuoso")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def post(
        self,
        url: str,
        fields: list[tuple[str, str]],
        *,
        what: str,
        accept: str = "*/*",
        syntax: bool = False,
    ) -> httpx.Response:
        """POST a form (``query=`` or ``update=`` and dataset fields) to ``url``."""
        return self.send(
            "POST",
            url,
            content=urlencode(fields).encode(),
            headers={"Content-Type": _FORM, "Accept": accept},
            what=what,
            syntax=syntax,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        content: bytes,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        syntax: bool = False,
    ) -> httpx.Response:
        """One request; every failure becomes a :class:`~loader.errors.RemoteStoreError`,
        except a 400 answer to the caller's own SPARQL (``syntax``): QuerySyntaxError.
        """
        try:
            response = self._client.request(
                method, url, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise RemoteStoreError(
                f"the remote store at {url} did not answer {what} within {self.timeout:g} s "
                "(DIPLOGRAPH_REMOTE_TIMEOUT)"
            ) from None
        except httpx.HTTPError as exc:
            raise RemoteStoreError(f"cannot reach the remote store at {url}: {exc}") from None
        self._server = response.headers.get("server", self._server or "")
        if response.is_success:
            return response
        status = response.status_code
        message = _server_message(response)
        if status == 400 and syntax:
            raise QuerySyntaxError(f"the remote store rejected {what}: {message}")
        if status in (401, 403):
            raise RemoteStoreError(
                f"the remote store at {url} refused {what} (HTTP {status}): check "
                f"DIPLOGRAPH_REMOTE_USER and DIPLOGRAPH_REMOTE_PASSWORD and the user's rights"
                + (f": {message}" if message else "")
            )
        raise RemoteStoreError(
            f"the remote store at {url} answered {what} with HTTP {status}: "
            f"{message or response.reason_phrase}"
        )

    def result(self, response: httpx.Response) -> QueryResult:
        """The answer to a query, typed as pyoxigraph types it (solutions, boolean, triples)."""
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        results_format = QueryResultsFormat.from_media_type(media) if media else None
        if results_format is not None:
            return self._solutions(response, results_format)
        rdf_format = RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise RemoteStoreError(f"the remote store answered a query with {media or 'no type'}")
        return triples(response.content, rdf_format)

    def _solutions(
        self, response: httpx.Response, results_format: QueryResultsFormat
    ) -> QuerySolutions | QueryBoolean:
        body = response.content
        if results_format == QueryResultsFormat.JSON:
            body = repair_json(body, virtuoso=self.is_virtuoso)
        result = parse_results(body, results_format)
        cap = response.headers.get("x-sparql-maxrows", "")
        if cap.isdigit() and isinstance(result, QuerySolutions):
            # Virtuoso announces its row cap when the result may have been cut at it.
            if sum(1 for _ in result) >= int(cap):
                raise ResultTooLargeError(
                    f"the remote store cuts results at {cap} rows (Virtuoso: ResultSetMaxRows) "
                    "and this result reached the cap; lift it, or add LIMIT to the query"
                )
            result = parse_results(body, results_format)
        return result

    def paged(self, url: str, select: str) -> Iterator[QuerySolution]:
        """The rows of the ordered ``select`` asked of ``url``, fetched ``page_size`` rows (or
        the store's cap) at a time."""
        offset = 0
        while True:
            size = self.page_size
            query = f"{select} LIMIT {size} OFFSET {offset}"
            if self.is_virtuoso:
                # Virtuoso refuses to sort more than MaxSortedTopRows (10,000) for LIMIT+OFFSET;
                # an ordered sub-select paged from outside is its documented way round that.
                query = f"SELECT * WHERE {{ {{ {select} }} }} LIMIT {size} OFFSET {offset}"
            response = self.post(url, [("query", query)], accept=JSON, what="a query")
            cap = response.headers.get("x-sparql-maxrows", "")
            if cap.isdigit() and 0 < int(cap) < size:
                self.page_size = int(cap)  # the store cuts pages: ask again with pages it allows
                continue
            page = rows(repair_json(response.content, virtuoso=self.is_virtuoso))
            yield from page
            if len(page) < size:
                return
            offset += size


class _ChallengeAuth(httpx.Auth):
    """HTTP basic or digest auth, whichever the server's first challenge asks for.

    Credentials are only sent once challenged; after a digest challenge they are sent up front.
    """

    def __init__(self, user: str, password: str) -> None:
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._scheme: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        flow = self._digest.auth_flow(request)  # as-is until challenged, then with a digest
        response = yield next(flow)
        schemes = {
            h.split(" ", 1)[0].lower() for h in response.headers.get_list("www-authenticate")
        }
        if response.status_code == 401 and "basic" in schemes and "digest" not in schemes:
            self._scheme = "basic"
            yield from self._basic.auth_flow(request)
            return
        try:
            retry = flow.send(response)
        except StopIteration:
            return
        self._scheme = "digest"
        response = yield retry
        with suppress(StopIteration):
            flow.send(response)


def dataset(parameter: str, graphs: Sequence[str]) -> list[tuple[str, str]]:
    """Protocol dataset fields; an empty list selects the empty graph, not the store's choice."""
    return [(parameter, NamedNode(g).value) for g in graphs or [_EMPTY_GRAPH]]


def _server_message(response: httpx.Response) -> str:
    """The server's explanation, without the echoed query (Virtuoso appends it), shortened."""
    text = response.text
    if "html" in response.headers.get("content-type", ""):
        text = _TAG.sub(" ", text)
    text = text.split("SPARQL query:")[0]
    text = " ".join(text.split())
    return text[:500] + ("…" if len(text) > 500 else "")


def repair_json(body: bytes, *, virtuoso: bool) -> bytes:
    """Make a JSON results document pyoxigraph accepts, and Virtuoso's booleans canonical.

    Virtuoso writes blank nodes as ``nodeID://b10000`` (no valid blank node id; its N-Triples
    say ``_:b10000``, which this matches) and booleans as ``"1"``/``"0"`` (its N-Triples say
    ``true``/``false``).
    """
    booleans = virtuoso and _XSD_BOOLEAN.encode() in body
    if b'"bnode"' not in body and not booleans:
        return body
    try:
        document = json.loads(body)
        bindings = document.get("results", {}).get("bindings", [])
    except (ValueError, AttributeError):
        return body  # let the parser report it
    for row in bindings:
        for term in row.values():
            kind = term.get("type")
            if kind == "bnode":
                term["value"] = _blank_node_id(str(term.get("value", "")))
            elif booleans and term.get("datatype") == _XSD_BOOLEAN:
                term["value"] = {"1": "true", "0": "false"}.get(term["value"], term["value"])
    return json.dumps(document).encode()


def parse_results(body: bytes, results_format: QueryResultsFormat) -> QuerySolutions | QueryBoolean:
    """A query results document parsed; unreadable ones are the store's error."""
    try:
        return parse_query_results(body, results_format)
    except SyntaxError as exc:
        raise RemoteStoreError(f"unreadable query results from the remote store: {exc}") from None


def rows(body: bytes) -> list[QuerySolution]:
    """The solutions of a JSON SELECT answer."""
    result = parse_results(body, QueryResultsFormat.JSON)
    if not isinstance(result, QuerySolutions):
        raise RemoteStoreError("the remote store answered a SELECT with a boolean")
    return list(result)


def _blank_node_id(value: str) -> str:
    """A valid blank node id for ``value``: itself, without Virtuoso's ``nodeID://``, or hex."""
    for candidate in (value, value.removeprefix("nodeID://")):
        with suppress(ValueError):
            return BlankNode(candidate).value
    return "x" + value.encode().hex()


def spo(
    row: QuerySolution,
) -> tuple[NamedNode | BlankNode, NamedNode, NamedNode | BlankNode | RdfLiteral]:
    """The subject, predicate and object a row binds to ``?s ?p ?o``, checked."""
    s, p, o = row["s"], row["p"], row["o"]
    if (
        not isinstance(s, NamedNode | BlankNode)
        or not isinstance(p, NamedNode)
        or not isinstance(o, NamedNode | BlankNode | RdfLiteral)
    ):
        raise RemoteStoreError(f"the remote store answered a triple pattern with {row}")
    return s, p, o


def triples(body: bytes, rdf_format: RdfFormat) -> Iterator[Triple]:
    """The triples of a CONSTRUCT/DESCRIBE answer (its graph names, if any, are ignored)."""
    try:
        return iter([quad.triple for quad in parse(body, rdf_format)])
    except SyntaxError as exc:
        raise RemoteStoreError(f"unreadable RDF from the remote store: {exc}") from None
