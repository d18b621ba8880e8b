"""Handing bytes made on a worker thread to a response on the event loop, with backpressure.

Serializing a large result or dump blocks, so it runs on a thread; the response that sends it
runs on the event loop. Between the two sits a :class:`Channel`: bounded (a slow client never
makes the server buffer a whole result), closable from the request side (a client that went
away stops the writer) and with a deadline on the writer's wait (a client that stops reading
cannot hold a thread for ever).

* :class:`Channel` – the hand-over itself; the query workers of
  :mod:`diplograph.api.execution` use it.
* :class:`LoopChannel` – the same hand-over when the writer is the event loop itself (the
  worker processes' relay, :mod:`diplograph.api.workers`): nothing waits on a thread.
* :class:`WriterStream` – runs a function that writes to a file object (such as a dump writer)
  on a thread of its own and streams what it writes, chunk by chunk.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import IO, Final, NamedTuple, Protocol, cast

from diplograph.loader.errors import DiplographError, StoreError

__all__ = [
    "END",
    "Cancelled",
    "Channel",
    "ChunkWriter",
    "LoopChannel",
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


class Flag(Protocol):
    """What a channel's ``closed`` offers: a :class:`threading.Event`'s ``is_set`` and ``set``."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...


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
        self.closed: Flag = threading.Event()

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


class _LoopFlag:
    """A flag set and read on the event loop alone (a :class:`threading.Event` costs a lock
    and a condition to make)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class LoopChannel(Channel):
    """A :class:`Channel` whose writer runs on the event loop, as its reader does.

    :meth:`put` never waits: the writer asks :meth:`room` first and, when there is none, awaits
    :meth:`wait_room`, which returns once the request took an item and raises
    :class:`Cancelled` when the request went away or took nothing until ``give_up_at`` (the
    request then gets a :class:`StreamAborted`, as from :meth:`Channel.put`). An item put
    without room (an error at the end of a stream) is kept all the same.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._capacity = capacity
        self._queue: deque[object] = deque()
        self._getter: asyncio.Future[None] | None = None
        self._putter: asyncio.Future[None] | None = None
        self.closed = _LoopFlag()

    def room(self) -> bool:
        """Whether an item put now waits within the capacity."""
        return len(self._queue) < self._capacity

    def put(self, item: object, give_up_at: float | None = None) -> None:
        """Hand ``item`` over at once (:class:`Cancelled` when the request went away)."""
        if self.closed.is_set():
            raise Cancelled
        self._queue.append(item)
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def wait_room(self, give_up_at: float | None) -> None:
        """Wait until an item may be put within the capacity (see the class docstring)."""
        while len(self._queue) >= self._capacity:
            if self.closed.is_set():
                raise Cancelled
            if give_up_at is not None and time.monotonic() > give_up_at:
                self.closed.set()
                self._queue.append(
                    StreamAborted("the client stopped reading; the writer was stopped")
                )
                self._wake_getter()
                raise Cancelled
            await self._wait("_putter", give_up_at)
        if self.closed.is_set():
            raise Cancelled

    async def get(self, timeout: float | None) -> object:
        """Request side: the next item, waiting at most ``timeout`` seconds (TimeoutError)."""
        if not self._queue:
            at = None if timeout is None else time.monotonic() + timeout
            await self._wait("_getter", at)
            if not self._queue:
                raise TimeoutError
        item = self._queue.popleft()
        putter = self._putter
        if putter is not None and not putter.done():
            putter.set_result(None)
        return item

    def close(self) -> None:
        """Request side: stop the writer (a writer waiting for room raises :class:`Cancelled`)."""
        self.closed.set()
        putter = self._putter
        if putter is not None and not putter.done():
            putter.set_result(None)

    async def _wait(self, side: str, until: float | None) -> None:
        """Wait for the other side (``side``: the future it completes), at most ``until``."""
        waiter = self._loop.create_future()
        setattr(self, side, waiter)
        timer = None
        if until is not None:
            timer = self._loop.call_later(max(until - time.monotonic(), 0.0), _expire, waiter)
        try:
            await waiter
        finally:
            setattr(self, side, None)
            if timer is not None:
                timer.cancel()

    def _wake_getter(self) -> None:
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)


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
