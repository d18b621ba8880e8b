"""The steps a load run takes besides its batches, announced to whoever shows its progress.

A large run spends minutes outside its batches, where a bar of documents cannot move: on the
100k store a load first read every stored document's claims (about 5 s), and a bulk run of
100k documents spent 335 s after its last batch (the summary rebuild 70 s, the compaction
45 s, the whole store's check 81 s: docs/benchmarks.md). A caller that shows progress (the
CLI's bar, diplograph/cli_progress.py) passes :data:`Steps`: the run enters one context per
step, named by one of the labels below, so that the caller can say what is going on and how
long it took. The default, :func:`unannounced`, says nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

__all__ = [
    "CLAIMS_FILE",
    "COMPACTING",
    "CONFLICTS_OF_RUN",
    "CONFLICTS_OF_STORE",
    "IDENTITIES",
    "SUMMARY",
    "Steps",
    "unannounced",
]

#: Enters a context for the step named by its label, for as long as the step runs.
Steps = Callable[[str], AbstractContextManager[object]]

#: Reading the claims of every stored document, before the first batch (loader/reconcile.py).
IDENTITIES = "reading the stored documents' identities"
#: The end of a bulk run (loader/bulk.py): its claims left in the claims file,
CLAIMS_FILE = "writing the claims file"
#: the summary graph rebuilt,
SUMMARY = "rebuilding the summary graph"
#: and the store compacted.
COMPACTING = "compacting the store"
#: The conflict check of a run: of the nodes its documents describe, or for a bulk run a scan of
#: the whole store (Loader._conflicts_of_run).
CONFLICTS_OF_RUN = "checking the run's nodes for conflicts"
CONFLICTS_OF_STORE = "checking the whole store for conflicts"


def unannounced(label: str) -> AbstractContextManager[None]:
    """Steps that no one is told of."""
    return nullcontext()
