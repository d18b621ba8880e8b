"""Getting a server ready for writes while it starts, rather than at its first write.

The first load into a store in a process reads the claims of every stored document
(loader/reconcile.py): at 100k documents the first request of 100 documents took 18-26 s
where the next ones took 4-6 s (docs/benchmarks.md). A server that takes writes reads them on
a thread of its own as soon as it starts (:class:`WritePreparation`,
:func:`~loader.pipeline.prepare_writes`: with them the shapes, the ontology and, when it holds
events, the recent events of its loads' checks), holding the write lock as a write does, so
that a write that arrives meanwhile waits for it rather than reading them again. Queries run
beside it. ``/health`` says whether it is done (``writes_ready``).

Only an embedded store keeps what was read between writes (its ``generation``): other
processes may write to a remote store, whose claims each write reads afresh, so there is
nothing to prepare. ``DIPLOGRAPH_PREPARE_WRITES=false`` leaves the read to the first write.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from diplograph.loader.config import Settings
from diplograph.loader.pipeline import prepare_writes
from diplograph.loader.store import Store

__all__ = ["WritePreparation"]

log = logging.getLogger("diplograph.api")

State = Literal["preparing", "ready", "failed"]


class WritePreparation:
    """Reads, on a thread started by :meth:`start`, what the first write to ``store`` would."""

    def __init__(self, store: Store, settings: Settings, write_lock: threading.Lock) -> None:
        self.store = store
        self.settings = settings
        self.write_lock = write_lock
        self.state: State = "preparing"
        self._thread = threading.Thread(target=self._run, name="prepare-writes", daemon=True)

    @classmethod
    def wanted(cls, store: Store, settings: Settings) -> bool:
        """Whether a server of ``store`` with ``settings`` prepares its writes: it takes
        writes, is told to, and its store keeps what is read between them."""
        return bool(settings.write_token and settings.prepare_writes) and (
            store.generation is not None
        )

    def start(self) -> None:
        """Start reading; a write waits for the read to end (the write lock)."""
        self._thread.start()

    def join(self) -> None:
        """Wait for the read to end: the store must not close under it."""
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            with self.write_lock:
                prepare_writes(self.store, self.settings)
        except Exception:
            # The first write reads the store again and reports what fails there.
            self.state = "failed"
            log.exception("could not prepare for writes; the first write will read the store")
            return
        self.state = "ready"
        log.info("ready for writes in %.1f s", time.perf_counter() - started)
