"""The event types' ranks: q05's order as small integers.

q05 sorts its rows by month and event type. Oxigraph compares two IRIs by looking up their
text, at every comparison: ordering the summary's 1,839 month counts of 100k documents by month
and type took 28.7 ms in process, by month alone 17.5 ms. So the summary numbers the event
types that its month counts name, in the order of their text, one node a type:

    <{base}id/summary/type/{h}> a dip:EventTypeRank ;
        dip:rankedType dip:PhoneCall ; dip:typeRank 9 .

and q05's ranked form (``bench/queries/q05_events_per_month_type_summary_ranked.rq``) sorts by
month and ``dip:typeRank``, two values Oxigraph compares without a lookup (17.1 ms on the same
store, compacted; docs/benchmarks.md). ``{h}`` is the first 32
hex digits of SHA-256 over the type's IRI (loader/iris.py).

The ranks run 1, 2, 3 … over exactly the types some ``dip:EventCountByMonth`` names. They are
made in SPARQL (:func:`type_rank_operations`: the rebuild and the in-transaction upkeep) or kept
in Python where the month counts change (:func:`keep_type_ranks`: the additive and precomputed
upkeep), which reads the ranks (a node a type) and, only when month counts go, how many counts
name each of their types. tests/test_summary.py checks every way against a recount.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TypeAlias

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from diplograph.loader.namespaces import DIP, RDF
from diplograph.loader.summary.graph import SummaryGraph, integer

__all__ = ["EventType", "TypeRanks", "keep_type_ranks", "type_rank_operations"]

#: An event type as the month counts name it: an IRI (a literal only where a raw write put one).
EventType: TypeAlias = NamedNode | RdfLiteral


@dataclass(frozen=True)
class TypeRanks:
    """The triples :func:`keep_type_ranks` deletes and inserts (N-Triples, one a text)."""

    deletes: list[str]
    inserts: list[str]


def type_rank_operations(summary: SummaryGraph) -> list[str]:
    """Update operations that number the event types anew from the month counts (after them):
    a type's rank is the number of distinct types whose text sorts at or before its own."""
    g = summary.term
    node = summary.minter.event_type_rank_sparql("STR(?t)")
    return [
        "DELETE { "
        + summary.write("?r ?p ?o .")
        + f" }} WHERE {{ GRAPH {g} {{ ?r a dip:EventTypeRank ; ?p ?o }} }}",
        "INSERT { "
        + summary.write("?r a dip:EventTypeRank ; dip:rankedType ?t ; dip:typeRank ?rank .")
        + " } WHERE { { SELECT ?t (COUNT(?u) AS ?rank) WHERE { "
        f"{{ SELECT DISTINCT ?t WHERE {{ GRAPH {g} {{ ?k dip:eventType ?t }} }} }} "
        f"{{ SELECT DISTINCT ?u WHERE {{ GRAPH {g} {{ ?j dip:eventType ?u }} }} }} "
        f"FILTER (STR(?u) <= STR(?t)) }} GROUP BY ?t }} BIND ({node} AS ?r) }}",
    ]


def keep_type_ranks(
    summary: SummaryGraph, gained: Counter[EventType], lost: Counter[EventType]
) -> TypeRanks:
    """The rank triples that change when month counts naming the types in ``gained`` are
    added and stored ones naming those in ``lost`` go (type -> number of counts).

    A type keeps its node while any month count names it; only the ranks that move are
    rewritten. Nothing is read when no count comes or goes, and only the ranks when no count
    goes and every gained type is ranked."""
    if not +lost and not +gained:  # the usual batch: no month count comes or goes
        return TypeRanks([], [])
    stored = _stored(summary)
    if not +lost and set(+gained) <= set(stored):
        return TypeRanks([], [])
    named = _counts_naming(summary, list(+lost)) if +lost else {}
    present = {t for t in stored if t not in lost or named.get(t, 0) > lost[t]} | set(+gained)
    ordered = sorted(present, key=lambda t: (t.value, str(t)))
    ranks = {t: i for i, t in enumerate(ordered, start=1)}
    deletes: list[str] = []
    inserts: list[str] = []
    rank_of = f"<{DIP}typeRank>"
    for kind, (node, term) in stored.items():
        if kind not in ranks:
            deletes += _description(node, kind)
            deletes.append(f"<{node}> {rank_of} {term} .")
        elif int(term.value) != ranks[kind]:
            deletes.append(f"<{node}> {rank_of} {term} .")
            inserts.append(f"<{node}> {rank_of} {integer(ranks[kind])} .")
    for kind, rank in ranks.items():
        if kind not in stored:
            node = summary.minter.event_type_rank(kind.value)
            inserts += _description(node, kind)
            inserts.append(f"<{node}> {rank_of} {integer(rank)} .")
    return TypeRanks(deletes, inserts)


def _description(node: str, kind: EventType) -> list[str]:
    return [f"<{node}> <{RDF}type> <{DIP}EventTypeRank> .", f"<{node}> <{DIP}rankedType> {kind} ."]


def _stored(summary: SummaryGraph) -> dict[EventType, tuple[str, RdfLiteral]]:
    """The ranked types: type -> (its rank node, its stored rank)."""
    out: dict[EventType, tuple[str, RdfLiteral]] = {}
    result = summary.select(
        f"SELECT ?r ?t ?n WHERE {{ GRAPH {summary.term} {{ "
        "?r dip:rankedType ?t ; dip:typeRank ?n } }"
    )
    for row in result:
        node, kind, rank = row["r"], row["t"], row["n"]
        assert isinstance(node, NamedNode) and isinstance(kind, NamedNode | RdfLiteral)
        assert isinstance(rank, RdfLiteral)
        out[kind] = (node.value, rank)
    return out


def _counts_naming(summary: SummaryGraph, types: list[EventType]) -> dict[EventType, int]:
    """How many month counts the summary holds now for each of ``types``."""
    values = " ".join(str(t) for t in types)
    result = summary.select(
        f"SELECT ?t (COUNT(?k) AS ?n) WHERE {{ VALUES ?t {{ {values} }} "
        f"GRAPH {summary.term} {{ ?k dip:eventType ?t }} }} GROUP BY ?t"
    )
    out: dict[EventType, int] = {}
    for row in result:
        kind, count = row["t"], row["n"]
        assert isinstance(kind, NamedNode | RdfLiteral) and isinstance(count, RdfLiteral)
        out[kind] = int(count.value)
    return out
