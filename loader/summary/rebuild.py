"""The rebuild: update operations that recompute the whole summary from the facts.

In one transaction (:func:`rebuild_operations`, what a commit that must rebuild runs, and the
rebuild on a store others write to too), or in steps (:func:`rebuild_in_steps`, the rebuild at
the end of a bulk load on a store only this process writes to). A transaction holds every write
it makes in memory until it commits: rebuilding the 165k quads of the summary of 30k documents
in one took 0.9 GB more at its peak. In steps, the summary stays marked stale until the last
one, which a crash between steps leaves in place (the next load or guarded write rebuilds it
again), so no reader is told a partial summary is current.
"""

from __future__ import annotations

from diplograph.loader.store.base import Store
from diplograph.loader.summary import streamed, top
from diplograph.loader.summary.graph import FORMAT, SummaryGraph, expand, integer
from diplograph.loader.summary.keys import month_keys, pair_keys, source_counts
from diplograph.loader.summary.ranks import rank_operations
from diplograph.loader.summary.type_ranks import type_rank_operations

__all__ = ["DELETE_CHUNK", "rebuild_in_steps", "rebuild_operations"]

#: Summary nodes deleted per transaction by :func:`rebuild_in_steps` (about five quads each).
DELETE_CHUNK = 2000


def rebuild_operations(summary: SummaryGraph) -> list[str]:
    """Update operations that recompute the summary from scratch (after any graph changes)."""
    return expand(
        [
            *summary.store.drop_own_graph(summary.iri),
            *_count_operations(summary),
            *_finishing_operations(summary),
        ]
    )


def rebuild_in_steps(summary: SummaryGraph) -> None:
    """Recompute the summary, marked stale, in several transactions.

    The summary's nodes go, a chunk a transaction; each kind of count is written in a
    transaction of its own; the last transaction removes what is left of the old summary (its
    own node, with the mark) and writes the top list, the ranks, the type ranks and the quad
    count. The interaction and corroboration counts are counted from streamed rows and written
    in chunks (loader/summary/streamed.py), which holds a fraction of what their updates do."""
    store, g = summary.store, summary.term
    nodes = [
        row["n"].value
        for row in summary.select(
            f"SELECT DISTINCT ?n WHERE {{ GRAPH {g} {{ ?n ?p ?o }} FILTER(?n != {g}) }}"
        )
    ]
    for start in range(0, len(nodes), DELETE_CHUNK):
        values = " ".join(f"<{n}>" for n in nodes[start : start + DELETE_CHUNK])
        delete = (
            "DELETE { "
            + summary.write("?n ?p ?o .")
            + f" }} WHERE {{ VALUES ?n {{ {values} }} GRAPH {g} {{ ?n ?p ?o }} }}"
        )
        _step(store, expand([delete]))
    _step(store, expand([_month_counts(summary)]))
    for insert in streamed.count_writes(summary):
        _step(store, [insert])
    own = f"{g} ?p ?o ."
    _step(
        store,
        expand(
            [
                "DELETE { " + summary.write(own) + f" }} WHERE {{ GRAPH {g} {{ {own} }} }}",
                *_finishing_operations(summary),
            ]
        ),
    )


def _step(store: Store, operations: list[str]) -> None:
    # Each step's writes are flushed to disk: left in RocksDB's write buffers, the steps of a
    # 30k-document summary peaked at 718 MB, against 539 MB flushed (870 MB in one transaction).
    store.commit([], after=operations)
    store.flush()


def _count_operations(summary: SummaryGraph) -> list[str]:
    """The interaction, month and corroboration counts, from the facts."""
    store, minter = summary.store, summary.minter
    pair_node, pair_where = pair_keys(store, minter)
    return [
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
        _month_counts(summary),
        "INSERT { "
        + summary.write(
            "?n a dip:CorroborationCount ; dip:countedEvent ?e ; dip:documentCount ?count ."
        )
        + " } WHERE { "
        + source_counts(store, minter)
        + "}",
    ]


def _month_counts(summary: SummaryGraph) -> str:
    """The counts of events by month and type, from the facts."""
    month_node, month_where = month_keys(summary.store, summary.minter)
    return (
        "INSERT { "
        + summary.write(
            "?n a dip:EventCountByMonth ; dip:month ?m ; dip:eventType ?t ; dip:eventCount ?count ."
        )
        + " } WHERE { { SELECT ?m ?t (COUNT(DISTINCT ?e) AS ?count) WHERE { "
        + month_where
        + " } GROUP BY ?m ?t } "
        + month_node
        + " }"
    )


def _finishing_operations(summary: SummaryGraph) -> list[str]:
    """Over the counts: the top list, the ranks, the type ranks, the summary's own node (its
    format) and its quad count."""
    g = summary.term
    return [
        *top.list_top(summary),
        *rank_operations(summary),
        *type_rank_operations(summary),
        "INSERT DATA { "
        + summary.write(
            f"{g} a dip:Summary ; dip:quadCount 0 ; dip:summaryFormat {integer(FORMAT)} ; "
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
