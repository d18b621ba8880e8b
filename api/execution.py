"""Running queries on worker threads, with a deadline and a row cap, streaming the answer.

Why it is built this way (measured with pyoxigraph 0.5.13):

* ``Store.query`` has **no timeout and no cancellation**. Evaluation releases the GIL, so other
  threads (the event loop, other queries) keep running while a query computes.
* Results are **lazy** for most queries: each ``next()`` on the result computes up to the next
  solution, and when nobody asks for the next one, evaluation stops. A query with ``ORDER BY``,
  ``GROUP BY``/aggregates or ``DISTINCT`` over a huge intermediate result does all its work in the
  first ``next()``; that one call cannot be interrupted.
* Result objects are **bound to the thread that created them**: iterating them from another thread
  aborts the process (pyo3 "unsendable" assertion). So a query is evaluated, iterated and
  serialized on one worker thread from start to end.

The design that follows:

1. Every query runs on a :class:`QueryRunner` worker: a fixed number of daemon threads
   (``workers``). Nothing blocking runs on the event loop.
2. The worker evaluates and serializes; it calls ``tick()`` once per solution or triple, which
   raises when the deadline has passed, the row cap is exceeded or the client went away. Raising
   there stops the iteration, and with it the lazy evaluation.
3. The worker hands serialized bytes to the request through a bounded channel
   (:class:`diplograph.api.streaming.Channel`; backpressure: a slow client never makes the
   server buffer a whole result). The **first chunk** is up to
   ``first_chunk_bytes`` (256 KiB by default): the HTTP status is sent only once that chunk exists,
   or the result ended within it. Therefore every timeout, row-cap or evaluation error that happens
   before then is answered with a proper error status and JSON body (503, 413, 400…), never with
   a 200.
4. If the deadline passes or the cap is hit **after** the 200 went out (a result larger than the
   first chunk), the server stops the query and closes the connection without finishing the
   chunked body, so every HTTP client reports an incomplete response; it never ends a truncated
   body as if it were complete. The reason is logged.

What is **not** guaranteed: a single ``next()`` that runs long (an aggregate over a cross join)
cannot be stopped. The request gets its 503 at the deadline, but that worker stays busy until the
engine returns; such workers are counted as *overdue* (``/health`` shows them). The damage is
bounded: at most ``workers`` queries evaluate at once, and when every worker is overdue new
queries are refused at once with 503 instead of queueing forever. Other routes (``/health``,
linked data, the page) do not use these workers and keep answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field

from starlette.responses import StreamingResponse
from starlette.types import Send

from diplograph.api.streaming import END, Cancelled, Channel, StreamAborted
from diplograph.loader.errors import (
    DiplographError,
    InputError,
    QueryTimeoutError,
    ResultTooLargeError,
    StoreError,
)

__all__ = [
    "Produce",
    "QueryFailedError",
    "QueryRunner",
    "ResultStream",
    "ServerBusyError",
    "StreamAborted",
    "StreamedResult",
    "Tick",
]

log = logging.getLogger(__name__)

#: Called by a producer once per solution or triple; raises to stop the query.
Tick = Callable[[], None]
#: Runs on a worker thread: evaluates, then yields serialized bytes, calling ``tick`` per row.
Produce = Callable[[Tick], Generator[bytes, None, None]]


class ServerBusyError(DiplographError):
    """Every query worker is still busy with queries that ran past their deadline."""

    status = 503


class QueryFailedError(InputError):
    """The engine stopped the query with an evaluation error (400)."""


@dataclass(eq=False)
class _Job:
    id: int
    label: str
    produce: Produce
    deadline: float
    timeout: float
    max_rows: int | None
    deadline_mid_stream: bool
    channel: Channel
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    rows: int = 0
    streaming: bool = False

    def cancel(self) -> None:
        self.channel.close()

    def tick(self) -> None:
        self.rows += 1
        if self.channel.closed.is_set():
            raise Cancelled
        if (self.deadline_mid_stream or not self.streaming) and time.monotonic() > self.deadline:
            raise QueryTimeoutError(
                f"the query ran past the {self.timeout:g} s timeout and was stopped"
            )
        if self.max_rows is not None and self.rows > self.max_rows:
            raise ResultTooLargeError(
                f"the result has more than {self.max_rows} rows, the limit of this server; "
                "add a LIMIT (and OFFSET to page), or narrow the query"
            )


class ResultStream:
    """A query whose first chunk is ready: the rest is read with :meth:`chunks`."""

    def __init__(self, job: _Job, first: bytes, ended: bool) -> None:
        self._job = job
        self.first = first
        self._ended = ended

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


class QueryRunner:
    """A fixed set of worker threads that run queries with a deadline and a row cap.

    ``first_chunk_bytes`` is how much output must exist before the status is sent (see the
    module docstring); ``chunk_bytes`` the size of later chunks; ``buffer_chunks`` how many chunks
    may wait for a slow client before the worker pauses. A worker never waits for a client past
    the query's deadline (or, for streams without one, ``stall_timeout`` seconds without the
    client taking a chunk): a client that stops reading cannot hold a worker.
    """

    def __init__(
        self,
        workers: int = 4,
        *,
        first_chunk_bytes: int = 256 * 1024,
        chunk_bytes: int = 64 * 1024,
        buffer_chunks: int = 4,
        stall_timeout: float = 60.0,
    ) -> None:
        if workers < 1:
            raise ValueError("a query runner needs at least one worker")
        self.workers = workers
        self.first_chunk_bytes = first_chunk_bytes
        self.chunk_bytes = chunk_bytes
        self.buffer_chunks = buffer_chunks
        self.stall_timeout = stall_timeout
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running: set[_Job] = set()
        self._queued = 0
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._closed = False

    # --- request side ------------------------------------------------------------------------

    async def start(
        self,
        produce: Produce,
        *,
        timeout: float,
        max_rows: int | None,
        label: str = "query",
        deadline_mid_stream: bool = True,
        started: float | None = None,
    ) -> ResultStream:
        """Run ``produce`` on a worker and wait for its first chunk.

        Raises the producer's :class:`DiplographError` (a syntax error, the row cap…),
        :class:`QueryTimeoutError` when no first chunk exists by the deadline (``started`` +
        ``timeout``), or :class:`ServerBusyError` when every worker is overdue.
        """
        if self._closed:
            raise StoreError("the server is shutting down")
        self._ensure_threads()
        begin = time.monotonic() if started is None else started
        if self.overdue() >= self.workers:
            raise ServerBusyError(
                f"all {self.workers} query workers are still busy with queries that ran past "
                "their timeout; try again later"
            )
        job = _Job(
            id=next(self._ids),
            label=label,
            produce=produce,
            deadline=begin + timeout,
            timeout=timeout,
            max_rows=max_rows,
            deadline_mid_stream=deadline_mid_stream,
            channel=Channel(asyncio.get_running_loop(), self.buffer_chunks),
        )
        with self._lock:
            self._queued += 1
        self._jobs.put(job)
        try:
            first = await job.channel.get(max(job.deadline - time.monotonic(), 0.0))
        except TimeoutError:
            job.cancel()
            log.warning("%s #%d: no answer within %g s; stopped", label, job.id, timeout)
            raise QueryTimeoutError(
                f"the query ran past the {timeout:g} s timeout and was stopped; "
                "no result was sent. Narrow the query or add a LIMIT."
            ) from None
        except BaseException:
            job.cancel()
            raise
        if isinstance(first, DiplographError):
            raise first
        if isinstance(first, BaseException):  # pragma: no cover - the worker wraps everything
            raise StoreError(f"the query failed: {first}")
        if first is END:
            return ResultStream(job, b"", ended=True)
        assert isinstance(first, bytes)
        job.streaming = True
        if len(first) < self.first_chunk_bytes:
            # A first chunk below the threshold is the whole result: the worker sends END
            # right after it. Taking that here lets the caller answer with a plain response.
            try:
                end = await job.channel.get(max(job.deadline - time.monotonic(), 0.0))
            except TimeoutError:
                job.cancel()
                raise QueryTimeoutError(
                    f"the query ran past the {timeout:g} s timeout and was stopped"
                ) from None
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

    # --- status and shutdown -----------------------------------------------------------------

    def overdue(self) -> int:
        """How many workers are still evaluating a query whose deadline has passed."""
        now = time.monotonic()
        with self._lock:
            return sum(1 for job in self._running if now > job.deadline)

    def status(self) -> dict[str, int]:
        """Workers, busy workers, overdue workers and queued queries (for ``/health``)."""
        overdue = self.overdue()
        with self._lock:
            return {
                "workers": self.workers,
                "busy": len(self._running),
                "overdue": overdue,
                "queued": self._queued,
            }

    def close(self) -> None:
        """Stop taking queries, cancel running ones and let the workers end.

        Workers are daemon threads: one stuck in the engine does not keep the process alive.
        """
        self._closed = True
        with self._lock:
            for job in self._running:
                job.cancel()
        for _ in self._threads:
            self._jobs.put(None)

    # --- worker side -------------------------------------------------------------------------

    def _ensure_threads(self) -> None:
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
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                self._queued -= 1
                self._running.add(job)
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running.discard(job)
                late = time.monotonic() - job.deadline
                if late > 0 and job.started is not None:
                    log.warning(
                        "%s #%d: the worker was busy %.2f s past the deadline", job.label, job.id,
                        late,
                    )  # fmt: skip

    def _run(self, job: _Job) -> None:
        if job.channel.closed.is_set():
            return
        job.started = time.monotonic()
        if job.started > job.deadline:
            self._hand_over(job, QueryTimeoutError("the query waited past its timeout"))
            return
        produced = job.produce(job.tick)
        try:
            buffer = bytearray()
            sent = False
            for piece in produced:
                buffer += piece
                if len(buffer) >= (self.chunk_bytes if sent else self.first_chunk_bytes):
                    job.channel.put(bytes(buffer), self._give_up_at(job))
                    buffer.clear()
                    sent = job.streaming = True
            if buffer or not sent:
                job.channel.put(bytes(buffer), self._give_up_at(job))
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
            produced.close()

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
