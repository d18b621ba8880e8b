"""The summary graph as the upkeep writes it: its IRI, its templates, its quad count.

Every write to the summary graph goes through :meth:`SummaryGraph.write`, which asks the store
for the template (:meth:`~loader.store.base.Store.own_graph_template`): the embedded store also
writes the triples to its materialized union, so the summary never knows the store's layout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode, QuerySolutions

from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP, XSD
from diplograph.loader.store.base import Store

__all__ = ["FORMAT", "PROLOGUE", "SummaryGraph", "each_graph", "expand", "integer"]

#: The summary graph's layout (``dip:summaryFormat``): a summary of another one is stale, and
#: the next commit rebuilds it. 2: the event types' ranks (loader/summary/type_ranks.py).
FORMAT = 2

PROLOGUE = f"PREFIX dip: <{DIP}>\n"
_INTEGER = NamedNode(f"{XSD}integer")
#: ``dip:`` names in the operations, which travel without a prologue (one request may join many).
_DIP_NAME = re.compile(r"\bdip:(\w+)")


class SummaryGraph:
    """The summary graph of ``store`` under ``base_iri``."""

    def __init__(self, store: Store, base_iri: str) -> None:
        self.store = store
        self.minter = IriMinter(base_iri)
        #: The graph's IRI, which is also its own node's (typed ``dip:Summary``).
        self.iri = self.minter.summary_graph()
        #: The graph's IRI as a SPARQL term.
        self.term = f"<{self.iri}>"

    def write(self, triples: str) -> str:
        """The quad template that writes (or deletes) ``triples`` in the summary graph."""
        return self.store.own_graph_template(self.iri, triples)

    def stale_triple(self) -> str:
        """The mark of a summary not to be trusted."""
        return f"{self.term} dip:summaryStale true ."

    def select(self, sparql: str, *, union: bool = False) -> QuerySolutions:
        """The solutions of the SELECT ``sparql`` (``dip:`` declared)."""
        result = self.store.query(PROLOGUE + sparql, union_default_graph=union)
        assert isinstance(result, QuerySolutions)
        return result

    def add_to_quad_count(self, graphs: Sequence[str], *, sign: Literal["+", "-"]) -> str:
        """Add (or subtract) the current size of ``graphs`` to the stored quad count."""
        g = self.term
        return (
            "DELETE { "
            + self.write(f"{g} dip:quadCount ?total .")
            + " } INSERT { "
            + self.write(f"{g} dip:quadCount ?next .")
            + f" }} WHERE {{ GRAPH {g} {{ {g} dip:quadCount ?total }} "
            f"{{ SELECT (COUNT(*) AS ?size) WHERE {{ {each_graph(graphs, '?s ?p ?o')} }} }} "
            f"BIND (?total {sign} ?size AS ?next) }}"
        )


def expand(operations: Sequence[str]) -> list[str]:
    """The operations with ``dip:`` names written out, empty ones left out."""
    return [_DIP_NAME.sub(lambda m: f"<{DIP}{m.group(1)}>", op) for op in operations if op]


def integer(value: int) -> RdfLiteral:
    """``value`` as an ``xsd:integer`` literal."""
    return RdfLiteral(str(value), datatype=_INTEGER)


def each_graph(graphs: Sequence[str], pattern: str) -> str:
    """``pattern`` in each of ``graphs``: one ``GRAPH <g>`` branch per graph, joined by UNION.

    Not ``VALUES ?g { … } GRAPH ?g { … }``: Virtuoso 7.2 does not use the values to pick the
    graphs and scans every quad instead, about 1 s for 50 graphs of a 3-million-quad store,
    against about 5 ms a graph with the graph named.
    """
    return " UNION ".join(f"{{ GRAPH <{g}> {{ {pattern} }} }}" for g in graphs)
