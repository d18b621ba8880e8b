"""The rebuild: update operations that recompute the whole summary from the facts."""

from __future__ import annotations

from diplograph.loader.summary import top
from diplograph.loader.summary.graph import SummaryGraph, expand, integer
from diplograph.loader.summary.keys import month_keys, pair_keys, source_counts
from diplograph.loader.summary.ranks import rank_operations

__all__ = ["rebuild_operations"]


def rebuild_operations(summary: SummaryGraph) -> list[str]:
    """Update operations that recompute the summary from scratch (after any graph changes)."""
    g = summary.term
    store, minter = summary.store, summary.minter
    pair_node, pair_where = pair_keys(store, minter)
    month_node, month_where = month_keys(store, minter)
    return expand(
        [
            *store.drop_own_graph(summary.iri),
            "INSERT { "
            + summary.write(
                "?n a dip:InteractionCount ; dip:firstActor ?a ; dip:secondActor ?b ; "
                "dip:eventCount ?count ."
            )
            + " } WHERE { { SELECT ?a ?b (COUNT(DISTINCT ?e) AS ?count) WHERE { "
            + pair_where
            + " } GROUP BY ?a ?b } "
            + pair_node
            + " }",
            "INSERT { "
            + summary.write(
                "?n a dip:EventCountByMonth ; dip:month ?m ; dip:eventType ?t ; "
                "dip:eventCount ?count ."
            )
            + " } WHERE { { SELECT ?m ?t (COUNT(DISTINCT ?e) AS ?count) WHERE { "
            + month_where
            + " } GROUP BY ?m ?t } "
            + month_node
            + " }",
            "INSERT { "
            + summary.write(
                "?n a dip:CorroborationCount ; dip:countedEvent ?e ; dip:documentCount ?count ."
            )
            + " } WHERE { "
            + source_counts(store, minter)
            + "}",
            *top.list_top(summary),
            *rank_operations(summary),
            "INSERT DATA { "
            + summary.write(
                f"{g} a dip:Summary ; dip:quadCount 0 ; "
                f"dip:topInteractionRank {integer(top.TOP_INTERACTIONS)} ; "
                f"dip:topCorroborationRank {integer(top.TOP_CORROBORATIONS)} ."
            )
            + " }",
            # The count includes the placeholder, which the exact number replaces one for one.
            "DELETE { "
            + summary.write(f"{g} dip:quadCount ?zero .")
            + " } INSERT { "
            + summary.write(f"{g} dip:quadCount ?quads .")
            + f" }} WHERE {{ GRAPH {g} {{ {g} dip:quadCount ?zero }} "
            "{ SELECT (COUNT(*) AS ?quads) WHERE { GRAPH ?any { ?s ?p ?o } } } }",
        ]
    )
