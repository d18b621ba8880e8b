"""The remote store: any SPARQL 1.1 triple store, reached over the standard protocols.

* Reads are SPARQL 1.1 Query requests (:mod:`~loader.store.remote.protocol`).
* Writes are SPARQL 1.1 Update requests. :meth:`RemoteStore.commit` first writes each new graph
  into a fresh *staging graph* (:data:`STAGING_PREFIX` ``…``), then swaps it in (``DROP`` the
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

import logging
import uuid
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal, TypeAlias

import httpx
from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode, Quad, Triple

from diplograph.loader.errors import ConfigError, RemoteStoreError
from diplograph.loader.sparql_text import query_form
from diplograph.loader.store.base import INTERNAL_GRAPH_PREFIX, GraphChange, QueryResult, Store
from diplograph.loader.store.remote.commit import TRIPLES_PER_GSP_REQUEST, CommitPlan, chunks, pack
from diplograph.loader.store.remote.protocol import (
    JSON,
    NTRIPLES,
    SparqlHttp,
    dataset,
    repair_json,
    rows,
    spo,
)

if TYPE_CHECKING:
    from diplograph.loader.config import Settings

__all__ = ["STAGING_PREFIX", "RemoteStore", "UnionMode"]

log = logging.getLogger(__name__)

#: How the union default graph is obtained: see the module docstring.
UnionMode: TypeAlias = Literal["auto", "native", "list"]

#: Graphs named ``STAGING_PREFIX + …`` hold a commit in flight; they are never reported. They
#: are internal graphs of the store (:meth:`Store.is_internal_graph`).
STAGING_PREFIX = INTERNAL_GRAPH_PREFIX


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
        write_requests: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.union: UnionMode = union
        self.max_update_bytes = max_update_bytes
        self.write_requests = write_requests
        self._http = SparqlHttp(
            user=user,
            password=password,
            timeout=timeout,
            page_size=page_size,
            transport=transport,
        )

    @property
    def timeout(self) -> float:
        """The bound of every request, in seconds."""
        return self._http.timeout

    @property
    def page_size(self) -> int:
        """Rows per page of the paged reads (shrunk to the store's announced row cap)."""
        return self._http.page_size

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
            write_requests=settings.remote_write_requests,
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
            fields += dataset("default-graph-uri", default_graph)
        elif union_default_graph and not dataset_in_query and self._union_mode() == "list":
            graphs = self.graph_names()
            fields += dataset("default-graph-uri", graphs)
            if named_graphs is None:
                fields += dataset("named-graph-uri", graphs)
        if named_graphs is not None:
            fields += dataset("named-graph-uri", named_graphs)
        form = query_form(sparql)
        accept = NTRIPLES if form in ("CONSTRUCT", "DESCRIBE") else JSON
        response = self._http.post(
            self.query_url, fields, accept=accept, what="a query", syntax=True
        )
        return self._http.result(response)

    def graph_names(self) -> list[str]:
        """The named graphs holding at least one triple, sorted; staging graphs are left out.

        On Virtuoso this includes its own graphs (``http://www.openlinksw.com/schemas/virtrdf#``
        and a few more): the remote store reports what the triple store holds.
        """
        names = {
            term.value
            for row in self._http.paged(
                self.query_url, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
            )
            if isinstance(term := row["g"], NamedNode)
        }
        return sorted(name for name in names if not self.is_internal_graph(name))

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
        response = self._http.post(self.query_url, [("query", select)], accept=JSON, what="a query")
        found = rows(repair_json(response.content, virtuoso=self._http.is_virtuoso))
        return wanted - {term.value for row in found if isinstance(term := row["g"], NamedNode)}

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
            for row in self._http.paged(self.query_url, select):
                yield Quad(*spo(row), node)

    def count(self) -> int:
        """The number of quads in named graphs (diplograph writes no others; on Virtuoso every
        triple is in a named graph). Staging graphs of a commit in flight are counted."""
        return self._count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")

    def _count(self, select: str) -> int:
        response = self._http.post(self.query_url, [("query", select)], accept=JSON, what="a query")
        for row in rows(response.content):
            term = row["n"]
            if isinstance(term, RdfLiteral):
                return int(term.value)
        raise RemoteStoreError("the remote store answered COUNT(*) without a number")

    # --- writing ---------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        """Send ``sparql`` as one SPARQL 1.1 Update request."""
        self._http.post(self.update_url, [("update", sparql)], what="an update", syntax=True)

    def commit(
        self,
        changes: Sequence[GraphChange],
        *,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
        data_only: bool = False,
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
        plan = self._plan(latest.values(), direct, batch, before, after)
        one_request = plan.single is not None and not (plan.oversized and self.gsp_url)
        if not one_request and direct and (before or after):
            # In place, a graph must be written between ``before`` and ``after``, in the one
            # request that runs them: when the commit needs several, every graph is staged.
            direct = set()
            plan = self._plan(latest.values(), direct, batch, before, after)
        try:
            if one_request and plan.single is not None:
                # The usual case: writes, swaps and operations in one request, one transaction.
                self._http.post(self.update_url, [("update", plan.single)], what="a commit")
                return
            if self.gsp_url is not None:
                self._stage_all_by_gsp(self.gsp_url, plan.staged)
            else:
                for text in pack(plan.writes, self.max_update_bytes):
                    self._http.post(self.update_url, [("update", text)], what="a commit (staging)")
            # The swaps stay one request, whatever its size: they are what must be atomic.
            self._http.post(self.update_url, [("update", " ;\n".join(plan.final))], what="a commit")
        except Exception:
            # Staging graphs, and graphs written in place (they held nothing before).
            self._discard(stage for stage, _ in plan.staged)
            raise

    def _plan(
        self,
        changes: Iterable[GraphChange],
        direct: set[str],
        batch: str,
        before: Sequence[str],
        after: Sequence[str],
    ) -> CommitPlan:
        return CommitPlan.of(
            changes, direct, batch, before, after, self.max_update_bytes, STAGING_PREFIX
        )

    def _stage_all_by_gsp(
        self, gsp_url: str, staged: Sequence[tuple[str, Sequence[Triple]]]
    ) -> None:
        """Write each staged graph by the Graph Store Protocol, ``write_requests`` graphs at
        once: Virtuoso 7.2 takes 30-45 ms a request for a document's graph, and serves several
        at once (100 such requests: 3.2-4.7 s one at a time, 2.2-2.5 s four at a time, on two
        busy cores). Leaving the pool waits for every request, so the first failure is raised
        only when no request is still writing a staging graph the caller will discard."""
        if self.write_requests <= 1 or len(staged) <= 1:
            for stage, triples in staged:
                self._stage_by_gsp(gsp_url, stage, triples)
            return
        with ThreadPoolExecutor(min(self.write_requests, len(staged))) as pool:
            futures = [pool.submit(self._stage_by_gsp, gsp_url, s, t) for s, t in staged]
        for future in futures:
            future.result()

    def _stage_by_gsp(self, gsp_url: str, stage: str, triples: Sequence[Triple]) -> None:
        """Write ``triples`` into the new graph ``stage`` with Graph Store Protocol requests."""
        method = "PUT"
        for chunk in chunks(triples, TRIPLES_PER_GSP_REQUEST):
            self._http.send(
                method,
                gsp_url,
                params={"graph": stage},
                content="".join(f"{t} .\n" for t in chunk).encode(),
                headers={"Content-Type": NTRIPLES},
                what="a commit (Graph Store Protocol)",
            )
            method = "POST"

    def _discard(self, stages: Iterable[str]) -> None:
        """Drop the staging graphs of a failed commit (best effort: the failure is reported)."""
        drops = [f"DROP SILENT GRAPH {NamedNode(stage)}" for stage in stages]
        if not drops:
            return
        try:
            self._http.post(self.update_url, [("update", " ;\n".join(drops))], what="a clean-up")
        except RemoteStoreError as exc:
            log.warning("could not drop the staging graphs of a failed commit: %s", exc)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _union_mode(self) -> Literal["native", "list"]:
        mode = self.union
        if mode != "auto":
            return mode
        if self._http.server is None:  # learn who answers with the cheapest query there is
            self._http.post(self.query_url, [("query", "ASK {}")], accept=JSON, what="a probe")
        return "native" if self._http.is_virtuoso else "list"
