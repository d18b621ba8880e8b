"""What runs inside a query worker process (:mod:`diplograph.api.workers` drives them).

A worker process reads orders from its pipe, one at a time: ``(store class, snapshot)`` opens a
snapshot ahead of the first query, and an :class:`Order` runs a query on the newest snapshot it
names. For each order it sends back, on the same pipe:

* ``("data", media type or None, chunk, ended)`` – a chunk of the result (the media type with
  the first); ``ended`` on the first chunk says that chunk is the whole result (the cheap
  lookup's case: one message says it all);
* ``("end", None, b"", True)`` – the end of a longer result;
* ``("error", error)`` – a :class:`~diplograph.loader.errors.DiplographError` to answer with.

The process ends when its pipe closes (the server stopped, even by ``SIGKILL``) or at ``None``.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

from diplograph.api.execution import QueryFailedError, Task, check_row, timeout_error
from diplograph.api.pushed_results import Sink
from diplograph.loader.errors import DiplographError, StoreError
from diplograph.loader.store import Store

__all__ = ["Order", "read_message", "worker_main", "write_message"]

log = logging.getLogger(__name__)


class Order(NamedTuple):
    """One query, as sent to a worker process (a plain tuple on the pipe: it pickles small)."""

    task: Task
    opener: type[Store]  #: the store's class: its ``open_checkpoint`` opens the snapshot
    snapshot: str
    deadline: float  # time.monotonic(): one clock for every process of the machine
    timeout: float
    max_rows: int | None
    deadline_mid_stream: bool


def read_message(conn: Connection, first_read: int) -> Any:
    """The next message on ``conn``, framed as :meth:`Connection.send` frames it, read with one
    system call when it fits in ``first_read`` bytes (where ``recv`` makes two, and two
    buffers). ``first_read`` must not exceed the first chunk's size: a message that another
    follows at once is the first chunk of a long result, so it is longer, and this never reads
    into the next message. Raises :class:`EOFError` when the process ended."""
    fd = conn.fileno()
    data = os.read(fd, first_read)
    if len(data) < 4:
        data += _read_exactly(fd, 4 - len(data))
    (size,) = struct.unpack("!i", data[:4])
    start = 4
    if size == -1:  # a message over 2 GiB: an 8-byte size follows
        if len(data) < 12:
            data += _read_exactly(fd, 12 - len(data))
        (size,) = struct.unpack("!Q", data[4:12])
        start = 12
    missing = start + size - len(data)
    if missing > 0:
        data += _read_exactly(fd, missing)
    return pickle.loads(memoryview(data)[start:])


def write_message(fd: int, message: Any) -> None:
    """Send ``message`` down the pipe ``fd`` (blocking) as :meth:`Connection.send` does, in one
    write when it fits: pickled once, without ``send``'s copy of the copyreg table per call."""
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    size = len(data)
    header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
    view = memoryview(header + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, count: int) -> bytes:
    parts = []
    while count > 0:
        part = os.read(fd, count)
        if not part:
            raise EOFError
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def worker_main(conn: Connection, first_bytes: int, chunk_bytes: int) -> None:
    """The worker process: open snapshots, run orders, send back what they yield."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    store: Store | None = None
    opened = ""
    while True:
        try:
            order = conn.recv()
        except (EOFError, OSError):
            return
        if order is None:
            return
        # An order, or (store class, snapshot) to open ahead of the first order.
        is_order = len(order) == len(Order._fields)
        if is_order:
            order = Order._make(order)
        opener, path = (order.opener, order.snapshot) if is_order else order
        if path != opened:
            if store is not None:
                store.close()
                store = None
            store = opener.open_checkpoint(Path(path))
            opened = path
        if is_order and store is not None:
            _run_order(conn, store, order, first_bytes, chunk_bytes)


def _run_order(
    conn: Connection, store: Store, order: Order, first_bytes: int, chunk_bytes: int
) -> None:
    out = _Sender(conn, order, first_bytes, chunk_bytes)
    produced = order.task(store, out)
    try:
        for piece in produced:
            if isinstance(piece, str):
                out.media_type = piece
            else:
                out.push(piece)
        out.finish()
    except DiplographError as exc:
        _send(conn, ("error", _bare(exc)))
    except RuntimeError as exc:  # pyoxigraph's evaluation errors are the query's fault
        _send(conn, ("error", QueryFailedError(f"the query failed while running: {exc}")))
    except Exception as exc:
        log.exception("a query failed in its worker process")
        _send(conn, ("error", StoreError(f"the query failed: {type(exc).__name__}: {exc}")))
    finally:
        close = getattr(produced, "close", None)
        if close is not None:
            close()


class _Sender(Sink):
    """An order's tick, and where its result's bytes go: regrouped as
    :func:`~diplograph.api.execution.chunked` regroups them (a first chunk of ``first_bytes``,
    then chunks of ``chunk_bytes``) and sent down the pipe as they fill. The task yields bytes
    (pushed here by :func:`_run_order`) or, for SPARQL JSON, pushes them itself (:class:`Sink`).
    """

    def __init__(self, conn: Connection, order: Order, first_bytes: int, chunk_bytes: int) -> None:
        self.media_type: str | None = None  # sent with the first chunk
        self._conn = conn
        self._order = order
        self._first_bytes = first_bytes
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._streaming = False  # a chunk went out: the status is sent
        self._rows = 0

    def __call__(self) -> None:
        self._rows += 1
        order = self._order
        if (order.deadline_mid_stream or not self._streaming) and time.monotonic() > order.deadline:
            raise timeout_error(order.timeout)
        check_row(self._rows, order.max_rows)

    def push(self, piece: bytes) -> None:
        self._buffer += piece
        if len(self._buffer) >= (self._chunk_bytes if self._streaming else self._first_bytes):
            self._send(("data", self.media_type, bytes(self._buffer), False))
            self._buffer.clear()

    def finish(self) -> None:
        """The result ended: what is left, and the end (one message when nothing went yet: the
        whole result, under ``first_bytes``)."""
        if not self._streaming:
            self._send(("data", self.media_type, bytes(self._buffer), True))
            return
        if self._buffer:
            self._send(("data", None, bytes(self._buffer), False))
        self._send(("end", None, b"", True))

    def _send(self, message: tuple[Any, ...]) -> None:
        _send(self._conn, message)
        self.media_type = None
        self._streaming = True


def _send(conn: Connection, message: tuple[Any, ...]) -> None:
    write_message(conn.fileno(), message)


def _bare(exc: DiplographError) -> DiplographError:
    exc.__traceback__ = None
    exc.__context__ = None
    exc.__cause__ = None
    return exc
