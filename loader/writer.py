"""Write-behind: a load run commits one batch on a thread of its own while it prepares the next.

Committing a batch is about half of a load's time and runs in the store's native code, which
releases the GIL (measured: a Python loop kept its full speed during a ``Store.extend`` of 300k
quads). So while batch N is committed, the loader reads, identifies and maps batch N+1 on the
other core. It waits for the commit (:meth:`Writer.settle`) before anything that reads the
store or writes to it, so each batch still sees every batch before it, and each commit is still
one transaction: after a kill, every document is whole or absent.

At most one commit is in flight. Its error is raised by the next :meth:`Writer.settle`, in the
loader's own thread; a run that fails while a commit is in flight waits for it before it ends,
so no thread writes to a store its caller may be closing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["Writer"]


class Writer:
    """Runs each write of one load run after the one before, one of them in flight at a time.

    With ``behind=False`` (a dry run, or the caller's choice) every write runs at once in the
    caller's thread, as before write-behind.
    """

    def __init__(self, *, behind: bool = True) -> None:
        self._pool = (
            ThreadPoolExecutor(1, thread_name_prefix="diplograph-commit") if behind else None
        )
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        """Start ``write`` once the write in flight has ended (raising its error, if any)."""
        self.settle()
        if self._pool is None:
            write()
            return
        self._pending = self._pool.submit(write)

    def settle(self) -> None:
        """Wait for the write in flight; raise its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> BaseException | None:
        """Wait for the write in flight and stop the thread; the write's error, if it failed
        (for a caller that is failing already, to raise it instead: a commit that failed says
        more about the store than what stopped the run)."""
        pending, self._pending = self._pending, None
        failed = pending.exception() if pending is not None else None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        return failed
