"""The summary keeper: the one object through which the loader and the API's write path read,
keep and rebuild the summary graph.

:meth:`Summary.commit` writes document graphs and the summary in *one*
:meth:`~loader.store.base.Store.commit`: the upkeep's operations (loader/summary/upkeep.py)
run before and after the graph changes in the same transaction. It takes the additive shortcut
when it applies (new graphs on a store with :attr:`~loader.store.base.Store.sole_writer`), the
precomputed upkeep on such a store otherwise (loader/summary/precomputed.py), the general
in-transaction upkeep on other stores when the summary is exact, and rebuilds it otherwise.

**Staleness.** A write that bypasses the loader (a raw SPARQL Update, a Graph Store Protocol
write) cannot be followed incrementally. :func:`guard_raw_writes` marks the summary stale
(``<summary> dip:summaryStale true``) *before* such a write and rebuilds it from scratch after
it; a crash in between leaves the mark, and the next commit through :meth:`Summary.commit`
rebuilds the summary in its own transaction. Each general upkeep also marks the summary stale at
its start and removes the mark at its end, so a store that keeps the operations before a failing
one (Virtuoso 7.2) is left marked, never silently wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

from pyoxigraph import Literal as RdfLiteral

from diplograph.loader.store.base import GraphChange, Store
from diplograph.loader.summary import top, upkeep
from diplograph.loader.summary.graph import FORMAT, SummaryGraph, expand
from diplograph.loader.summary.precomputed import precomputed
from diplograph.loader.summary.rebuild import rebuild_in_steps, rebuild_operations

__all__ = ["Summary", "SummaryState", "guard_raw_writes"]

#: ``current``: exact; ``stale``: marked, not to be trusted; ``missing``: never built.
SummaryState = Literal["current", "stale", "missing"]


class Summary:
    """The summary graph of ``store`` under ``base_iri``: its state, its upkeep, its rebuild."""

    def __init__(self, store: Store, base_iri: str) -> None:
        self.store = store
        self._graph = SummaryGraph(store, base_iri)
        #: The summary graph's IRI.
        self.graph = self._graph.iri
        #: Set by :func:`guard_raw_writes` while the stale mark is its own, put on a summary
        #: that was exact: commits through this keeper may still update it incrementally.
        self._own_mark = False

    # -- reading ---------------------------------------------------------------------------

    def state(self) -> SummaryState:
        """Whether the summary can be trusted now."""
        return self._read()[0]

    def quads(self) -> int | None:
        """The number of quads in the store's named graphs, as the summary keeps it (one small
        read, where counting them scans the store): None unless the summary is current."""
        state, quads = self._read()
        return quads if state == "current" else None

    def _read(self) -> tuple[SummaryState, int | None]:
        g = self._graph.term
        rows = list(
            self._graph.select(
                f"SELECT ?n ?stale ?top ?ranked ?format WHERE {{ GRAPH {g} {{ "
                f"{g} dip:quadCount ?n "
                f"OPTIONAL {{ {g} dip:summaryStale ?stale }} "
                f"OPTIONAL {{ {g} dip:summaryFormat ?format }} "
                f"OPTIONAL {{ {g} dip:topInteractionRank ?top }} "
                f"OPTIONAL {{ {g} dip:topCorroborationRank ?ranked }} }} }}"
            )
        )
        if not rows:
            return "missing", None
        if any(row["stale"] is not None for row in rows):
            return "stale", None
        # A summary of another layout (before the type ranks, before the format number), or
        # listing another number of counts, cannot be kept exact.
        for term, expected in (
            (rows[0]["format"], FORMAT),
            (rows[0]["top"], top.TOP_INTERACTIONS),
            (rows[0]["ranked"], top.TOP_CORROBORATIONS),
        ):
            if not isinstance(term, RdfLiteral) or term.value != str(expected):
                return "stale", None
        counts = {row["n"] for row in rows}
        count = counts.pop() if len(counts) == 1 else None
        return "current", int(count.value) if isinstance(count, RdfLiteral) else None

    def needs_rebuild(self) -> bool:
        """True when the next commit would have to rebuild the summary from scratch: it is
        missing, or marked stale by something other than this keeper's guarded raw write."""
        state = self.state()
        return state == "missing" or (state == "stale" and not self._own_mark)

    # -- writing ---------------------------------------------------------------------------

    def commit(self, changes: Sequence[GraphChange]) -> None:
        """Apply ``changes`` and bring the summary up to date, in one transaction."""
        state = self.state()
        # A mark this keeper may trust (its own, on a summary that was exact) goes with the
        # commit's upkeep.
        marked = state == "stale" and self._own_mark
        computed = None
        if state == "current" or marked:
            computed = self.additive(changes, marked=marked) or self.precomputed(
                changes, marked=marked
            )
        if computed is not None:  # DELETE DATA and INSERT DATA, computed from reads made here
            self.store.commit(changes, before=computed[0], after=computed[1], data_only=True)
            return
        if state == "current" or marked:
            before, after = self.incremental(changes)
        else:
            before, after = [], self.rebuild_operations()
        self.store.commit(changes, before=before, after=after)

    def rebuild(self, *, in_steps: bool = False) -> None:
        """Recompute the whole summary from the facts, in one transaction, or ``in_steps``
        under the stale mark (:func:`~loader.summary.rebuild.rebuild_in_steps`): the end of a
        bulk load, whose summary is marked already, on a store only this process writes to."""
        if not (in_steps and self.store.sole_writer):
            self.store.commit([], after=self.rebuild_operations())
            return
        if self.state() != "stale":
            self.mark_stale()
        rebuild_in_steps(self._graph)

    def mark_stale(self) -> None:
        """Mark the summary as not to be trusted until the next rebuild or commit."""
        own, write = self._graph.term, self._graph.write
        stale = self._graph.stale_triple()
        if self.state() == "missing":
            # A missing summary becomes a stale one (a placeholder count under the mark), so
            # that a store holding documents always has one; the rebuild replaces both.
            placeholder = f"{own} a dip:Summary ; dip:quadCount 0 . {stale}"
            self.store.commit([], after=expand([f"INSERT DATA {{ {write(placeholder)} }}"]))
            return
        # The mark is a quad too: the quad count gains one where the mark is new. Counting the
        # summary graph before and after instead (as the general upkeep counts the graphs it
        # changes) took 0.3 s of each load through the API at 100k documents.
        count = (
            "DELETE { " + write(f"{own} dip:quadCount ?total .") + " } "
            "INSERT { " + write(f"{own} dip:quadCount ?next .") + " } "
            f"WHERE {{ GRAPH {own} {{ {own} dip:quadCount ?total "
            f"FILTER NOT EXISTS {{ {stale} }} }} BIND (?total + 1 AS ?next) }}"
        )
        self.store.commit([], after=expand([count, f"INSERT DATA {{ {write(stale)} }}"]))

    # -- the operations --------------------------------------------------------------------

    def additive(
        self, changes: Sequence[GraphChange], *, marked: bool = False
    ) -> upkeep.Operations | None:
        """The additive shortcut's operations (:func:`upkeep.additive`), or None."""
        return upkeep.additive(self._graph, changes, marked=marked)

    def precomputed(
        self, changes: Sequence[GraphChange], *, marked: bool = False
    ) -> upkeep.Operations | None:
        """The general upkeep computed before the transaction
        (:func:`~loader.summary.precomputed.precomputed`), or None."""
        return precomputed(self._graph, changes, marked=marked)

    def incremental(self, changes: Sequence[GraphChange]) -> upkeep.Operations:
        """The general upkeep's operations (:func:`upkeep.incremental`)."""
        return upkeep.incremental(self._graph, changes)

    def rebuild_operations(self) -> list[str]:
        """Update operations that recompute the summary from scratch (after any changes)."""
        return rebuild_operations(self._graph)


@contextmanager
def guard_raw_writes(store: Store, base_iri: str) -> Iterator[Summary]:
    """Keep the summary exact around a write that may bypass the loader; yields the keeper
    that loader commits inside the write must use (``Loader(..., summary=keeper)``).

    Marks the summary stale first (so a crash mid-write leaves it marked), runs the write, and
    rebuilds the summary when it is still marked afterwards. A write that removed the summary
    graph altogether (``CLEAR ALL``, a ``PUT`` of the whole dataset) leaves it missing: the next
    loader commit builds it. A loader commit through the yielded keeper finds the mark it may
    trust (set here while the summary was exact) and clears it, so a load through the API costs
    no rebuild. The write must not mix raw writes with loader commits: a raw write after a
    loader commit in the same guarded write would go unnoticed.
    """
    summary = Summary(store, base_iri)
    trusted = summary.state() == "current"
    summary.mark_stale()
    summary._own_mark = trusted
    try:
        yield summary
    finally:
        summary._own_mark = False
        if summary.state() == "stale":
            summary.rebuild()
