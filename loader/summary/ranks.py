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
rebuild and the in-transaction upkeep of remote stores) or in Python from the ranked counts and
the changed ones (:func:`ranked`; :func:`keep_ranks`, which the precomputed upkeep uses, also
when counts fall), written where they change; tests/test_summary.py,
tests/test_summary_corroboration.py and tests/test_summary_upkeep.py check that every way gives
the graph a rebuild writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from diplograph.loader.namespaces import DIP
from diplograph.loader.summary import top
from diplograph.loader.summary.graph import SummaryGraph, integer

__all__ = [
    "CORROBORATIONS",
    "INTERACTIONS",
    "RANKINGS",
    "Kept",
    "Ranked",
    "Ranking",
    "keep_ranks",
    "ranked",
]


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
        """The nodes ``?n`` to rank, with their count ``?c`` and order terms ``?o0``, ``?o1``…
        (looked up for the ranked nodes only)."""
        g = summary.term
        keys = " ; ".join(f"dip:{name} ?o{i}" for i, name in enumerate(self.order))
        if self.top_list:
            # The top list, as made before the ranks (top.list_top or the additive shortcut).
            counted = f"GRAPH {g} {{ {g} dip:topInteraction ?n . ?n dip:{self.count} ?c }} "
        else:
            # No row when there are fewer counts than the rank: then every count is ranked.
            counts = f"GRAPH {g} {{ ?any dip:{self.count} ?least }}"
            counted = (
                f"OPTIONAL {{ SELECT ?least WHERE {{ {counts} }} "
                f"ORDER BY DESC(?least) OFFSET {top.TOP_CORROBORATIONS - 1} LIMIT 1 }} "
                f"GRAPH {g} {{ ?n dip:{self.count} ?c }} FILTER (!BOUND(?least) || ?c >= ?least) "
            )
        return f"{{ SELECT ?n ?c WHERE {{ {counted}}} }} GRAPH {g} {{ ?n {keys} }} "

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

    def below(self, summary: SummaryGraph, least: int) -> dict[str, Ranked]:
        """The counts of this ranking below ``least`` (none of them ranked): a pass over every
        count, which :func:`keep_ranks` makes only when ranked counts fell below the least."""
        g = summary.term
        keys = " ".join(f"?n dip:{name} ?o{i} ." for i, name in enumerate(self.order))
        names = " ".join(f"?o{i}" for i in range(len(self.order)))
        result = summary.select(
            f"SELECT ?n ?c {names} WHERE {{ GRAPH {g} {{ {keys} ?n dip:{self.count} ?c }} "
            f"FILTER (?c < {least}) }}"
        )
        out: dict[str, Ranked] = {}
        for row in result:
            node, count = row["n"], row["c"]
            assert isinstance(node, NamedNode) and isinstance(count, RdfLiteral)
            order = tuple(_text(row[f"o{i}"]) for i in range(len(self.order)))
            out[node.value] = Ranked(int(count.value), order)
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


def rank_operations(summary: SummaryGraph) -> list[str]:
    """Operations that rank the listed nodes of every ranking anew.

    Each ranking's listed nodes are matched once (:meth:`Ranking.listed_pattern`, for the
    corroborations a sort of every count and a pass over them) and copied, with their count
    and order terms, to a scratch graph dropped at the end. A node's rank is then the number
    of listed nodes of a higher count, plus the number of listed nodes of its count whose order
    terms sort at or before its own (itself included): only nodes of equal count are compared
    pairwise, those of a higher count are summed per distinct count. Comparing every pair of
    listed nodes, as this did first, cost several times more: each comparison of two IRIs'
    text looks both up. Ranks are written where they change only (a commit usually moves few).
    """
    scratch = f"<{summary.store.scratch_graph('ranks')}>"
    operations = [op for ranking in RANKINGS for op in _ranking(summary, ranking, scratch)]
    return [*operations, f"DROP SILENT GRAPH {scratch}"]


def _ranking(summary: SummaryGraph, ranking: Ranking, scratch: str) -> list[str]:
    """The operations of :func:`rank_operations` for ``ranking``."""
    g = summary.term
    rank = f"?n dip:{ranking.rank} ?r ."
    count = f"dip:{ranking.count}"
    width = len(ranking.order)
    keys = " ; ".join(f"dip:{name} ?o{i}" for i, name in enumerate(ranking.order))
    copied = f"?n {count} ?c ; {keys} ."

    def nodes(node: str, key: str) -> str:
        """The copied nodes as ``?{node}``, with their count ``?c`` and order texts."""
        head = "?n" if node == "n" else f"(?n AS ?{node})"
        texts = " ".join(f"(STR(?o{i}) AS ?{key}{i})" for i in range(width))
        return f"{{ SELECT {head} ?c {texts} WHERE {{ GRAPH {scratch} {{ {copied} }} }} }} "

    def sizes(value: str, size: str) -> str:
        """How many copied nodes have each count (``?{value}``, ``?{size}``)."""
        head = "?c" if value == "c" else f"(?c AS ?{value})"
        return (
            f"{{ SELECT {head} (COUNT(*) AS ?{size}) WHERE {{ "
            f"GRAPH {scratch} {{ ?n {count} ?c }} }} GROUP BY ?c }} "
        )

    before = _at_or_before([f"?j{i}" for i in range(width)], [f"?k{i}" for i in range(width)])
    new_rank = f"?n dip:{ranking.rank} ?rank ."
    return [
        f"INSERT {{ GRAPH {scratch} {{ {copied} }} }} WHERE {{ {ranking.listed_pattern(summary)}}}",
        # Ranks are written where they change: the nodes no longer listed lose theirs…
        "DELETE { " + summary.write(rank) + f" }} WHERE {{ GRAPH {g} {{ {rank} }} "
        f"OPTIONAL {{ GRAPH {scratch} {{ ?n {count} ?listed }} }} FILTER (!BOUND(?listed)) }}",
        # … and a listed node gets its rank when it had none or another.
        "DELETE { " + summary.write(rank) + " } INSERT { " + summary.write(new_rank) + " } WHERE { "
        # The listed nodes of ?n's count at or before it in the question's order.
        f"{{ SELECT ?n ?c (COUNT(*) AS ?tied) WHERE {{ {nodes('n', 'k')}{nodes('m', 'j')}"
        f"FILTER ({before}) }} GROUP BY ?n ?c }} "
        # The listed nodes of ?n's count (?same) and of that count or a higher one.
        f"{{ SELECT ?c ?same (SUM(?more) AS ?atLeast) WHERE {{ {sizes('c', 'same')}"
        f"{sizes('mc', 'more')}FILTER (?mc >= ?c) }} GROUP BY ?c ?same }} "
        "BIND (?atLeast - ?same + ?tied AS ?rank) "
        f"OPTIONAL {{ GRAPH {g} {{ {rank} }} }} FILTER (!BOUND(?r) || ?r != ?rank) }}",
    ]


def ranked(counts: Mapping[str, Ranked], n: int) -> dict[str, int]:
    """The ranks of the nodes at or above the ``n``-th highest of ``counts`` (ties included):
    node IRI -> rank, in the question's order."""
    listed = top.top_of({node: each.count for node, each in counts.items()}, n)
    order = sorted(listed, key=lambda node: (-counts[node].count, counts[node].order))
    return {node: i for i, node in enumerate(order, start=1)}


@dataclass
class Kept:
    """What :func:`keep_ranks` found: the rank triples to delete and to insert (N-Triples),
    the nodes ranked before and the nodes ranked now."""

    deletes: list[str]
    inserts: list[str]
    before: set[str]
    after: set[str]


def keep_ranks(
    summary: SummaryGraph, ranking: Ranking, changed: Mapping[str, Ranked], n: int
) -> Kept:
    """The rank changes of ``ranking`` when the counts of ``changed`` move (a count of 0: the
    node goes), computed from the ranked nodes the summary holds (one small read).

    Only the ranked nodes and the changed ones can be ranked afterwards, unless a ranked count
    fell: every other count is below the least ranked one (ties are all ranked), so when at
    least ``n`` of those nodes still count as much as it, they hold the ``n`` highest counts.
    Otherwise the counts below it are read too (:meth:`Ranking.below`), a pass over them all.
    """
    stored = ranking.stored(summary)
    merged = {
        node: Ranked(each.count, each.order, stored[node].rank if node in stored else 0)
        for node, each in changed.items()
    }
    live = {node: each for node, each in {**stored, **merged}.items() if each.count > 0}
    if len(stored) >= n:
        # Fewer ranked nodes than n means there was nothing below them.
        least = min(each.count for each in stored.values())
        if sum(1 for each in live.values() if each.count >= least) < n:
            others = ranking.below(summary, least)
            live.update((node, each) for node, each in others.items() if node not in merged)
    ranks = ranked(live, n)
    prop = f"<{DIP}{ranking.rank}>"
    deletes = [
        f"<{node}> {prop} {integer(was.rank)} ."
        for node, was in sorted(stored.items())
        if ranks.get(node) != was.rank
    ]
    inserts = [
        f"<{node}> {prop} {integer(rank)} ."
        for node, rank in sorted(ranks.items())
        if node not in stored or stored[node].rank != rank
    ]
    return Kept(deletes, inserts, set(stored), set(ranks))


def _at_or_before(first: list[str], second: list[str]) -> str:
    """SPARQL: the strings ``first`` sort at or before ``second``, key by key."""
    if len(first) == 1:
        return f"{first[0]} <= {second[0]}"
    rest = _at_or_before(first[1:], second[1:])
    return f"({first[0]} < {second[0]} || ({first[0]} = {second[0]} && {rest}))"


def _text(term: object) -> str:
    assert isinstance(term, NamedNode | RdfLiteral), term
    return term.value
