"""Which query runs next: a bounded queue, fair between clients.

Every query waits here for a worker. Each client (the address a request comes from) has a queue
of its own and may have at most ``client_limit`` queries running; the workers take queries from
the clients in turn, so one client that sends many queries cannot hold every worker while others
wait. The queue is bounded twice:

* a client with ``client_waiting`` queries already waiting is refused with 429
  (:class:`ClientLimitError`);
* when ``waiting`` queries wait in all, any new one is refused with 503
  (:class:`ServerBusyError`).

Both refusals carry ``Retry-After``. A query that left the queue (its deadline passed, its client
went away) is skipped, never run.

Clients may be *ranked* (``rank``: lower goes first): the query runners put the clients whose
last query was quick before the clients they do not know, and those before the clients whose
last query was heavy, so that while heavy queries from many clients saturate the workers, the
clients that ask cheap questions still get the next free worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from diplograph.loader.errors import DiplographError

__all__ = ["ClientHistory", "ClientLimitError", "FairQueue", "ServerBusyError"]

J = TypeVar("J")


class ServerBusyError(DiplographError):
    """No worker can take the query now and the queue is full (503, with Retry-After)."""

    status = 503
    retry_after = 1


class ClientLimitError(DiplographError):
    """This client already has as many queries running and waiting as it may (429)."""

    status = 429
    retry_after = 1


class FairQueue(Generic[J]):
    """Per-client queues taken in turn, each client with at most ``client_limit`` running.

    ``client_of`` names a job's client and ``dropped`` says that a job no longer wants to run.
    Thread-safe: requests put on the event loop, workers take on their threads.
    """

    def __init__(
        self,
        *,
        client_limit: int,
        client_waiting: int,
        waiting: int,
        client_of: Callable[[J], str],
        dropped: Callable[[J], bool],
        rank: Callable[[str], int] | None = None,
    ) -> None:
        if client_limit < 1:
            raise ValueError("each client must be allowed at least one running query")
        self.client_limit = client_limit
        self.client_waiting = client_waiting
        self.waiting = waiting
        self._client_of = client_of
        self._dropped = dropped
        self._rank = rank
        self._cond = threading.Condition()
        self._queues: dict[str, deque[J]] = {}  # insertion order is the turn order
        self._running: dict[str, int] = {}
        self._takers = 0  # threads waiting in take(): only they need a notify
        self._closed = False

    def put(self, job: J) -> None:
        """Queue ``job``, or refuse it (:class:`ClientLimitError`, :class:`ServerBusyError`)."""
        client = self._client_of(job)
        with self._cond:
            self._prune()
            mine = self._queues.get(client)
            if mine is not None and len(mine) >= self.client_waiting:
                raise ClientLimitError(
                    f"this client already has {self._running.get(client, 0)} queries running "
                    f"and {len(mine)} waiting, the most this server allows; wait for them"
                )
            if self.queued() >= self.waiting:
                raise ServerBusyError(
                    f"{self.queued()} queries are waiting for a worker, the most this server "
                    "queues; try again shortly"
                )
            self._queues.setdefault(client, deque()).append(job)
            if self._takers:
                self._cond.notify()

    def take(self) -> J | None:
        """Wait for the next job that may run (None once the queue is closed)."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                job = self._next()
                if job is not None:
                    return job
                self._takers += 1
                try:
                    self._cond.wait()
                finally:
                    self._takers -= 1

    def take_nowait(self) -> J | None:
        """The next job that may run now, or None (never waits)."""
        if not self._queues:  # nothing waits: the common case of a dispatch after a query
            return None
        with self._cond:
            return None if self._closed else self._next()

    def done(self, job: J) -> None:
        """A job taken with :meth:`take` has finished: its client may run another."""
        client = self._client_of(job)
        with self._cond:
            left = self._running.get(client, 0) - 1
            if left > 0:
                self._running[client] = left
            else:
                self._running.pop(client, None)
            if self._takers:
                self._cond.notify_all()

    def queued(self) -> int:
        """Jobs waiting, over all clients."""
        return sum(len(q) for q in self._queues.values())

    def runnable(self) -> int:
        """Waiting jobs that a free worker could take now (their clients under the limit)."""
        with self._cond:
            return sum(
                min(len(waiting), max(self.client_limit - self._running.get(client, 0), 0))
                for client, waiting in self._queues.items()
            )

    def running(self, client: str) -> int:
        """Jobs of ``client`` taken and not done."""
        with self._cond:
            return self._running.get(client, 0)

    def close(self) -> None:
        """Wake every waiting worker; :meth:`take` returns None from now on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _next(self) -> J | None:
        self._prune()
        turns: Iterable[tuple[str, deque[J]]] = self._queues.items()
        if self._rank is not None and len(self._queues) > 1:
            rank = self._rank  # lower ranks first; the turn order within a rank
            turns = sorted(turns, key=lambda turn: rank(turn[0]))
        for client, waiting in turns:  # (returns as soon as it changes the queues)
            if self._running.get(client, 0) >= self.client_limit:
                continue
            job = waiting.popleft()
            # This client's turn is over: it goes to the end of the line.
            del self._queues[client]
            if waiting:
                self._queues[client] = waiting
            self._running[client] = self._running.get(client, 0) + 1
            return job
        return None

    def _prune(self) -> None:
        emptied = []
        for client, waiting in self._queues.items():
            while waiting and self._dropped(waiting[0]):
                waiting.popleft()
            if not waiting:
                emptied.append(client)
        for client in emptied:
            del self._queues[client]


class ClientHistory:
    """Whether each client's last query was heavy, for the last ``size`` clients; a
    :class:`FairQueue` ``rank``: 0 quick, 1 unknown, 2 heavy."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._heavy: OrderedDict[str, bool] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, client: str, heavy: bool) -> None:
        with self._lock:
            self._heavy[client] = heavy
            self._heavy.move_to_end(client)
            while len(self._heavy) > self.size:
                self._heavy.popitem(last=False)

    def rank(self, client: str) -> int:
        heavy = self._heavy.get(client)
        return 1 if heavy is None else 2 if heavy else 0
