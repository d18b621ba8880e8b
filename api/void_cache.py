"""The VoID numbers of the store, counted once per version of it, in the background.

Counting what the VoID description reports scans the whole store: 12 s for the 3.1M quads of
10k documents on the 2-core machine, 19 s for the 5.8M of 100k GDELT events; both longer than
the 5 s query timeout, so a VoID request that counted for itself was refused on every try. The
numbers change only when the store does, so they are counted once per
:attr:`~loader.store.base.Store.generation` (every write through the server makes a new one) and
kept. The count runs on a thread of its own and is not cut by a request's timeout: a request that
would wait longer is answered 503 with ``Retry-After``, and a later one gets the numbers.

A remote store has no generation (other clients may write to it), so its numbers are kept for
:data:`REMOTE_FRESHNESS` seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

import anyio

from diplograph.loader.errors import DiplographError
from diplograph.loader.store import Store

__all__ = ["REMOTE_FRESHNESS", "StatisticsPendingError", "VoidCache"]

T = TypeVar("T")

#: Seconds the numbers of a store without a generation (a remote store) are kept.
REMOTE_FRESHNESS = 300.0


class StatisticsPendingError(DiplographError):
    """The dataset is still being counted (503, with Retry-After): ask again shortly."""

    status = 503
    retry_after = 5


class VoidCache(Generic[T]):
    """The last numbers ``count`` gave for a store, and the count under way, if any."""

    def __init__(self, count: Callable[[], T]) -> None:
        self._count = count
        self._lock = threading.Lock()
        #: the version counted (the store's generation, or None), when, and the count itself
        self._version: int | None = None
        self._at = 0.0
        self._future: Future[T] | None = None

    def _fresh(self, store: Store) -> bool:
        assert self._future is not None
        if store.generation is not None:
            return self._version == store.generation
        return time.monotonic() - self._at < REMOTE_FRESHNESS

    def future(self, store: Store) -> Future[T]:
        """The numbers of ``store`` as it is now: kept ones, the count under way, or a new
        count started on a thread of its own."""
        with self._lock:
            if self._future is not None:
                running = not self._future.done()
                failed = not running and self._future.exception() is not None
                if running or (self._fresh(store) and not failed):
                    # A count under way for an older version is awaited rather than doubled:
                    # the next request after it ends starts the one for the new version.
                    return self._future
            self._version, self._at = store.generation, time.monotonic()
            future: Future[T] = Future()
            future.set_running_or_notify_cancel()
            self._future = future

        def run() -> None:
            try:
                future.set_result(self._count())
            except BaseException as exc:  # handed to the requests awaiting the count
                future.set_exception(exc)

        threading.Thread(target=run, name="void-count", daemon=True).start()
        return future

    async def get(self, store: Store, timeout: float) -> T:
        """The numbers, waiting for them at most ``timeout`` seconds.

        Raises :class:`StatisticsPendingError` when the count takes longer; it goes on."""
        future = self.future(store)
        try:
            with anyio.fail_after(timeout):
                # shield: a request that gives up must not cancel the count for the next one
                return await asyncio.shield(asyncio.wrap_future(future))
        except TimeoutError:
            raise StatisticsPendingError(
                f"counting the dataset for the VoID description takes longer than the "
                f"{timeout:g} s query timeout; the count goes on: ask again in a few seconds"
            ) from None
