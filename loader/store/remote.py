"""The remote store: any SPARQL 1.1 triple store, reached over the standard protocols.

* Reads are SPARQL 1.1 Query requests (``POST``, form-encoded: Virtuoso 7.2 does not answer a
  ``application/sparql-query`` body). SELECT and ASK ask for ``application/sparql-results+json``,
  CONSTRUCT and DESCRIBE for N-Triples; answers are parsed by pyoxigraph, so callers get the same
  types as from the embedded store.
* Writes are SPARQL 1.1 Update requests. :meth:`RemoteStore.commit` first writes each new graph
  into a fresh *staging graph* (``urn:x-diplograph:staging:…``), then swaps it in (``DROP`` the
  target, ``ADD`` the staging graph to it, ``DROP`` the staging graph). When the whole commit
  fits in one request (``max_update_bytes``), staging and swaps travel together: the commit is
  then atomic on every store that runs one update request as one transaction. Virtuoso 7.2
  isolates such a request from readers but, when an operation fails, keeps the operations
  before it; as those only wrote staging graphs, the targets are untouched and the staging
  graphs are dropped at once. A larger commit is staged in several requests (by the Graph Store
  Protocol when ``gsp_url`` is set), and only the final request of swaps must be atomic.
  Without summary operations, graphs that hold nothing yet are written in place, and dropped
  again when the commit fails (docs/stores.md).
* ``graph_names``, ``graph_triples`` and ``quads`` page through ordered SELECTs
  (``LIMIT``/``OFFSET``) of at most ``page_size`` rows, shrunk to the store's own row cap when
  it announces one (Virtuoso's ``X-SPARQL-MaxRows``), so a capped store cannot cut them short.

The SPARQL protocol has no way to say "the default graph is the union of the named graphs".
``union="list"`` emulates it portably by naming every graph in ``default-graph-uri`` (and
``named-graph-uri``); ``union="native"`` sends no dataset and relies on the store's default
dataset being that union, as Virtuoso's is. ``union="auto"`` (the default) chooses native for
Virtuoso and list for any other store. See ``docs/stores.md`` for the per-store behaviour.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias
from urllib.parse import urlencode

import httpx
from pyoxigraph import (
    BlankNode,
    NamedNode,
    Quad,
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

from diplograph.loader.errors import (
    ConfigError,
    QuerySyntaxError,
    RemoteStoreError,
    ResultTooLargeError,
)
from diplograph.loader.store.base import GraphChange, QueryResult, Store

if TYPE_CHECKING:
    from diplograph.loader.config import Settings

__all__ = ["STAGING_PREFIX", "RemoteStore", "UnionMode"]

log = logging.getLogger(__name__)

#: How the union default graph is obtained: see the module docstring.
UnionMode: TypeAlias = Literal["auto", "native", "list"]

#: Graphs named ``STAGING_PREFIX + …`` hold a commit in flight; they are never reported.
STAGING_PREFIX = "urn:x-diplograph:staging:"
#: A graph no one writes: naming it selects an empty default graph or no named graphs.
_EMPTY_GRAPH = "urn:x-diplograph:empty"

_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
_FORM = "application/x-www-form-urlencoded"
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
#: Triples per ``INSERT DATA`` block: Virtuoso's parser runs out of stack at about 5,000.
_TRIPLES_PER_BLOCK = 1000
#: Triples per Graph Store Protocol request when a large commit is staged that way.
_TRIPLES_PER_GSP_REQUEST = 50_000

# The prologue of a query (comments, BASE, PREFIX, Virtuoso's DEFINE), then its form.
_PROLOGUE_ITEM = re.compile(
    r"""\s*(?:\#[^\n]*|BASE\s*<[^>]*>|PREFIX\s*[^\s:]*:\s*<[^>]*>
        |DEFINE\s+\S+\s+(?:"[^"]*"|'[^']*'|<[^>]*>|\S+))""",
    re.IGNORECASE | re.VERBOSE,
)
_FORM_KEYWORD = re.compile(r"\s*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


class RemoteStore(Store):
    """A SPARQL 1.1 triple store at ``query_url`` (and ``update_url``, ``gsp_url``).

    ``user``/``password`` answer the server's HTTP basic or digest challenge (Virtuoso's
    ``/sparql-auth`` asks for digest). ``timeout`` bounds every request, in seconds. Pass
    ``transport`` to route requests elsewhere (tests use :class:`httpx.MockTransport`).
    """

    kind = "remote"

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        gsp_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 60.0,
        union: UnionMode = "auto",
        page_size: int = 10_000,
        max_update_bytes: int = 4_000_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self.union: UnionMode = union
        self.page_size = page_size
        self.max_update_bytes = max_update_bytes
        self._server: str | None = None
        auth = _ChallengeAuth(user, password or "") if user else None
        self._client = httpx.Client(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"User-Agent": "diplograph"},
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        """The remote store that ``settings.remote_*`` describe."""
        if not settings.remote_query_url:
            raise ConfigError(
                "DIPLOGRAPH_REMOTE_QUERY_URL is required when DIPLOGRAPH_STORE=remote"
            )
        password = settings.remote_password
        return cls(
            settings.remote_query_url,
            update_url=settings.remote_update_url,
            gsp_url=settings.remote_gsp_url,
            user=settings.remote_user,
            password=password.get_secret_value() if password is not None else None,
            timeout=settings.remote_timeout,
        )

    # --- reading ---------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        dataset_in_query: bool = False,
    ) -> QueryResult:
        """Evaluate ``sparql`` on the remote store.

        Without ``default_graph`` and with ``union_default_graph`` false (or a query that names
        its own dataset), no dataset is sent: the store's own default dataset answers (on
        Virtuoso, that is the union too).
        """
        fields: list[tuple[str, str]] = [("query", sparql)]
        if default_graph is not None:
            fields += _dataset("default-graph-uri", default_graph)
        elif union_default_graph and not dataset_in_query and self._union_mode() == "list":
            graphs = self.graph_names()
            fields += _dataset("default-graph-uri", graphs)
            if named_graphs is None:
                fields += _dataset("named-graph-uri", graphs)
        if named_graphs is not None:
            fields += _dataset("named-graph-uri", named_graphs)
        form = _query_form(sparql)
        accept = _NTRIPLES if form in ("CONSTRUCT", "DESCRIBE") else _JSON
        response = self._post(self.query_url, fields, accept=accept, what="a query", syntax=True)
        return self._result(response)

    def graph_names(self) -> list[str]:
        """The named graphs holding at least one triple, sorted; staging graphs are left out.

        On Virtuoso this includes its own graphs (``http://www.openlinksw.com/schemas/virtrdf#``
        and a few more): the remote store reports what the triple store holds.
        """
        names = {
            term.value
            for row in self._paged("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
            if isinstance(term := row["g"], NamedNode)
        }
        return sorted(name for name in names if not name.startswith(STAGING_PREFIX))

    def graph_triples(self, graph: str) -> set[Triple]:
        """The triples of the named graph ``graph`` (empty when it does not exist)."""
        return {quad.triple for quad in self.quads(graph)}

    def empty_graphs(self, graphs: Iterable[str]) -> set[str]:
        """Those of ``graphs`` that hold no triple, asked in one query."""
        wanted = set(graphs)
        if not wanted:
            return set()
        values = " ".join(str(NamedNode(g)) for g in sorted(wanted))
        select = (
            f"SELECT ?g WHERE {{ VALUES ?g {{ {values} }} "
            "FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        )
        response = self._post(self.query_url, [("query", select)], accept=_JSON, what="a query")
        rows = _rows(_repair_json(response.content, virtuoso=self._is_virtuoso))
        return wanted - {term.value for row in rows if isinstance(term := row["g"], NamedNode)}

    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        """Stream the quads of every named graph (or of ``graph``), one page at a time.

        Pages of different graphs, and of one graph, are separate requests: a commit that lands
        while this runs may show in later pages and not in earlier ones.
        """
        return self._quads(graph)

    def _quads(self, graph: str | None) -> Generator[Quad, None, None]:
        for name in [graph] if graph is not None else self.graph_names():
            node = NamedNode(name)
            select = f"SELECT ?s ?p ?o WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"
            for row in self._paged(select):
                yield Quad(*_spo(row), node)

    def count(self) -> int:
        """The number of quads in named graphs (diplograph writes no others; on Virtuoso every
        triple is in a named graph). Staging graphs of a commit in flight are counted."""
        return self._count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")

    def _count(self, select: str) -> int:
        response = self._post(self.query_url, [("query", select)], accept=_JSON, what="a query")
        for row in _rows(response.content):
            term = row["n"]
            if isinstance(term, RdfLiteral):
                return int(term.value)
        raise RemoteStoreError("the remote store answered COUNT(*) without a number")

    # --- writing ---------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        """Send ``sparql`` as one SPARQL 1.1 Update request."""
        self._post(self.update_url, [("update", sparql)], what="an update", syntax=True)

    def commit(
        self,
        changes: Sequence[GraphChange],
        *,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
    ) -> None:
        """Replace (or drop) every graph of ``changes`` together.

        A graph that holds something is replaced through a staging graph: the new contents are
        written there, then one request swaps them all in (``DROP`` the target, ``ADD`` the
        staging graph to it, ``DROP`` the staging graph) and drops the graphs to drop. A graph
        that holds nothing yet is written in place. When the commit fits in
        ``max_update_bytes`` it is one request; ``before`` and ``after`` run in the request of
        the swaps, around them (and around the graphs written in place).
        """
        if not changes and not before and not after:
            return
        batch = uuid.uuid4().hex
        # Only the last change of a graph counts. (Virtuoso 7.2 also mishandles a second DROP of a
        # graph that did not exist when the request began: it leaves what was ADDed meanwhile.)
        latest = {change.graph: change for change in changes}
        # A graph that holds nothing yet is written in place: a failed commit drops it again,
        # which restores it. Staging and swapping it in cost Virtuoso 7.2 about 2.5 times as
        # long (docs/stores.md).
        direct = self.empty_graphs([g for g, c in latest.items() if c.triples])
        plan = _Plan.of(latest.values(), direct, batch, before, after, self.max_update_bytes)
        one_request = plan.single is not None and not (plan.oversized and self.gsp_url)
        if not one_request and direct and (before or after):
            # In place, a graph must be written between ``before`` and ``after``, in the one
            # request that runs them: when the commit needs several, every graph is staged.
            direct = set()
            plan = _Plan.of(latest.values(), direct, batch, before, after, self.max_update_bytes)
        try:
            if one_request and plan.single is not None:
                # The usual case: writes, swaps and operations in one request, one transaction.
                self._post(self.update_url, [("update", plan.single)], what="a commit")
                return
            if self.gsp_url is not None:
                for stage, triples in plan.staged:
                    self._stage_by_gsp(self.gsp_url, stage, triples)
            else:
                for text in _pack(plan.writes, self.max_update_bytes):
                    self._post(self.update_url, [("update", text)], what="a commit (staging)")
            # The swaps stay one request, whatever its size: they are what must be atomic.
            self._post(self.update_url, [("update", " ;\n".join(plan.final))], what="a commit")
        except Exception:
            # Staging graphs, and graphs written in place (they held nothing before).
            self._discard(stage for stage, _ in plan.staged)
            raise

    def _stage_by_gsp(self, gsp_url: str, stage: str, triples: Sequence[Triple]) -> None:
        """Write ``triples`` into the new graph ``stage`` with Graph Store Protocol requests."""
        method = "PUT"
        for chunk in _chunks(triples, _TRIPLES_PER_GSP_REQUEST):
            self._send(
                method,
                gsp_url,
                params={"graph": stage},
                content="".join(f"{t} .\n" for t in chunk).encode(),
                headers={"Content-Type": _NTRIPLES},
                what="a commit (Graph Store Protocol)",
            )
            method = "POST"

    def _discard(self, stages: Iterable[str]) -> None:
        """Drop the staging graphs of a failed commit (best effort: the failure is reported)."""
        drops = [f"DROP SILENT GRAPH {NamedNode(stage)}" for stage in stages]
        if not drops:
            return
        try:
            self._post(self.update_url, [("update", " ;\n".join(drops))], what="a clean-up")
        except RemoteStoreError as exc:
            log.warning("could not drop the staging graphs of a failed commit: %s", exc)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # --- HTTP ------------------------------------------------------------------------------

    def _union_mode(self) -> Literal["native", "list"]:
        mode = self.union
        if mode != "auto":
            return mode
        if self._server is None:  # learn who answers with the cheapest query there is
            self._post(self.query_url, [("query", "ASK {}")], accept=_JSON, what="a probe")
        return "native" if self._is_virtuoso else "list"

    @property
    def _is_virtuoso(self) -> bool:
        return self._server is not None and self._server.lower().startswith("virtuoso")

    def _post(
        self,
        url: str,
        fields: list[tuple[str, str]],
        *,
        what: str,
        accept: str = "*/*",
        syntax: bool = False,
    ) -> httpx.Response:
        """POST a form (``query=`` or ``update=`` and dataset fields) to ``url``."""
        return self._send(
            "POST",
            url,
            content=urlencode(fields).encode(),
            headers={"Content-Type": _FORM, "Accept": accept},
            what=what,
            syntax=syntax,
        )

    def _send(
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

    def _result(self, response: httpx.Response) -> QueryResult:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        results_format = QueryResultsFormat.from_media_type(media) if media else None
        if results_format is not None:
            return self._solutions(response, results_format)
        rdf_format = RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise RemoteStoreError(f"the remote store answered a query with {media or 'no type'}")
        return _triples(response.content, rdf_format)

    def _solutions(
        self, response: httpx.Response, results_format: QueryResultsFormat
    ) -> QuerySolutions | QueryBoolean:
        body = response.content
        if results_format == QueryResultsFormat.JSON:
            body = _repair_json(body, virtuoso=self._is_virtuoso)
        result = _parse_results(body, results_format)
        cap = response.headers.get("x-sparql-maxrows", "")
        if cap.isdigit() and isinstance(result, QuerySolutions):
            # Virtuoso announces its row cap when the result may have been cut at it.
            if sum(1 for _ in result) >= int(cap):
                raise ResultTooLargeError(
                    f"the remote store cuts results at {cap} rows (Virtuoso: ResultSetMaxRows) "
                    "and this result reached the cap; lift it, or add LIMIT to the query"
                )
            result = _parse_results(body, results_format)
        return result

    def _paged(self, select: str) -> Iterator[QuerySolution]:
        """The rows of the ordered ``select``, fetched ``page_size`` rows (or the cap) at a time."""
        offset = 0
        while True:
            size = self.page_size
            query = f"{select} LIMIT {size} OFFSET {offset}"
            if self._is_virtuoso:
                # Virtuoso refuses to sort more than MaxSortedTopRows (10,000) for LIMIT+OFFSET;
                # an ordered sub-select paged from outside is its documented way round that.
                query = f"SELECT * WHERE {{ {{ {select} }} }} LIMIT {size} OFFSET {offset}"
            response = self._post(self.query_url, [("query", query)], accept=_JSON, what="a query")
            cap = response.headers.get("x-sparql-maxrows", "")
            if cap.isdigit() and 0 < int(cap) < size:
                self.page_size = int(cap)  # the store cuts pages: ask again with pages it allows
                continue
            rows = _rows(_repair_json(response.content, virtuoso=self._is_virtuoso))
            yield from rows
            if len(rows) < size:
                return
            offset += size


@dataclass
class _Plan:
    """The requests of one commit: what is written where, and in which order."""

    #: (graph written, triples): staging graphs, and graphs written in place
    staged: list[tuple[str, Sequence[Triple]]]
    #: INSERT DATA operations of every written graph, for a commit of several requests
    writes: list[str]
    #: the atomic part of a commit of several requests: ``before``, swaps, drops, ``after``
    final: list[str]
    #: the whole commit as one request, when it fits
    single: str | None
    #: a chunk of blank-node-linked triples too large for one INSERT DATA template
    oversized: bool

    @classmethod
    def of(
        cls,
        changes: Iterable[GraphChange],
        direct: set[str],
        batch: str,
        before: Sequence[str],
        after: Sequence[str],
        max_bytes: int,
    ) -> _Plan:
        staged: list[tuple[str, Sequence[Triple]]] = []
        in_place: list[tuple[str, Sequence[Triple]]] = []
        swaps: list[str] = []
        for number, change in enumerate(changes):
            target = NamedNode(change.graph)
            if change.graph in direct:
                in_place.append((change.graph, change.triples or ()))
            elif change.triples:
                staging = NamedNode(f"{STAGING_PREFIX}{batch}:{number}")
                staged.append((staging.value, change.triples))
                # DROP + ADD + DROP, not MOVE: Virtuoso takes 3-4 times longer to MOVE onto an
                # existing graph in the request that wrote the staging graph.
                swaps.append(f"DROP SILENT GRAPH {target}")
                swaps.append(f"ADD SILENT GRAPH {staging} TO GRAPH {target}")
                swaps.append(f"DROP SILENT GRAPH {staging}")
            else:
                swaps.append(f"DROP SILENT GRAPH {target}")

        # Each graph's triples are cut into blocks once: the cut follows blank-node links.
        staged_blocks = [(g, b) for g, t in staged for b in _chunks(t, _TRIPLES_PER_BLOCK)]
        direct_blocks = [(g, b) for g, t in in_place for b in _chunks(t, _TRIPLES_PER_BLOCK)]
        staging_writes = [_insert(graph, block) for graph, block in staged_blocks]
        direct_writes = [_insert(graph, block) for graph, block in direct_blocks]
        # Blank-node-linked triples cannot be split; Virtuoso refuses templates of more than about
        # 1,400 triples, but reads any number by the Graph Store Protocol.
        oversized = any(
            len(block) > _TRIPLES_PER_BLOCK for _, block in staged_blocks + direct_blocks
        )
        # ``before`` reads the graphs as they were, so graphs written in place come after it.
        whole = [*staging_writes, *before, *direct_writes, *swaps, *after]
        packed = _pack(whole, max_bytes)
        return cls(
            staged=in_place + staged,
            writes=direct_writes + staging_writes,
            final=[*before, *swaps, *after],
            single=packed[0] if len(packed) == 1 else None,
            oversized=oversized,
        )


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


def _dataset(parameter: str, graphs: Sequence[str]) -> list[tuple[str, str]]:
    """Protocol dataset fields; an empty list selects the empty graph, not the store's choice."""
    return [(parameter, NamedNode(g).value) for g in graphs or [_EMPTY_GRAPH]]


def _query_form(sparql: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, read after the prologue; None if not recognised."""
    position = 0
    while match := _PROLOGUE_ITEM.match(sparql, position):
        if match.end() == position:
            break
        position = match.end()
    form = _FORM_KEYWORD.match(sparql, position)
    return form.group(1).upper() if form else None


def _server_message(response: httpx.Response) -> str:
    """The server's explanation, without the echoed query (Virtuoso appends it), shortened."""
    text = response.text
    if "html" in response.headers.get("content-type", ""):
        text = _TAG.sub(" ", text)
    text = text.split("SPARQL query:")[0]
    text = " ".join(text.split())
    return text[:500] + ("…" if len(text) > 500 else "")


def _repair_json(body: bytes, *, virtuoso: bool) -> bytes:
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
        rows = document.get("results", {}).get("bindings", [])
    except (ValueError, AttributeError):
        return body  # let the parser report it
    for row in rows:
        for term in row.values():
            kind = term.get("type")
            if kind == "bnode":
                term["value"] = _blank_node_id(str(term.get("value", "")))
            elif booleans and term.get("datatype") == _XSD_BOOLEAN:
                term["value"] = {"1": "true", "0": "false"}.get(term["value"], term["value"])
    return json.dumps(document).encode()


def _parse_results(
    body: bytes, results_format: QueryResultsFormat
) -> QuerySolutions | QueryBoolean:
    try:
        return parse_query_results(body, results_format)
    except SyntaxError as exc:
        raise RemoteStoreError(f"unreadable query results from the remote store: {exc}") from None


def _rows(body: bytes) -> list[QuerySolution]:
    """The solutions of a JSON SELECT answer."""
    result = _parse_results(body, QueryResultsFormat.JSON)
    if not isinstance(result, QuerySolutions):
        raise RemoteStoreError("the remote store answered a SELECT with a boolean")
    return list(result)


def _blank_node_id(value: str) -> str:
    """A valid blank node id for ``value``: itself, without Virtuoso's ``nodeID://``, or hex."""
    for candidate in (value, value.removeprefix("nodeID://")):
        with suppress(ValueError):
            return BlankNode(candidate).value
    return "x" + value.encode().hex()


def _spo(
    row: QuerySolution,
) -> tuple[NamedNode | BlankNode, NamedNode, NamedNode | BlankNode | RdfLiteral]:
    s, p, o = row["s"], row["p"], row["o"]
    if (
        not isinstance(s, NamedNode | BlankNode)
        or not isinstance(p, NamedNode)
        or not isinstance(o, NamedNode | BlankNode | RdfLiteral)
    ):
        raise RemoteStoreError(f"the remote store answered a triple pattern with {row}")
    return s, p, o


def _triples(body: bytes, rdf_format: RdfFormat) -> Iterator[Triple]:
    """The triples of a CONSTRUCT/DESCRIBE answer (its graph names, if any, are ignored)."""
    try:
        return iter([quad.triple for quad in parse(body, rdf_format)])
    except SyntaxError as exc:
        raise RemoteStoreError(f"unreadable RDF from the remote store: {exc}") from None


def _blank_nodes(triple: Triple) -> list[BlankNode]:
    return [term for term in (triple.subject, triple.object) if isinstance(term, BlankNode)]


def _chunks(triples: Sequence[Triple], size: int | None) -> Iterator[list[Triple]]:
    """``triples`` in lists of at most ``size`` (all in one when None), except that triples
    linked by blank nodes stay together: a blank node label only names the same node within one
    operation or document.
    """
    parent: dict[BlankNode, BlankNode] = {}

    def root(node: BlankNode) -> BlankNode:
        while (up := parent.setdefault(node, node)) != node:
            grandparent = parent.setdefault(up, up)
            parent[node] = grandparent  # path halving keeps long blank-node chains linear
            node = grandparent
        return node

    for triple in triples:
        nodes = _blank_nodes(triple)
        if len(nodes) == 2:
            parent[root(nodes[1])] = root(nodes[0])
    ground: list[list[Triple]] = []
    linked: dict[BlankNode, list[Triple]] = {}
    for triple in triples:
        nodes = _blank_nodes(triple)
        if nodes:
            linked.setdefault(root(nodes[0]), []).append(triple)
        else:
            ground.append([triple])
    chunk: list[Triple] = []
    for piece in [*ground, *linked.values()]:
        if chunk and size is not None and len(chunk) + len(piece) > size:
            yield chunk
            chunk = []
        chunk.extend(piece)
    if chunk:
        yield chunk


def _insert(graph: str, triples: Sequence[Triple]) -> str:
    """The update operation that adds ``triples`` to ``graph``.

    Ground triples go in ``INSERT DATA``; triples with blank nodes in ``INSERT { } WHERE { }``,
    which every store accepts (Virtuoso refuses blank nodes in ``INSERT DATA``).
    """
    body = "\n".join(f"{t} ." for t in triples)
    if any(_blank_nodes(t) for t in triples):
        return f"INSERT {{ GRAPH {NamedNode(graph)} {{\n{body}\n}} }} WHERE {{}}"
    return f"INSERT DATA {{ GRAPH {NamedNode(graph)} {{\n{body}\n}} }}"


def _pack(operations: Sequence[str], max_bytes: int) -> list[str]:
    """Join ``operations`` into as few update requests of at most ``max_bytes`` as they fit."""
    requests: list[str] = []
    current: list[str] = []
    size = 0
    for operation in operations:
        length = len(operation.encode()) + 3
        if current and size + length > max_bytes:
            requests.append(" ;\n".join(current))
            current, size = [], 0
        current.append(operation)
        size += length
    if current:
        requests.append(" ;\n".join(current))
    return requests
