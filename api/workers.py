"""Query workers as processes: a query past its deadline is stopped by killing its process.

pyoxigraph cannot cancel a query, and an aggregate over a cross join does all its work in one
engine call that no thread can interrupt (:mod:`diplograph.api.execution`). So on the on-disk
store every query runs in a **worker process** reading a snapshot of the store
(:mod:`diplograph.api.snapshot`):

* each worker (a *slot*) is one process the server talks to over a pipe, from its event loop:
  it sends the query (a picklable :data:`~diplograph.api.execution.Task`, the snapshot to
  read, the deadline and the row cap), and relays the media type, the chunks and the end (or an
  error) to the request, reading the pipe when it is readable;
* when the request gives up on the query – its deadline passed before the first chunk, the
  deadline passed while streaming, or the client went away – the server kills the process
  (``SIGKILL``: the engine call stops with it) and starts a replacement at once, so the worker is
  available again a few tens of milliseconds after the deadline;
* processes are forked from a *forkserver* that imported diplograph once, so a replacement is
  cheap and never inherits the server's threads; each process keeps its snapshot open between
  queries and opens the newest one when a write has made a newer one;
* reads run on every core: the processes evaluate in parallel, without the server's GIL; a
  query that has run for ``heavy_seconds`` (the setting ``query_heavy_seconds``) is *heavy*: its
  process is put in the ``SCHED_IDLE`` class (it gets a core only when no other process wants
  it; nice 10 where that class does not exist), so cheap queries on the other workers keep
  their latency while heavy ones compute;
* with ``spares`` (none by default: on 2 cores they measured no better than without), that
  many idle processes are kept ready while a heavy query runs (forked, the snapshot
  open), so a query that arrives while heavy queries hold the workers is dispatched at once
  instead of waiting for a process to start; processes beyond ``workers`` end after
  :data:`LINGER_SECONDS` idle.

A worker process ends when its pipe closes (the server stopped, even by ``SIGKILL``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NamedTuple

from diplograph.api.execution import (
    QueryFailedError,
    Runner,
    Task,
    _Job,
    check_row,
    chunked,
    timeout_error,
)
from diplograph.api.metrics import Metrics
from diplograph.api.snapshot import Snapshots
from diplograph.api.streaming import END, Cancelled, Channel, Whole
from diplograph.loader.errors import DiplographError, StoreError
from diplograph.loader.store import Store

__all__ = ["ProcessRunner"]

log = logging.getLogger(__name__)

#: Where the ``SCHED_IDLE`` class does not exist, a heavy query's process gets this niceness
#: instead. Either way the process is replaced after the query (it cannot get its priority back).
HEAVY_NICENESS = 10
#: Seconds a process beyond the pool stays idle (ready for the next query) before it ends: long
#: enough that a steady load does not end processes only to start them again.
LINGER_SECONDS = 10.0


class _Order(NamedTuple):
    """One query, as sent to a worker process (a plain tuple on the pipe: it pickles small)."""

    task: Task
    opener: type[Store]  #: the store's class: its ``open_checkpoint`` opens the snapshot
    snapshot: str
    deadline: float  # time.monotonic(): one clock for every process of the machine
    timeout: float
    max_rows: int | None
    deadline_mid_stream: bool


def _alive(process: BaseProcess) -> bool:
    """Whether ``process`` still runs: its sentinel is not readable yet. One ``poll`` call,
    where ``is_alive`` builds a selector each time (this runs twice per query)."""
    try:
        poller = select.poll()
        poller.register(process.sentinel, select.POLLIN)
        return not poller.poll(0)
    except (ValueError, OSError):  # not started, or closed
        return process.is_alive()


def _worker_main(conn: Connection, first_bytes: int, chunk_bytes: int) -> None:
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
        is_order = len(order) == len(_Order._fields)
        if is_order:
            order = _Order._make(order)
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
    conn: Connection, store: Store, order: _Order, first_bytes: int, chunk_bytes: int
) -> None:
    rows = 0
    streaming = False

    def tick() -> None:
        nonlocal rows
        rows += 1
        if (order.deadline_mid_stream or not streaming) and time.monotonic() > order.deadline:
            raise timeout_error(order.timeout)
        check_row(rows, order.max_rows)

    produced = order.task(store, tick)
    media_type = None
    try:
        for piece in chunked(produced, first_bytes, chunk_bytes):
            if isinstance(piece, str):
                media_type = piece
                continue
            # A first chunk under the threshold is the whole result (see chunked): one message
            # says it all, the cheap lookup's case.
            whole = not streaming and len(piece) < first_bytes
            conn.send(("data", media_type, piece, whole))
            media_type = None
            streaming = True
            if whole:
                return
        conn.send(("end", None, b"", True))
    except DiplographError as exc:
        conn.send(("error", _bare(exc)))
    except RuntimeError as exc:  # pyoxigraph's evaluation errors are the query's fault
        conn.send(("error", QueryFailedError(f"the query failed while running: {exc}")))
    except Exception as exc:
        log.exception("a query failed in its worker process")
        conn.send(("error", StoreError(f"the query failed: {type(exc).__name__}: {exc}")))
    finally:
        close = getattr(produced, "close", None)
        if close is not None:
            close()


def _bare(exc: DiplographError) -> DiplographError:
    exc.__traceback__ = None
    exc.__context__ = None
    exc.__cause__ = None
    return exc


class _Slot:
    """One worker: a process, its pipe and the snapshot generation it has open."""

    def __init__(self, runner: ProcessRunner, index: int) -> None:
        self.runner = runner
        self.index = index
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.generation: int | None = None
        self.ready = False
        self.demoted = False  #: holds (or held) a heavy query at the lowest CPU priority
        self.idle_since = 0.0
        self.killed: list[BaseProcess] = []
        self._snapshot: tuple[int | None, str] = (None, "")

    def spawn(self) -> None:
        runner = self.runner
        ours, theirs = runner.context.Pipe()
        process = runner.context.Process(
            target=_worker_main,
            args=(theirs, runner.first_chunk_bytes, runner.chunk_bytes),
            name=f"diplograph-query-{self.index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        self.process, self.conn = process, ours
        self.demoted = False
        generation, path = runner.snapshots.acquire()
        self.generation = generation
        ours.send((runner.opener, str(path)))  # open the snapshot now, not at the first query
        self.ready = True

    def respawn(self) -> None:
        """A fresh process in place of this one (blocking: run it on a thread)."""
        self.kill()
        self.reap()
        self.spawn()

    def reap(self) -> None:
        """Wait for the killed processes to end (blocking: run it on a thread)."""
        for process in self.killed:
            with contextlib.suppress(Exception):
                process.join(5)
        self.killed.clear()

    def kill(self) -> None:
        """Stop the process at once, whatever it is doing (it is reaped by :meth:`respawn`)."""
        self.ready = False
        if self.process is not None:
            with contextlib.suppress(Exception):
                self.process.kill()
            self.killed.append(self.process)
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = None
        if self.generation is not None:
            self.runner.snapshots.release(self.generation)
            self.generation = None

    def lower_priority(self) -> None:
        """Let the process run only on a core no one else wants (its query is heavy).

        ``SCHED_IDLE`` needs no privilege on Linux; elsewhere the process gets niceness
        :data:`HEAVY_NICENESS`. Best effort: a process that already ended is left alone.
        """
        if self.process is None or self.process.pid is None or self.demoted:
            return
        self.demoted = True
        pid = self.process.pid
        try:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError):
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, pid, HEAVY_NICENESS)

    def snapshot_for_next_query(self) -> str:
        """The newest snapshot's directory; the process opens it before running the query."""
        snapshots = self.runner.snapshots
        if self.generation != snapshots.generation:
            generation, _ = snapshots.acquire()
            if self.generation is not None:
                self.runner.snapshots.release(self.generation)
            self.generation = generation
        if self._snapshot[0] != self.generation:  # the text is kept: one per generation
            self._snapshot = (self.generation, str(snapshots.path(self.generation)))
        return self._snapshot[1]


class _LoopChannel(Channel):
    """A :class:`Channel` whose writer is the event loop itself (the process runner's relay):
    an item is queued at once, without the thread-safe hand-over's wake-up of the loop."""

    def _send(self, item: object) -> None:
        if threading.get_ident() == self.loop_thread:
            self._items.put_nowait(item)
        else:
            super()._send(item)

    loop_thread = 0


class ProcessRunner(Runner):
    """Worker processes over snapshots of a store that makes checkpoints (module docstring).

    ``workers`` processes take queries. While a heavy query runs, ``spares`` more are kept idle
    and ready, up to ``max_workers`` in all (four times ``workers`` by default), and when every
    process holds a heavy query (one that has run for ``heavy_seconds``) while queries wait, a
    process per waiting query is started within the same bound: heavy queries from many clients
    at once then hold processes, which cost memory, but not every process, so other queries
    still run (and get the CPU before the heavy ones). Processes beyond ``workers`` end after
    :data:`LINGER_SECONDS` idle. The other options are :class:`Runner`'s.

    The processes are driven from the event loop itself (an order down the pipe, the answer
    read when the pipe is readable): no thread stands between a request and its process, which
    keeps a cheap lookup's cost within a few hundred microseconds of evaluating it in the
    server. Starting and killing processes, which block, run on threads.
    """

    kind = "processes"
    killable = True

    def __init__(
        self,
        workers: int = 4,
        max_workers: int | None = None,
        spares: int = 0,
        **options: Any,
    ) -> None:
        super().__init__(workers, **options)
        self.max_workers = max(workers, max_workers or 4 * workers)
        self.spares = max(spares, 0)
        self._spawning = 0
        self._numbers = itertools.count(1)
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["diplograph.api.workers"])
        self._slots: list[_Slot] = []
        self._idle: list[_Slot] = []
        self._snapshots: Snapshots | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def opener(self) -> type[Store]:
        """The store's class, whose ``open_checkpoint`` the worker processes call."""
        if self._store is None:
            raise RuntimeError("the process runner was not bound to a store")
        return type(self._store)

    @property
    def snapshots(self) -> Snapshots:
        if self._snapshots is None:
            raise RuntimeError("the process runner was not bound to an on-disk store")
        return self._snapshots

    def bind(self, store: Store, metrics: Metrics | None = None) -> None:
        super().bind(store, metrics)
        self._snapshots = Snapshots(store)

    def refresh(self) -> None:
        """Checkpoint the store: every query that starts from now on sees the write just made."""
        self.snapshots.refresh()

    def _ensure_workers(self) -> None:
        with self._lock:
            while len(self._slots) < self.workers:
                slot = _Slot(self, next(self._numbers))
                self._slots.append(slot)
                try:
                    slot.spawn()
                except Exception:
                    log.exception("query worker %d could not start", slot.index)
                    continue
                self._idle.append(slot)

    def _unavailable(self) -> int:
        """Slots whose process is being replaced (or has not started yet)."""
        missing = max(self.workers - len(self._slots), 0)
        return sum(1 for slot in self._slots if not slot.ready) + missing

    def status(self) -> dict[str, Any]:
        """:meth:`Runner.status`, where ``available`` counts the idle processes and
        ``extra`` the processes started beyond ``workers`` for waiting queries."""
        status = super().status()
        status["available"] = len(self._idle)
        status["extra"] = max(len(self._slots) - self.workers, 0)
        return status

    def close(self) -> None:
        super().close()
        for slot in self._slots:
            if slot.conn is not None:
                with contextlib.suppress(Exception):
                    slot.conn.send(None)
            slot.kill()
            for process in slot.killed:
                with contextlib.suppress(Exception):
                    process.join(5)
        if self._snapshots is not None:
            self._snapshots.close()

    # --- on the event loop -------------------------------------------------------------------

    def _submitted(self) -> None:
        self._dispatch()

    def _channel(self, loop: asyncio.AbstractEventLoop) -> Channel:
        channel = _LoopChannel(loop, self.buffer_chunks)
        channel.loop_thread = threading.get_ident()  # _channel is called on the loop
        return channel

    def _dispatch(self) -> None:
        """Give idle workers the jobs that may run now."""
        while self._idle and not self._closed:
            job = self.queue.take_nowait()
            if job is None:
                break
            if not self._begin(job):
                self.queue.done(job)
                continue
            slot = self._idle.pop()
            task = asyncio.get_running_loop().create_task(self._serve(slot, job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._grow()

    async def _serve(self, slot: _Slot, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._run(slot, job, loop)
        except Exception as exc:
            log.exception("%s #%d: the worker failed", job.label, job.id)
            slot.kill()
            self._hand_over(job, StoreError(f"the query worker failed: {exc}"))
        finally:
            self._end(job)
        if self._closed:  # the server is stopping: no replacement
            slot.kill()
            return
        stale = slot.demoted or slot.process is None or not _alive(slot.process)
        if stale and self._surplus(slot) and not self.queue.runnable():
            # Killed, dead or demoted, and not needed: end it rather than replace it.
            self._retire(slot)
            await loop.run_in_executor(None, slot.reap)
            return
        if stale:
            # Killed, dead, or demoted (it would stay slow for the cheap queries to come).
            await loop.run_in_executor(None, slot.respawn)
        if slot.ready:
            self._make_idle(slot)
        self._dispatch()

    def _make_idle(self, slot: _Slot) -> None:
        self._idle.append(slot)
        slot.idle_since = time.monotonic()
        if len(self._slots) > self.workers:
            asyncio.get_running_loop().call_later(LINGER_SECONDS, self._linger_over, slot)

    def _linger_over(self, slot: _Slot) -> None:
        """A timer set when ``slot`` became idle: end it if it stayed idle and is not needed."""
        if self._closed or slot not in self._idle:
            return
        if time.monotonic() - slot.idle_since < LINGER_SECONDS * 0.99:
            return  # it took a query since the timer was set; a later timer decides
        if not self._surplus(slot):  # still wanted: ask again later
            asyncio.get_running_loop().call_later(LINGER_SECONDS, self._linger_over, slot)
            return
        self._idle.remove(slot)
        self._retire(slot)
        asyncio.get_running_loop().run_in_executor(None, slot.reap)

    def _spares_wanted(self, leaving: _Slot | None = None) -> int:
        """``spares`` while a heavy query runs, else none: spares are for the queries that
        arrive while heavy ones hold the pool (kept under a cheap load too, every cheap query
        would take the spare and call for another, up to ``max_workers``). Even so, processes
        not holding a heavy query stay within ``workers + spares``. ``leaving``: a process that
        may end, whose own heavy query does not count."""
        if not any(slot.demoted for slot in self._slots if slot is not leaving):
            return 0
        light = sum(1 for slot in self._slots if not slot.demoted)
        room = self.workers + self.spares - light  # light counts the idle and the starting
        return max(min(self.spares, room + len(self._idle) + self._spawning), 0)

    def _surplus(self, slot: _Slot) -> bool:
        """Whether ``slot`` (idle, or done with its query) can end: beyond the pool, and more
        than the spares wanted stay idle without it (more: a margin, so that processes are not
        ended and started again under a steady load)."""
        if len(self._slots) <= self.workers:
            return False
        wanted = self._spares_wanted(leaving=slot)
        spare = len(self._idle) + self._spawning - (1 if slot in self._idle else 0)
        return wanted == 0 or spare > wanted

    def _retire(self, slot: _Slot) -> None:
        self._slots.remove(slot)
        slot.kill()

    def _heavy(self, slot: _Slot) -> None:
        """A worker's query has run for ``heavy_seconds``."""
        slot.lower_priority()
        self._grow()

    def _grow(self) -> None:
        """Start processes, up to ``max_workers`` in all: while a heavy query runs, until
        ``spares`` are idle or starting; when every process holds a heavy query, one per
        waiting query."""
        if self._closed:
            return
        wanted = self._spares_wanted() - len(self._idle) - self._spawning
        if not self._idle and all(slot.demoted for slot in self._slots if slot.ready):
            wanted = max(wanted, self.queue.runnable() - self._spawning)
        while wanted > 0 and len(self._slots) < self.max_workers:
            wanted -= 1
            slot = _Slot(self, next(self._numbers))
            self._slots.append(slot)
            self._spawning += 1
            task = asyncio.get_running_loop().create_task(self._start_extra(slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_extra(self, slot: _Slot) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, slot.spawn)
        except Exception:
            log.exception("an extra query worker could not start")
            self._slots.remove(slot)
            return
        finally:
            self._spawning -= 1
        if self._closed:
            slot.kill()
            return
        log.info("query worker %d started beyond the pool of %d", slot.index, self.workers)
        self._make_idle(slot)
        self._dispatch()

    async def _run(self, slot: _Slot, job: _Job, loop: asyncio.AbstractEventLoop) -> None:
        if slot.process is None or not _alive(slot.process):
            await loop.run_in_executor(None, slot.respawn)
        assert slot.conn is not None
        conn = slot.conn
        order = (job.task, self.opener, slot.snapshot_for_next_query(), job.deadline,
                 job.timeout, job.max_rows, job.deadline_mid_stream)  # fmt: skip
        conn.send(order)  # a plain tuple (an _Order's fields): it pickles small
        wake = asyncio.Event()
        job.waker = wake.set
        fd = conn.fileno()  # kept: a killed process's pipe is closed before the finally runs
        loop.add_reader(fd, wake.set)
        # uvloop makes a watched descriptor non-blocking; the messages are read whole (a
        # reader that finds one is started reads it to its end), so keep it blocking.
        os.set_blocking(fd, True)
        pending = select.poll()  # whether another message waits (Connection.poll builds a
        pending.register(fd, select.POLLIN)  # selector per call: this is one system call)
        heavy = loop.call_later(self.heavy_seconds, self._heavy, slot)
        handed = 0  # items put on the channel from the loop (within its capacity: no wait)
        try:
            while True:
                await wake.wait()
                wake.clear()
                while True:
                    if job.channel.closed.is_set():
                        self._kill(slot, job, "its request gave up on it")
                        return
                    if conn.closed or not pending.poll(0):
                        break
                    try:
                        message = conn.recv()
                    except (EOFError, OSError):
                        slot.kill()
                        self._hand_over(
                            job,
                            StoreError(
                                "the query worker process ended unexpectedly (its error, if "
                                "any, is on the server's standard error)"
                            ),
                        )
                        return
                    if message[0] == "error":
                        self._hand_over(job, message[1])
                        return
                    _, media_type, data, ended = message
                    if media_type is not None:
                        job.media_type = media_type
                    if ended and handed == 0 and message[0] == "data":
                        job.channel.put(Whole(data))  # a small result: one hand-over
                        job.streaming = True
                        return
                    items = [data] if message[0] == "data" else []
                    items += [END] if ended else []
                    for item in items:
                        if handed < self.buffer_chunks:
                            job.channel.put(item)  # there is room: this does not wait
                        else:  # a stream: wait for the client on a thread, not on the loop
                            await loop.run_in_executor(
                                None, job.channel.put, item, self._give_up_at(job)
                            )
                        handed += 1
                        job.streaming = True
                    if ended:
                        return
        except Cancelled:
            self._kill(slot, job, "its client stopped reading or went away")
        finally:
            job.waker = None
            heavy.cancel()
            loop.remove_reader(fd)

    def _kill(self, slot: _Slot, job: _Job, why: str) -> None:
        late = time.monotonic() - job.deadline
        log.warning(
            "%s #%d: worker %d killed (%s; %.2f s %s the deadline)", job.label, job.id,
            slot.index, why, abs(late), "past" if late > 0 else "before",
        )  # fmt: skip
        slot.kill()
        self.metrics.killed()
