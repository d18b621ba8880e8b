"""Ranks: the position of each listed count in the order its question sorts by.

Two questions read "the n highest counts", and sorting costs Oxigraph more than reading: each
comparison of two IRIs looks their text up. So the summary numbers the listed counts in the
question's order, and the question reads the first n by number (``FILTER (?rank <= n)``):

* **interactions** (``q04``): every pair on the top list (``dip:topInteraction``) has a
  ``dip:interactionRank``, by event count (highest first), then the first and the second
  actor's IRI;
* **corroborations** (``q10``): the source counts at or above the
  :data:`~loader.summary.top.TOP_CORROBORATIONS`-th highest, ties included, have a
  ``dip:corroborationRank``, by document count (highest first), then the event's IRI.

Ranks run from 1 without gaps or ties. They are made in SPARQL (:func:`rank_operations`, the
rebuild and the general upkeep) or, when counts only grow, in Python from the ranked counts and
the changed ones (:func:`ranked`, the additive shortcut); tests/test_summary.py checks that both
give the same ranks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from diplograph.loader.summary import top
from diplograph.loader.summary.graph import SummaryGraph

__all__ = ["CORROBORATIONS", "INTERACTIONS", "RANKINGS", "Ranked", "Ranking", "ranked"]


@dataclass(frozen=True)
class Ranking:
    """A ranked list: its rank and count properties, the properties whose objects' text
    breaks ties in the question's order (``dip:`` local names), and whether the nodes to rank
    are the top list (``dip:topInteraction``) or the counts at or above the
    :data:`~loader.summary.top.TOP_CORROBORATIONS`-th highest."""

    rank: str
    count: str
    order: tuple[str, ...]
    top_list: bool

    def listed_pattern(self, summary: SummaryGraph) -> str:
        """The nodes ``?n`` to rank, with their count ``?c`` and order keys ``?k0``, ``?k1``…"""
        g = summary.term
        keys = " ".join(f"dip:{name} ?o{i} ;" for i, name in enumerate(self.order))
        binds = " ".join(f"BIND (STR(?o{i}) AS ?k{i})" for i in range(len(self.order)))
        if self.top_list:
            # The top list, as made before the ranks (top.list_top or the additive shortcut).
            listed = f"{g} dip:topInteraction ?n . "
            threshold = ""
        else:
            n = top.TOP_CORROBORATIONS
            listed = ""
            threshold = (
                f"OPTIONAL {{ SELECT ?least WHERE {{ GRAPH {g} {{ "
                f"?any dip:{self.count} ?least }} }} "
                f"ORDER BY DESC(?least) OFFSET {n - 1} LIMIT 1 }} "
            )
        return f"{threshold}GRAPH {g} {{ {listed}?n {keys} dip:{self.count} ?c }} {binds} " + (
            "FILTER (!BOUND(?least) || ?c >= ?least) " if threshold else ""
        )

    def stored(self, summary: SummaryGraph) -> dict[str, Ranked]:
        """The ranked nodes the summary holds now: node IRI -> what it is ranked by."""
        g = summary.term
        keys = " ".join(f"?n dip:{name} ?o{i} ." for i, name in enumerate(self.order))
        names = " ".join(f"?o{i}" for i in range(len(self.order)))
        result = summary.select(
            f"SELECT ?n ?r ?c {names} WHERE {{ GRAPH {g} {{ ?n dip:{self.rank} ?r ; "
            f"dip:{self.count} ?c . {keys} }} }}"
        )
        out: dict[str, Ranked] = {}
        for row in result:
            node, rank, count = row["n"], row["r"], row["c"]
            assert isinstance(node, NamedNode)
            assert isinstance(rank, RdfLiteral) and isinstance(count, RdfLiteral)
            order = tuple(_text(row[f"o{i}"]) for i in range(len(self.order)))
            out[node.value] = Ranked(int(count.value), order, int(rank.value))
        return out


@dataclass(frozen=True)
class Ranked:
    """A node's count, its order keys (the text of the tie-breaking terms) and its rank (0 for
    a node not ranked yet)."""

    count: int
    order: tuple[str, ...]
    rank: int = 0


INTERACTIONS = Ranking(
    "interactionRank", "eventCount", ("firstActor", "secondActor"), top_list=True
)
CORROBORATIONS = Ranking("corroborationRank", "documentCount", ("countedEvent",), top_list=False)
RANKINGS = (INTERACTIONS, CORROBORATIONS)


def rank_operations(summary: SummaryGraph, ranking: Ranking) -> list[str]:
    """Operations that rank the listed nodes anew: each node's rank is the number of listed
    nodes at or before it in the question's order (a pass over pairs of listed nodes)."""
    g = summary.term
    rank = f"?n dip:{ranking.rank} ?r ."
    keys = [f"?k{i}" for i in range(len(ranking.order))]
    others = [f"?m{i}" for i in range(len(ranking.order))]
    renamed = " ".join(f"(?k{i} AS ?m{i})" for i in range(len(ranking.order)))
    listed = ranking.listed_pattern(summary)
    return [
        "DELETE { " + summary.write(rank) + f" }} WHERE {{ GRAPH {g} {{ {rank} }} }}",
        "INSERT { "
        + summary.write(f"?n dip:{ranking.rank} ?rank .")
        + " } WHERE { { SELECT ?n (COUNT(*) AS ?rank) WHERE { "
        f"{{ SELECT ?n ?c {' '.join(keys)} WHERE {{ {listed}}} }} "
        f"{{ SELECT (?n AS ?m) (?c AS ?mc) {renamed} WHERE {{ {listed}}} }} "
        f"FILTER (?mc > ?c || (?mc = ?c && {_at_or_before(others, keys)})) "
        "} GROUP BY ?n } }",
    ]


def ranked(counts: Mapping[str, Ranked], n: int) -> dict[str, int]:
    """The ranks of the nodes at or above the ``n``-th highest of ``counts`` (ties included):
    node IRI -> rank, in the question's order."""
    listed = top.top_of({node: each.count for node, each in counts.items()}, n)
    order = sorted(listed, key=lambda node: (-counts[node].count, counts[node].order))
    return {node: i for i, node in enumerate(order, start=1)}


def _at_or_before(first: list[str], second: list[str]) -> str:
    """SPARQL: the strings ``first`` sort at or before ``second``, key by key."""
    if len(first) == 1:
        return f"{first[0]} <= {second[0]}"
    rest = _at_or_before(first[1:], second[1:])
    return f"({first[0]} < {second[0]} || ({first[0]} = {second[0]} && {rest}))"


def _text(term: object) -> str:
    assert isinstance(term, NamedNode | RdfLiteral), term
    return term.value
