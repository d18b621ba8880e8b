"""The top list: the interaction counts at or above the :data:`TOP_INTERACTIONS`-th highest.

The summary graph's node lists them (``dip:topInteraction``), ties included, so that "the most
frequent pairs" reads a hundred nodes instead of sorting them all
(``q04_who_talks_to_whom_summary.rq``); ``dip:topInteractionRank`` records the rank. The list is
made in SPARQL (:func:`list_top`, a full pass over the pairs) or, when counts only grow, in
Python from the listed counts and the changed ones (:func:`top_of`).

The source counts have no list of their own: the ones at or above the
:data:`TOP_CORROBORATIONS`-th highest are those with a ``dip:corroborationRank``
(loader/summary/ranks.py), and ``dip:topCorroborationRank`` records the number.
"""

from __future__ import annotations

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from diplograph.loader.summary.graph import SummaryGraph

__all__ = ["TOP_CORROBORATIONS", "TOP_INTERACTIONS", "list_top", "stored_top", "top_of"]

#: How many of the highest interaction counts the summary lists (ties at the last one included).
#: A summary listing another number is rebuilt by the next commit. Read at call time, so that
#: tests may change it.
TOP_INTERACTIONS = 100
#: How many of the highest source counts the summary ranks (ties at the last one included), as
#: ``q10_corroborated_events`` asks for 100; read at call time, like :data:`TOP_INTERACTIONS`.
TOP_CORROBORATIONS = 100


def top_of(counts: dict[str, int], n: int | None = None) -> set[str]:
    """The nodes whose count is at or above the ``n``-th highest one (by default
    :data:`TOP_INTERACTIONS`).

    Applied to the listed nodes and the nodes a commit changed, this is the top of the whole
    summary when counts only grow: any other node was below the old threshold, which can only
    have risen.
    """
    n = TOP_INTERACTIONS if n is None else n
    if len(counts) <= n:
        return set(counts)
    least = sorted(counts.values(), reverse=True)[n - 1]
    return {node for node, count in counts.items() if count >= least}


def list_top(summary: SummaryGraph) -> list[str]:
    """Operations that list the top interaction counts anew: a full pass over the pairs, which
    the general upkeep pays because counts may drop."""
    g = summary.term
    listed = f"{g} dip:topInteraction ?n ."
    return [
        "DELETE { " + summary.write(listed) + f" }} WHERE {{ GRAPH {g} {{ {listed} }} }}",
        "INSERT { " + summary.write(listed) + " } WHERE { "
        # No row when there are fewer pairs than the rank: then every pair is listed.
        f"OPTIONAL {{ SELECT ?least WHERE {{ GRAPH {g} {{ "
        "?any a dip:InteractionCount ; dip:eventCount ?least } } "
        f"ORDER BY DESC(?least) OFFSET {TOP_INTERACTIONS - 1} LIMIT 1 }} "
        f"GRAPH {g} {{ ?n a dip:InteractionCount ; dip:eventCount ?count }} "
        "FILTER (!BOUND(?least) || ?count >= ?least) }",
    ]


def stored_top(summary: SummaryGraph) -> dict[str, int]:
    """The interaction counts the summary lists as top ones: node IRI -> count."""
    g = summary.term
    result = summary.select(
        f"SELECT ?n ?c WHERE {{ GRAPH {g} {{ {g} dip:topInteraction ?n . ?n dip:eventCount ?c }} }}"
    )
    return {
        row["n"].value: int(row["c"].value)
        for row in result
        if isinstance(row["n"], NamedNode) and isinstance(row["c"], RdfLiteral)
    }
