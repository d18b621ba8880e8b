"""The :class:`Store` interface that the loader, the CLI and the API program against."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from pyoxigraph import Quad, QueryBoolean, QuerySolutions, Triple

#: What a query returns: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE).
QueryResult: TypeAlias = QuerySolutions | QueryBoolean | Iterator[Triple]


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
    ) -> None:
        """Apply every change in one transaction: all of them or none.

        ``before`` and ``after`` are SPARQL Update operations (without a prologue) that run in
        the same transaction, before and after the graph changes, each seeing the effects of
        the ones before it: how the summary graph (loader/summary.py) is kept exact.
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

    def empty_graphs(self, graphs: Iterable[str]) -> set[str]:
        """Those of the named ``graphs`` that hold no triple (or do not exist)."""
        return {graph for graph in set(graphs) if not self.graph_triples(graph)}

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

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store's resources."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
