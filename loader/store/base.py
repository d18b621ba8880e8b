"""The :class:`Store` interface that the loader, the CLI and the API program against.

Besides reading and writing, a store owns its *layout*: the graphs it keeps for itself
(:meth:`Store.is_internal_graph`: a remote commit's staging graphs, a commit's scratch graph)
and what it derives from the named graphs (the embedded store's materialized union). Code that
writes SPARQL against the store's insides (the summary upkeep, loader/summary/) asks the store
for the fragments that depend on them: :meth:`Store.internal_graph_filter`,
:meth:`Store.scratch_graph`, :meth:`Store.data_pattern`, :meth:`Store.own_graph_template` and
:meth:`Store.drop_own_graph`.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from pyoxigraph import Quad, QueryBoolean, QuerySolutions, Triple

from diplograph.loader.errors import StoreError

#: What a query returns: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE).
QueryResult: TypeAlias = QuerySolutions | QueryBoolean | Iterator[Triple]

#: Graphs named ``INTERNAL_GRAPH_PREFIX + …`` belong to the store's own bookkeeping within one
#: commit (staging and scratch graphs); they are never reported and never count as data.
INTERNAL_GRAPH_PREFIX = "urn:x-diplograph:staging:"


@dataclass(frozen=True)
class GraphChange:
    """Replace the named graph ``graph`` by ``triples``; ``triples=None`` drops the graph."""

    graph: str
    triples: Sequence[Triple] | None = field(default=None)


class Store(abc.ABC):
    """A quad store that diplograph reads with SPARQL and writes whole named graphs at a time."""

    #: Short name shown by ``diplograph stats`` and ``/health``.
    kind: str = "store"
    #: True when no other process can write to the store while this one has it open, so what
    #: a writer reads just before a commit still holds when the commit runs (its own writes
    #: being serialized, as the loader and the API's write lock do).
    sole_writer: bool = False
    #: A number that changes at every write through this object, for caches of what the store
    #: holds (loader/reconcile.py); None when other processes may write, so nothing is cached.
    generation: int | None = None

    @abc.abstractmethod
    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        dataset_in_query: bool = False,
    ) -> QueryResult:
        """Evaluate a SPARQL 1.1 query.

        ``default_graph`` / ``named_graphs`` restrict the dataset to graphs held in the store
        (the protocol's ``default-graph-uri`` / ``named-graph-uri``); when ``default_graph`` is
        not given and ``union_default_graph`` is true, the default graph is the union of all
        named graphs. ``dataset_in_query`` says the query has ``FROM``/``FROM NAMED``, which
        then choose the dataset. Raises :class:`~loader.errors.QuerySyntaxError` for a
        malformed query.
        """

    @abc.abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update in one transaction."""

    @abc.abstractmethod
    def commit(
        self,
        changes: Sequence[GraphChange],
        *,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
        data_only: bool = False,
    ) -> None:
        """Apply every change in one transaction: all of them or none.

        ``before`` and ``after`` are SPARQL Update operations (without a prologue) that run in
        the same transaction, before and after the graph changes, each seeing the effects of
        the ones before it: how the summary graph (loader/summary/) is kept exact.
        ``data_only`` says they are ``DELETE DATA`` and ``INSERT DATA`` alone, which read
        nothing: a store may then apply them in a step of its own after the changes, provided
        that a crash still leaves all or nothing (the embedded store's bulk writes).
        """

    @abc.abstractmethod
    def graph_names(self) -> list[str]:
        """The IRIs of all named graphs, sorted."""

    @abc.abstractmethod
    def graph_triples(self, graph: str) -> set[Triple]:
        """The triples of one named graph (empty when the graph does not exist)."""

    @abc.abstractmethod
    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        """Stream every quad (of one named graph, when ``graph`` is given)."""

    @abc.abstractmethod
    def count(self) -> int:
        """The number of quads in the store."""

    def count_at_most(self, limit: int) -> int | None:
        """The number of quads in the store when it is at most ``limit``, else None; reads no
        more than about ``limit`` quads, where :meth:`count` reads them all."""
        result = self.query(
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } "
            f"LIMIT {limit + 1} }}"
        )
        assert isinstance(result, QuerySolutions)
        n = next(iter(result))["n"]
        return int(n.value) if n is not None and int(n.value) <= limit else None

    def empty_graphs(self, graphs: Iterable[str]) -> set[str]:
        """Those of the named ``graphs`` that hold no triple (or do not exist)."""
        return {graph for graph in set(graphs) if not self.graph_triples(graph)}

    # -- the layout ------------------------------------------------------------------------

    def is_internal_graph(self, graph: str) -> bool:
        """Whether ``graph`` is one of the store's own graphs (staging, scratch), not data."""
        return graph.startswith(INTERNAL_GRAPH_PREFIX)

    def internal_graph_filter(self, variable: str) -> str:
        """A SPARQL ``FILTER`` that keeps the graph bound to ``variable`` only when it is data,
        not one of the store's internal graphs (:meth:`is_internal_graph`)."""
        return f'FILTER (!STRSTARTS(STR({variable}), "{INTERNAL_GRAPH_PREFIX}"))'

    def scratch_graph(self, purpose: str) -> str:
        """A fresh internal graph for ``purpose`` (a name), for working data that the
        operations of one commit write and drop again."""
        return f"{INTERNAL_GRAPH_PREFIX}{purpose}:{uuid.uuid4().hex}"

    def data_pattern(
        self, variables: str, pattern: str, *, within: str = "", extra: str = ""
    ) -> str:
        """A group pattern matching the triple pattern ``pattern`` in the data (the union of the
        named graphs but internal ones), each solution of ``variables`` once.

        ``within`` is a pattern joined first (it may name an internal graph, e.g. to limit the
        subjects); ``extra`` follows the pattern (a FILTER or BIND). Here each pattern is made
        distinct on its own: a triple that k graphs hold matches ``GRAPH ?g { … }`` k times, and
        three such patterns joined would give k³ rows.
        """
        return (
            f"{{ SELECT DISTINCT {variables} WHERE {{ {within}GRAPH ?g {{ {pattern} }} "
            f"{self.internal_graph_filter('?g')} {extra}}} }} "
        )

    def own_graph_template(self, graph: str, triples: str) -> str:
        """The quad template of an update that writes (or deletes) ``triples`` in the named
        graph ``graph``, for triples that graph alone holds (the summary's nodes): the store
        keeps what it derives from the named graphs exact in the same operation."""
        return f"GRAPH <{graph}> {{ {triples} }}"

    def drop_own_graph(self, graph: str) -> list[str]:
        """Update operations that drop ``graph``, a graph written by
        :meth:`own_graph_template` only, with what the store derives from it."""
        return [f"DROP SILENT GRAPH <{graph}>"]

    def types_of(self, iris: Iterable[str]) -> Iterator[Triple]:
        """``rdf:type`` triples of ``iris`` in any graph: the neighbourhood validation needs."""
        values = " ".join(f"<{iri}>" for iri in sorted(set(iris)))
        if not values:
            return iter(())
        result = self.query(
            "CONSTRUCT { ?s a ?t } WHERE { VALUES ?s { " + values + " } ?s a ?t }",
            union_default_graph=True,
        )
        assert not isinstance(result, QuerySolutions | QueryBoolean)
        return result

    # -- checkpoints, for readers in other processes ---------------------------------------

    def checkpoints_home(self) -> Path | None:
        """The directory where this store's checkpoints go, or None when it makes none.

        A checkpoint (:meth:`checkpoint`) is a consistent copy that no process writes to, so
        other processes may open it read-only (:meth:`open_checkpoint`) while this one writes:
        the API's query worker processes read the store that way.
        """
        return None

    def checkpoint(self, target: Path) -> None:
        """Write a checkpoint of the store as it is now to the new directory ``target``."""
        raise StoreError(f"the {self.kind} store makes no checkpoints")

    @classmethod
    def open_checkpoint(cls, path: Path) -> Store:
        """Open a checkpoint made by :meth:`checkpoint` of this class, for reading only."""
        raise StoreError(f"{cls.__name__} makes no checkpoints")

    def cache_home(self) -> Path | None:
        """A local directory for files derived from what the store holds, which a later process
        may reuse instead of reading the store again (loader/claims_cache.py), or None.

        Such a file is keyed by the content it was derived from, never trusted because of
        where it is: a store that another process changed only costs a full read. Whether that
        key is still the store's is computed, unless the store :meth:`attested` it.
        """
        return None

    def attest(self, statement: str) -> None:  # noqa: B027 - optional hook
        """Leave ``statement``, true of what the store holds now, for later processes:
        :meth:`attested` gives it back as long as nothing writes to the store (the claims file's
        fingerprint: loader/reconcile.py). A store that cannot promise to withdraw it before
        every write keeps none; one reached over the network is written by others."""

    def attested(self) -> str | None:
        """The statement :meth:`attest` left, if the store was not written since; else None."""
        return None

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Write to disk what this process holds in memory of committed writes, and free that
        memory (a store reached over the network holds nothing). Commits do not need it; a
        long run of large transactions does, to bound its memory."""

    def compact(self) -> None:  # noqa: B027 - optional hook
        """Rewrite the store's files so that what was deleted or replaced costs neither disk
        space nor reading time any more (a store reached over the network manages its own).
        Worth its time after a run that deleted and rewrote much, such as the end of a bulk
        load."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store's resources."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
