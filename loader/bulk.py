"""Bulk mode: when a load run stops keeping the summary exact batch by batch.

A run that grows large against the store it started with switches to bulk mode: the summary is
marked stale, the remaining batches are committed without it (the fast path), and the summary
is rebuilt once at the end. :class:`BulkPolicy` holds the thresholds, the decision and the
run's state; the loader asks it how to commit each batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from diplograph.loader.steps import COMPACTING, SUMMARY, Steps, unannounced
from diplograph.loader.store.base import GraphChange, Store
from diplograph.loader.summary import Summary

__all__ = ["BULK_FRACTION", "BULK_MIN_DOCUMENTS", "BulkPolicy"]

log = logging.getLogger(__name__)

#: A load run switches to bulk mode once it has loaded this many documents ...
BULK_MIN_DOCUMENTS = 200
#: ... and more than this fraction of the documents the store held when it started. Measured:
#: keeping the summary exact costs about 1 ms a new document on the embedded store
#: (Summary.additive) and about 9 ms otherwise; rebuilding it about 1-1.5 ms a document of
#: the whole store.
BULK_FRACTION = 0.2


class BulkPolicy:
    """Whether the batches of one load run keep ``summary`` exact, or leave it to one rebuild.

    ``documents_held`` counts the documents the store holds (asked at most once a run: listing
    the graphs of a store of 100k documents takes about a second). The thresholds are read at
    call time, so that tests may lower them.
    """

    def __init__(self, store: Store, summary: Summary, documents_held: Callable[[], int]) -> None:
        self.store = store
        self.summary = summary
        self._documents_held = documents_held
        #: True while the run's batches are committed without the summary.
        self.active = False
        #: How many documents the current (or last) run had loaded when it switched to bulk
        #: mode; None when it kept the summary exact throughout.
        self.switched_after: int | None = None
        self._held_at_start: int | None = None

    def start(self) -> None:
        """Begin a run. A summary that must be rebuilt anyway is rebuilt once, at the end, not
        by the first commit and then kept exact batch by batch."""
        self.active = False
        self.switched_after = None
        self._held_at_start = None
        if self.summary.needs_rebuild() and self._documents_held() > 0:
            self._switch(0)

    def should_switch(self, loaded: int, held_at_start: Callable[[], int]) -> bool:
        """Whether a run that has loaded ``loaded`` documents should switch to bulk mode:
        :data:`BULK_MIN_DOCUMENTS` documents and more than :data:`BULK_FRACTION` of those the
        store held at the start (``held_at_start``, asked only when needed); on a store others
        may write to, any :data:`BULK_MIN_DOCUMENTS` documents, since its commits recount
        inside each transaction, which costs seconds a batch on a large remote store."""
        if loaded < BULK_MIN_DOCUMENTS:
            return False
        return not self.store.sole_writer or loaded > BULK_FRACTION * held_at_start()

    def after_batch(self, loaded: int) -> None:
        """Switch to bulk mode when rebuilding the summary once will cost less than keeping it
        exact batch by batch (:meth:`should_switch`)."""
        if not self.active and self.should_switch(loaded, lambda: self._held(loaded)):
            log.info("bulk load: the summary graph is rebuilt at the end of this run")
            self._switch(loaded)

    def commit(self, changes: Sequence[GraphChange]) -> None:
        """Commit ``changes``: with the summary kept exact, or without it in bulk mode."""
        if self.active:
            self.store.commit(changes)
        else:
            self.summary.commit(changes)

    def end(self, step: Steps = unannounced) -> None:
        """End the run: rebuild the summary when the run was in bulk mode, then compact the
        store (:meth:`Store.compact`), which the rebuild's deletions leave in need of it;
        ``step`` is told of each (:mod:`loader.steps`)."""
        if self.active:
            # In steps: the summary is marked stale already, and one transaction held 0.9 GB
            # more at the end of a 30k-document load (loader/summary/rebuild.py).
            with step(SUMMARY):
                self.summary.rebuild(in_steps=True)
            log.info("bulk load: compacting the store")
            with step(COMPACTING):
                self.store.compact()
        self.active = False

    def _held(self, loaded: int) -> int:
        if self._held_at_start is None:
            self._held_at_start = self._documents_held() - loaded
        return self._held_at_start

    def _switch(self, loaded: int) -> None:
        self.summary.mark_stale()
        self.active = True
        self.switched_after = loaded
