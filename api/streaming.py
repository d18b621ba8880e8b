"""Handing bytes made on a worker thread to a response on the event loop, with backpressure.

Serializing a large result or dump blocks, so it runs on a thread; the response that sends it
runs on the event loop. Between the two sits a :class:`Channel`: bounded (a slow client never
makes the server buffer a whole result), closable from the request side (a client that went
away stops the writer) and with a deadline on the writer's wait (a client that stops reading
cannot hold a thread for ever).

* :class:`Channel` – the hand-over itself; the query workers of
  :mod:`diplograph.api.execution` use it.
* :class:`WriterStream` – runs a function that writes to a file object (such as a dump writer)
  on a thread of its own and streams what it writes, chunk by chunk.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import IO, Final, NamedTuple, cast

from diplograph.loader.errors import DiplographError, StoreError

__all__ = [
    "END",
    "Cancelled",
    "Channel",
    "ChunkWriter",
    "StreamAborted",
    "Whole",
    "WriterStream",
]

log = logging.getLogger(__name__)

#: Put on a channel after the last chunk.
END: Final = object()


class Whole(NamedTuple):
    """A whole result handed over as one item: its only chunk and :data:`END` at once (a
    small result, the cheap lookup's case: one hand-over instead of two)."""

    body: bytes


class StreamAborted(Exception):
    """The result failed after its 200 status was sent; the connection must be dropped."""


class Cancelled(Exception):
    """The request went away or timed out; the writer stops quietly."""


class Channel:
    """A bounded hand-over of items from one worker thread to one request on the event loop.

    Items are chunks (bytes), an exception, :data:`END`, or a :class:`Whole` result (the
    first item, and the last). ``capacity`` items may wait for
    the request; the writer then waits for room.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, capacity: int, *, poll_seconds: float = 0.05
    ) -> None:
        self._loop = loop
        self._items: asyncio.Queue[object] = asyncio.Queue()
        self._space = threading.Semaphore(capacity)
        self._poll = poll_seconds
        self.closed = threading.Event()

    def put(self, item: object, give_up_at: float | None = None) -> None:
        """Worker side: wait for room, then hand ``item`` over.

        Raises :class:`Cancelled` when the request went away, or when there is still no room at
        ``give_up_at`` (a ``time.monotonic()`` value): the request side then gets a
        :class:`StreamAborted` instead of the rest of the result.
        """
        while not self._space.acquire(timeout=self._poll):
            if self.closed.is_set():
                raise Cancelled
            if give_up_at is not None and time.monotonic() > give_up_at:
                self.closed.set()
                self._send(StreamAborted("the client stopped reading; the writer was stopped"))
                raise Cancelled
        if self.closed.is_set():
            raise Cancelled
        self._send(item)

    def _send(self, item: object) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:  # the event loop is gone (server shutting down)
            raise Cancelled from None

    async def get(self, timeout: float | None) -> object:
        """Request side: the next item, waiting at most ``timeout`` seconds (TimeoutError)."""
        try:
            item = self._items.get_nowait()  # already there (a small result): no waiting at all
        except asyncio.QueueEmpty:
            # A timeout scope, not wait_for: wait_for wraps the wait in a task of its own.
            async with asyncio.timeout(timeout):
                item = await self._items.get()
        self._space.release()
        return item

    def close(self) -> None:
        """Request side: stop the writer (it raises :class:`Cancelled` at its next put)."""
        self.closed.set()


class ChunkWriter:
    """A binary file-like object that hands chunks of at least ``size`` bytes to ``emit``."""

    def __init__(self, emit: Callable[[bytes], None], size: int) -> None:
        self._emit = emit
        self._size = size
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        """Buffer ``data``; hand the buffer over once it holds a chunk."""
        self._buffer += data
        if len(self._buffer) >= self._size:
            self._emit(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        """Nothing to do: chunks go out when full (a flush per write would make tiny chunks)."""

    def finish(self) -> None:
        """Hand over what is left in the buffer."""
        if self._buffer:
            self._emit(bytes(self._buffer))
            self._buffer.clear()


class WriterStream:
    """``write(file)`` run on a thread of its own, its output streamed chunk by chunk.

    The thread waits when ``buffer_chunks`` chunks wait for the client (memory stays bounded),
    stops when the client goes away, and gives up on a client that takes no chunk for
    ``stall_seconds``. :meth:`start` waits for the first chunk, so an error that happens before
    any output is raised there and answered with its proper status; an error that is not a
    :class:`DiplographError` becomes a :class:`StoreError` (``"{what} failed: …"``).
    """

    def __init__(
        self,
        write: Callable[[IO[bytes]], None],
        *,
        what: str = "the dump",
        thread_name: str = "diplograph-dump",
        chunk_bytes: int = 64 * 1024,
        buffer_chunks: int = 8,
        stall_seconds: float = 300.0,
    ) -> None:
        self._write = write
        self._what = what
        self._thread_name = thread_name
        self._chunk_bytes = chunk_bytes
        self._stall = stall_seconds
        self._channel = Channel(asyncio.get_running_loop(), buffer_chunks)
        self._first = b""
        self._ended = False

    def _emit(self, chunk: bytes) -> None:
        self._channel.put(chunk, time.monotonic() + self._stall)

    def _run(self) -> None:
        writer = ChunkWriter(self._emit, self._chunk_bytes)
        try:
            self._write(cast(IO[bytes], writer))
            writer.finish()
            self._channel.put(END, time.monotonic() + self._stall)
        except Cancelled:
            return
        except BaseException as exc:  # handed to the response
            exc.__traceback__ = None
            error = exc
            if not isinstance(exc, DiplographError):
                error = StoreError(f"{self._what} failed: {exc}")
            try:
                self._channel.put(error, time.monotonic() + self._stall)
            except Cancelled:
                return

    async def start(self) -> None:
        """Start the writer and wait for its first chunk; raises the writer's early error."""
        threading.Thread(target=self._run, name=self._thread_name, daemon=True).start()
        try:
            first = await self._channel.get(None)
        except BaseException:  # the request was cancelled: stop the writer
            self._channel.close()
            raise
        if isinstance(first, BaseException):
            raise first
        if first is END:
            self._ended = True
        else:
            assert isinstance(first, bytes)
            self._first = first

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk, the first included; a failure after the first chunk is raised here."""
        try:
            if self._first:
                yield self._first
            if self._ended:
                return
            while True:
                item = await self._channel.get(None)
                if item is END:
                    return
                if isinstance(item, BaseException):
                    log.warning("%s stopped mid-stream: %s", self._what, item)
                    raise item
                assert isinstance(item, bytes)
                yield item
        finally:
            self._channel.close()
