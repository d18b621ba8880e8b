"""Running queries on workers, with a deadline, a row cap and a fair queue, streaming the answer.

Why it is built this way (measured with pyoxigraph 0.5.13):

* ``Store.query`` has **no timeout and no cancellation**. Evaluation releases the GIL, so other
  threads (the event loop, other queries) keep running while a query computes.
* Results are **lazy** for most queries: each ``next()`` on the result computes up to the next
  solution, and when nobody asks for the next one, evaluation stops. A query with ``ORDER BY``,
  ``GROUP BY``/aggregates or ``DISTINCT`` over a huge intermediate result does all its work in the
  first ``next()``; no thread can interrupt that call.
* Result objects are **bound to the thread that created them**: a query is evaluated, iterated
  and serialized on one worker from start to end.

So a query that must be stopped for sure has to run in a process that can be killed. Two
runners share one interface (:class:`Runner`):

* :class:`diplograph.api.workers.ProcessRunner` – the on-disk store: each worker is a process
  reading a snapshot of the store (:mod:`diplograph.api.snapshot`); a query past its deadline,
  or whose client went away, has its process killed and replaced. Reads use every core.
* :class:`QueryRunner` – worker threads in this process, for the in-memory store and the remote
  store: a lazy query stops at its next row, but a single long engine call cannot be stopped;
  such a worker is counted as *overdue* until the engine returns.

What both do:

1. A query waits for a worker in a :class:`~diplograph.api.admission.FairQueue`: bounded, fair
   between clients, each client with at most ``client_limit`` queries running.
2. The worker runs a :data:`Task`: it evaluates and serializes, calling ``tick()`` once per
   solution or triple; ``tick`` raises when the deadline has passed or the row cap is exceeded,
   which stops the iteration and with it the lazy evaluation.
3. The worker hands serialized bytes to the request through a bounded channel
   (:class:`diplograph.api.streaming.Channel`; backpressure: a slow client never makes the
   server buffer a whole result). The **first chunk** is up to ``first_chunk_bytes`` (256 KiB by
   default): the HTTP status is sent only once that chunk exists, or the result ended within
   it. Therefore every timeout, row-cap or evaluation error that happens before then is answered
   with a proper error status and JSON body (503, 413, 400…), never with a 200.
4. If the deadline passes or the cap is hit **after** the 200 went out (a result larger than the
   first chunk), the server stops the query and closes the connection without finishing the
   chunked body, so every HTTP client reports an incomplete response; it never ends a truncated
   body as if it were complete. The reason is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Send

from diplograph.api.admission import ClientHistory, ClientLimitError, FairQueue, ServerBusyError
from diplograph.api.metrics import Metrics
from diplograph.api.streaming import END, Cancelled, Channel, StreamAborted, Whole
from diplograph.loader.errors import (
    DiplographError,
    InputError,
    QueryTimeoutError,
    ResultTooLargeError,
    StoreError,
)
from diplograph.loader.store import Store

__all__ = [
    "HEAVY_SECONDS",
    "ClientLimitError",
    "QueryFailedError",
    "QueryRunner",
    "ResultStream",
    "Runner",
    "ServerBusyError",
    "StreamAborted",
    "StreamedResult",
    "Task",
    "Tick",
    "chunked",
]

log = logging.getLogger(__name__)

#: A query that has run this long is heavy (default ``heavy_seconds``): its process gets the CPU
#: only when no other wants it (api.workers), and its client's next queries queue behind those
#: of clients whose last query was quick (api.admission).
HEAVY_SECONDS = 0.25

#: Called by a task once per solution or triple; raises to stop the query.
Tick = Callable[[], None]
#: A read run by a worker: given the store and ``tick``, it yields its media type (a ``str``)
#: first, then the serialized result (``bytes``). Tasks for the process runner must pickle: a
#: module-level class or function with plain data, never a closure over the store.
Task = Callable[[Store, Tick], Iterator[str | bytes]]


class QueryFailedError(InputError):
    """The engine stopped the query with an evaluation error (400)."""


def timeout_error(timeout: float, detail: str = "") -> QueryTimeoutError:
    return QueryTimeoutError(
        f"the query ran past the {timeout:g} s timeout and was stopped{detail}"
    )


def check_row(rows: int, max_rows: int | None) -> None:
    """Raise :class:`ResultTooLargeError` when ``rows`` is over the cap."""
    if max_rows is not None and rows > max_rows:
        raise ResultTooLargeError(
            f"the result has more than {max_rows} rows, the limit of this server; "
            "add a LIMIT (and OFFSET to page), or narrow the query"
        )


def chunked(
    pieces: Iterable[str | bytes], first_bytes: int, chunk_bytes: int
) -> Iterator[str | bytes]:
    """A task's output regrouped: the media type as it comes, then a first chunk of at least
    ``first_bytes`` (or all there is), then chunks of at least ``chunk_bytes``; at least one
    chunk, possibly empty."""
    buffer = bytearray()
    sent = False
    for piece in pieces:
        if isinstance(piece, str):
            yield piece
            continue
        buffer += piece
        if len(buffer) >= (chunk_bytes if sent else first_bytes):
            yield bytes(buffer)
            buffer.clear()
            sent = True
    if buffer or not sent:
        yield bytes(buffer)


@dataclass(eq=False)
class _Job:
    id: int
    label: str
    task: Task
    deadline: float
    timeout: float
    max_rows: int | None
    deadline_mid_stream: bool
    channel: Channel
    client: str
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    rows: int = 0
    streaming: bool = False
    media_type: str = "application/octet-stream"
    #: Called (on the event loop) when the request gives up on the job: wakes a worker that
    #: waits on the loop rather than on a thread (api.workers).
    waker: Callable[[], None] | None = None

    def cancel(self) -> None:
        self.channel.close()
        if self.waker is not None:
            self.waker()

    def tick(self) -> None:
        self.rows += 1
        if self.channel.closed.is_set():
            raise Cancelled
        if (self.deadline_mid_stream or not self.streaming) and time.monotonic() > self.deadline:
            raise timeout_error(self.timeout)
        check_row(self.rows, self.max_rows)


class ResultStream:
    """A query whose first chunk is ready: the rest is read with :meth:`chunks`."""

    def __init__(self, job: _Job, first: bytes, ended: bool) -> None:
        self._job = job
        self.first = first
        self._ended = ended

    @property
    def media_type(self) -> str:
        """The media type the task chose (the first thing it yielded)."""
        return self._job.media_type

    @property
    def whole(self) -> bytes | None:
        """The whole result when it fit in the first chunk (the query has finished), else None."""
        return self.first if self._ended else None

    def cancel(self) -> None:
        """Stop the query (no-op when it has finished)."""
        self._job.cancel()

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk, the first included; raises :class:`StreamAborted` on a late failure."""
        job = self._job
        try:
            if self.first:
                yield self.first
            if self._ended:
                return
            while True:
                timeout = None
                if job.deadline_mid_stream:
                    timeout = max(job.deadline - time.monotonic(), 0.0)
                try:
                    item = await job.channel.get(timeout)
                except TimeoutError:
                    raise StreamAborted(
                        f"the query ran past the {job.timeout:g} s timeout after {job.rows} rows"
                    ) from None
                if item is END:
                    return
                if isinstance(item, StreamAborted):
                    raise item
                if isinstance(item, BaseException):
                    raise StreamAborted(str(item))
                assert isinstance(item, bytes)
                yield item
        finally:
            job.cancel()


class StreamedResult(StreamingResponse):
    """A 200 response whose body is a :class:`ResultStream`.

    A failure after the status went out (:class:`StreamAborted`) ends the response without its
    final chunk: the server closes the connection and the client sees an incomplete body.
    """

    def __init__(
        self,
        stream: ResultStream,
        media_type: str,
        headers: dict[str, str] | None = None,
        label: str = "query",
    ) -> None:
        super().__init__(stream.chunks(), media_type=media_type, headers=headers)
        self._stream = stream
        self._label = label

    async def stream_response(self, send: Send) -> None:
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code,
                 "headers": self.raw_headers}
            )  # fmt: skip
            try:
                async for chunk in self.body_iterator:
                    body = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
            except StreamAborted as exc:
                log.warning("%s: response aborted after its status was sent: %s", self._label, exc)
                return  # incomplete on purpose: the server drops the connection
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._stream.cancel()


class Runner:
    """What both runners share: the fair queue, waiting for the first chunk, status, metrics.

    ``first_chunk_bytes`` is how much output must exist before the status is sent (see the
    module docstring); ``chunk_bytes`` the size of later chunks; ``buffer_chunks`` how many chunks
    may wait for a slow client before the worker pauses. A worker never waits for a client past
    the query's deadline (or, for streams without one, ``stall_timeout`` seconds without the
    client taking a chunk): a client that stops reading cannot hold a worker.

    ``client_limit`` queries of one client run at once (default: every worker but one), with
    ``client_waiting`` more waiting; ``waiting`` queries wait in all (see
    :mod:`diplograph.api.admission`). A query that has run ``heavy_seconds`` is heavy.
    """

    def __init__(
        self,
        workers: int = 4,
        *,
        first_chunk_bytes: int = 256 * 1024,
        chunk_bytes: int = 64 * 1024,
        buffer_chunks: int = 4,
        stall_timeout: float = 60.0,
        client_limit: int | None = None,
        client_waiting: int = 16,
        waiting: int = 64,
        heavy_seconds: float = HEAVY_SECONDS,
    ) -> None:
        if workers < 1:
            raise ValueError("a query runner needs at least one worker")
        self.workers = workers
        self.heavy_seconds = heavy_seconds
        self.first_chunk_bytes = first_chunk_bytes
        self.chunk_bytes = chunk_bytes
        self.buffer_chunks = buffer_chunks
        self.stall_timeout = stall_timeout
        self.metrics = Metrics()
        self.history = ClientHistory()
        self.queue: FairQueue[_Job] = FairQueue(
            client_limit=client_limit or max(1, workers - 1),
            client_waiting=client_waiting,
            waiting=waiting,
            client_of=lambda job: job.client,
            dropped=lambda job: job.channel.closed.is_set(),
            rank=self.history.rank,
        )
        self._lock = threading.Lock()
        self._running: set[_Job] = set()
        self._ids = itertools.count(1)
        self._closed = False
        self._store: Store | None = None

    # --- set-up, by the app --------------------------------------------------------------------

    def bind(self, store: Store, metrics: Metrics | None = None) -> None:
        """Serve ``store``; count into ``metrics`` (the app's) when given."""
        self._store = store
        if metrics is not None:
            self.metrics = metrics

    def refresh(self) -> None:
        """A write has committed: queries that start from now on must see it (see subclasses)."""

    def warm(self) -> None:
        """Start the workers now rather than at the first query."""
        self._ensure_workers()

    # --- request side ------------------------------------------------------------------------

    async def start(
        self,
        task: Task,
        *,
        timeout: float,
        max_rows: int | None,
        label: str = "query",
        deadline_mid_stream: bool = True,
        started: float | None = None,
        client: str = "-",
    ) -> ResultStream:
        """Run ``task`` on a worker and wait for its first chunk.

        Raises the task's :class:`DiplographError` (a syntax error, the row cap…),
        :class:`QueryTimeoutError` when no first chunk exists by the deadline (``started`` +
        ``timeout``), :class:`ClientLimitError` or :class:`ServerBusyError` when the queue
        refuses the query.
        """
        begin = time.monotonic() if started is None else started
        try:
            stream = await self._start(
                task, timeout, max_rows, label, deadline_mid_stream, begin, client
            )
        except DiplographError as exc:
            if isinstance(exc, QueryTimeoutError):
                self.metrics.timeout()
            elif isinstance(exc, ClientLimitError):
                self.metrics.rejected("client_limit")
            elif isinstance(exc, ServerBusyError):
                self.metrics.rejected("busy")
            self.metrics.query(exc.status, time.monotonic() - begin)
            raise
        self.metrics.query(200, time.monotonic() - begin)
        return stream

    async def _start(
        self,
        task: Task,
        timeout: float,
        max_rows: int | None,
        label: str,
        deadline_mid_stream: bool,
        begin: float,
        client: str,
    ) -> ResultStream:
        if self._closed:
            raise StoreError("the server is shutting down")
        self._ensure_workers()
        self._refuse_when_stuck()
        job = _Job(
            id=next(self._ids),
            label=label,
            task=task,
            deadline=begin + timeout,
            timeout=timeout,
            max_rows=max_rows,
            deadline_mid_stream=deadline_mid_stream,
            channel=self._channel(asyncio.get_running_loop()),
            client=client,
        )
        self.queue.put(job)
        self._submitted()
        try:
            first = await job.channel.get(max(job.deadline - time.monotonic(), 0.0))
        except TimeoutError:
            job.cancel()
            log.warning("%s #%d: no answer within %g s; stopped", label, job.id, timeout)
            detail = "; no result was sent. Narrow the query or add a LIMIT."
            raise timeout_error(timeout, detail) from None
        except BaseException:
            job.cancel()
            raise
        if isinstance(first, DiplographError):
            raise first
        if isinstance(first, BaseException):  # pragma: no cover - the worker wraps everything
            raise StoreError(f"the query failed: {first}")
        if isinstance(first, Whole) or first is END:  # the only chunk and the end, or the end
            return ResultStream(job, first.body if isinstance(first, Whole) else b"", ended=True)
        assert isinstance(first, bytes)
        job.streaming = True
        if len(first) < self.first_chunk_bytes:
            # A first chunk below the threshold is the whole result: the worker sends END
            # right after it. Taking that here lets the caller answer with a plain response.
            try:
                end = await job.channel.get(max(job.deadline - time.monotonic(), 0.0))
            except TimeoutError:
                job.cancel()
                raise timeout_error(timeout) from None
            except BaseException:
                job.cancel()
                raise
            if end is END:
                return ResultStream(job, first, ended=True)
            job.cancel()
            if isinstance(end, DiplographError):
                raise end
            raise StoreError(f"the query worker sent {type(end).__name__} after a short result")
        return ResultStream(job, first, ended=False)

    def _refuse_when_stuck(self) -> None:
        """Refuse at once when no worker will be free before the query's deadline."""

    def _submitted(self) -> None:
        """A job was queued (called on the event loop)."""

    def _channel(self, loop: asyncio.AbstractEventLoop) -> Channel:
        """The channel a job's worker hands its output over with."""
        return Channel(loop, self.buffer_chunks)

    def _ensure_workers(self) -> None:
        raise NotImplementedError

    # --- status and shutdown -----------------------------------------------------------------

    def overdue(self) -> int:
        """How many workers are still evaluating a query whose deadline has passed."""
        now = time.monotonic()
        with self._lock:
            return sum(1 for job in self._running if now > job.deadline)

    def status(self) -> dict[str, Any]:
        """Workers by state and queued queries (for ``/health`` and ``/metrics``).

        ``available`` is how many workers could take a query now; ``killed`` how many worker
        processes were killed and replaced so far.
        """
        overdue = self.overdue()
        with self._lock:
            busy = len(self._running)
        return {
            "kind": self.kind,
            "workers": self.workers,
            "busy": busy,
            "overdue": overdue,
            "available": max(self.workers - busy - self._unavailable(), 0),
            "queued": self.queue.queued(),
            "killed": self.metrics.killed_workers,
            "killable": self.killable,
            **({"note": self.note} if self.note else {}),
        }

    #: ``threads`` or ``processes``; whether a query past its deadline is stopped for sure (its
    #: process killed); why this runner serves instead of the one meant (``/health``), or None.
    kind, killable = "threads", False
    note: str | None = None

    def _unavailable(self) -> int:
        """Idle workers that cannot take a query (a process still starting)."""
        return 0

    def close(self) -> None:
        """Stop taking queries and cancel running ones."""
        self._closed = True
        with self._lock:
            for job in self._running:
                job.cancel()
        self.queue.close()

    # --- worker side helpers -----------------------------------------------------------------

    def _begin(self, job: _Job) -> bool:
        """A worker took ``job``: False when it must not run (cancelled, or too late)."""
        if job.channel.closed.is_set():
            return False
        job.started = time.monotonic()
        if job.started > job.deadline:
            self._hand_over(job, timeout_error(job.timeout, " while it waited for a worker"))
            return False
        with self._lock:
            self._running.add(job)
        return True

    def _end(self, job: _Job) -> None:
        with self._lock:
            self._running.discard(job)
        ran = time.monotonic() - (job.started or time.monotonic())
        self.history.record(job.client, ran > self.heavy_seconds)
        self.queue.done(job)

    def _give_up_at(self, job: _Job) -> float:
        """Until when the worker waits for a slow client to take the next chunk."""
        if job.deadline_mid_stream:
            return job.deadline
        return time.monotonic() + self.stall_timeout

    @staticmethod
    def _hand_over(job: _Job, exc: DiplographError) -> None:
        # Drop the traceback: its frames hold engine objects that must not cross threads.
        exc.__traceback__ = None
        exc.__context__ = None
        exc.__cause__ = None
        with contextlib.suppress(Cancelled):
            job.channel.put(exc, time.monotonic() + 5.0)


class QueryRunner(Runner):
    """Worker threads in this process (the in-memory and the remote store).

    A lazy query stops at its next row; a single long engine call cannot be stopped, and its
    worker is *overdue* until the engine returns. When every worker is overdue, a new query is
    refused at once with 503 instead of waiting for a worker that may never come.
    """

    def __init__(self, workers: int = 4, **options: Any) -> None:
        super().__init__(workers, **options)
        self._threads: list[threading.Thread] = []

    def _refuse_when_stuck(self) -> None:
        if self.overdue() >= self.workers:
            raise ServerBusyError(
                f"all {self.workers} query workers are still busy with queries that ran past "
                "their timeout; try again later"
            )

    def _ensure_workers(self) -> None:
        with self._lock:
            while len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work,
                    name=f"diplograph-query-{len(self._threads) + 1}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            job = self.queue.take()
            if job is None:
                return
            if not self._begin(job):
                self.queue.done(job)
                continue
            try:
                self._run(job)
            finally:
                self._end(job)
                late = time.monotonic() - job.deadline
                if late > 0:
                    log.warning(
                        "%s #%d: the worker was busy %.2f s past the deadline", job.label, job.id,
                        late,
                    )  # fmt: skip

    def _run(self, job: _Job) -> None:
        if self._store is None:
            raise RuntimeError("the query runner was not bound to a store")
        produced = job.task(self._store, job.tick)
        try:
            for piece in chunked(produced, self.first_chunk_bytes, self.chunk_bytes):
                if isinstance(piece, str):
                    job.media_type = piece
                    continue
                job.channel.put(piece, self._give_up_at(job))
                job.streaming = True
            job.channel.put(END, self._give_up_at(job))
        except Cancelled:
            pass
        except DiplographError as exc:
            self._hand_over(job, exc)
        except RuntimeError as exc:  # pyoxigraph's evaluation errors are the query's fault
            self._hand_over(job, QueryFailedError(f"the query failed while running: {exc}"))
        except Exception as exc:
            log.exception("%s #%d failed", job.label, job.id)
            self._hand_over(job, StoreError(f"the query failed: {type(exc).__name__}: {exc}"))
        finally:
            # Result objects must die on the thread that made them: close the generator here.
            close = getattr(produced, "close", None)
            if close is not None:
                close()
