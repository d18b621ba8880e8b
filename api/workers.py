"""Query workers as processes: a query past its deadline is stopped by killing its process.

pyoxigraph cannot cancel a query, and an aggregate over a cross join does all its work in one
engine call that no thread can interrupt (:mod:`diplograph.api.execution`). So on the on-disk
store every query runs in a **worker process** reading a snapshot of the store
(:mod:`diplograph.api.snapshot`):

* each worker (a *slot*) is one process the server talks to over a pipe, from its event loop:
  it sends the query (a picklable :data:`~diplograph.api.execution.Task`, the snapshot to
  read, the deadline and the row cap), and relays the answer to the request;
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
  it; nice 10 where that class does not exist) as soon as another query arrives, waits or runs,
  so cheap queries on the other workers keep their latency while heavy ones compute; a heavy
  query alone keeps its priority;
* with ``spares`` (none by default: on 2 cores they measured no better than without), that
  many idle processes are kept ready while a demoted heavy query runs (forked, the snapshot
  open), so a query that arrives while heavy queries hold the workers is dispatched at once
  instead of waiting for a process to start; processes beyond ``workers`` end after
  :data:`LINGER_SECONDS` idle.

What runs inside a worker process is :mod:`diplograph.api.query_process`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import select
import time
from collections.abc import Coroutine
from typing import Any

from diplograph.api.execution import Runner, _Job
from diplograph.api.metrics import Metrics
from diplograph.api.query_process import read_message, write_message
from diplograph.api.snapshot import Snapshots
from diplograph.api.streaming import END, Cancelled, Channel, LoopChannel, Whole
from diplograph.api.worker_slot import Slot
from diplograph.loader.errors import StoreError
from diplograph.loader.store import Store

__all__ = ["ProcessRunner"]

log = logging.getLogger(__name__)

#: Seconds a process beyond the pool stays idle (ready for the next query) before it ends: long
#: enough that a steady load does not end processes only to start them again.
LINGER_SECONDS = 10.0
ENDED = (
    "the query worker process ended unexpectedly (its error, if any, is on the server's "
    "standard error)"
)


class ProcessRunner(Runner):
    """Worker processes over snapshots of a store that makes checkpoints (module docstring).

    ``workers`` processes take queries. While a heavy query runs, ``spares`` more are kept idle
    and ready, up to ``max_workers`` in all (four times ``workers`` by default), and when every
    process holds a heavy query (one that has run for ``heavy_seconds``) while queries wait, a
    process per waiting query is started within the same bound: heavy queries from many clients
    at once then hold processes, which cost memory, but not every process, so other queries
    still run (and get the CPU before the heavy ones). Processes beyond ``workers`` end after
    :data:`LINGER_SECONDS` idle. The other options are :class:`Runner`'s.

    The processes are driven from the event loop itself: no thread or task stands between a
    request and its process. The loop watches each process's pipe from the first order on; an
    order goes down the pipe, and the answer is read by the loop's callback for that pipe,
    which hands a result that fits in one chunk (or an error) to the request, makes the worker
    idle and gives it the next query, all in one call. Only a longer result gets a task of its
    own, which relays it chunk by chunk at the client's pace. One timer, set for the earliest
    moment a running query turns heavy, stands for a timer per query. Starting and killing
    processes, which block, run on threads.
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
        self._slots: list[Slot] = []
        self._idle: list[Slot] = []
        self._snapshots: Snapshots | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None  #: the one the processes are driven on
        self._heavy_timer: asyncio.TimerHandle | None = None

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
        if len(self._slots) >= self.workers:
            return
        with self._lock:
            while len(self._slots) < self.workers:
                slot = Slot(self, next(self._numbers))
                self._slots.append(slot)
                try:
                    slot.spawn()
                except Exception:
                    log.exception("query worker %d could not start", slot.index)
                    continue
                self._idle.append(slot)
        with contextlib.suppress(RuntimeError):  # on the loop: watch them from now on
            asyncio.get_running_loop()
            for slot in (slot for slot in self._idle if slot.watched < 0 and slot.conn):
                self._watch(slot)

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
        # A query arrived: the heavy queries that had the machine to themselves make room.
        self._demote_heavy(time.monotonic(), arrived=True)
        self._dispatch()

    def _channel(self, loop: asyncio.AbstractEventLoop) -> Channel:
        self.loop = loop  # _channel is called on the loop, before any order
        return LoopChannel(loop, self.buffer_chunks)

    def _spawn_task(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dispatch(self) -> None:
        """Give idle workers the jobs that may run now."""
        while self._idle and not self._closed:
            job = self.queue.take_nowait()
            if job is None:
                break
            if not self._begin(job):
                self.queue.done(job)
                continue
            self._order(self._idle.pop(), job)
        self._grow()

    def _order(self, slot: Slot, job: _Job) -> None:
        """Send ``job`` to ``slot``'s process; :meth:`_readable` takes the answer."""
        slot.job = job
        # The waker (the request gave up): kill at the loop's next turn, as it may be called
        # while the runner's state is being changed.
        job.waker = lambda: self._gave_up_soon(slot, job)
        if self._heavy_timer is None:
            self._heavy_timer = self._loop().call_later(self.heavy_seconds, self._check_heavy)
        try:
            self._send_order(slot, job)
        except OSError:  # the process ended while idle: a new one takes the query
            slot.kill()
            self._spawn_task(self._order_after_respawn(slot, job))
        except Exception as exc:
            self._failed(slot, job, exc)

    async def _order_after_respawn(self, slot: Slot, job: _Job) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, slot.respawn)
            self._send_order(slot, job)
        except Exception as exc:
            self._failed(slot, job, exc)

    def _send_order(self, slot: Slot, job: _Job) -> None:
        if slot.conn is None:
            raise BrokenPipeError("the query worker process is gone")
        if slot.watched < 0:
            self._watch(slot)
        order = (job.task, self.opener, slot.snapshot_for_next_query(), job.deadline,
                 job.timeout, job.max_rows, job.deadline_mid_stream)  # fmt: skip
        write_message(slot.conn.fileno(), order)  # a plain tuple (an Order's fields)

    def _failed(self, slot: Slot, job: _Job, exc: Exception) -> None:
        log.error("%s #%d: the worker failed", job.label, job.id, exc_info=exc)
        slot.kill()
        self._hand_over(job, StoreError(f"the query worker failed: {exc}"))
        self._finished(slot, job)

    def _watch(self, slot: Slot, *callback: Any) -> None:
        """Call ``callback`` (default: :meth:`_readable`) whenever ``slot``'s pipe is readable."""
        assert slot.conn is not None
        fd = slot.conn.fileno()
        self._loop().add_reader(fd, *(callback or (self._readable, slot)))
        # uvloop makes a watched descriptor non-blocking; the messages are read whole (a
        # message that starts to arrive is read to its end), so keep it blocking.
        os.set_blocking(fd, True)
        slot.watched = fd

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        return self.loop

    def _readable(self, slot: Slot) -> None:
        """``slot``'s pipe is readable: the answer to its query, or its process ended."""
        job, conn = slot.job, slot.conn
        if conn is None:
            return
        try:
            message = read_message(conn, min(self.first_chunk_bytes, 16384))
        except (EOFError, OSError):
            slot.kill()
            if job is None:  # an idle process ended: replace it
                if slot in self._idle:
                    self._idle.remove(slot)
                self._spawn_task(self._replace(slot))
                return
            self._hand_over(job, StoreError(ENDED))
            self._finished(slot, job)
            return
        if job is None:
            log.warning("query worker %d sent a message with no query running", slot.index)
            return
        if message[0] == "error":  # the query ended: no process to kill, whoever waits
            self._hand_over(job, message[1])
        elif message[3] and message[0] == "data":  # the whole result, in one message
            if message[1] is not None:
                job.media_type = message[1]
            job.streaming = True
            if not job.channel.closed.is_set():  # else the request gave up on it just now
                job.channel.put(Whole(message[2]))
        else:  # the first chunk of a longer result: a task relays the rest
            slot.streaming = True
            slot.unwatch()
            self._spawn_task(self._stream(slot, job, message))
            return
        self._finished(slot, job)

    def _gave_up_soon(self, slot: Slot, job: _Job) -> None:
        self._loop().call_soon(self._gave_up, slot, job)

    def _gave_up(self, slot: Slot, job: _Job) -> None:
        if slot.job is not job or slot.streaming or slot.conn is None:
            return  # it ended, its relay task sees the request gone, or the slot is closed
        self._kill(slot, job, "its request gave up on it")
        self._finished(slot, job)

    async def _stream(self, slot: Slot, job: _Job, message: Any) -> None:
        """Relay a result longer than its first chunk (``message``), at the client's pace: while
        the channel is full the pipe is not watched, so the process waits on the full pipe."""
        wake = asyncio.Event()
        job.waker = wake.set
        channel = job.channel
        assert isinstance(channel, LoopChannel) and slot.conn is not None
        conn = slot.conn
        pending = select.poll()  # whether a message waits (Connection.poll builds a selector
        pending.register(conn.fileno(), select.POLLIN)  # per call: this is one system call)
        try:
            while True:
                if channel.closed.is_set():
                    self._kill(slot, job, "its request gave up on it")
                    break
                if message is None:
                    if not conn.closed and pending.poll(0):
                        message = conn.recv()
                        continue
                    if slot.watched < 0:
                        self._watch(slot, wake.set)
                    await wake.wait()
                    wake.clear()
                    continue
                if message[0] == "error":
                    self._hand_over(job, message[1])
                    break
                kind, media_type, data, ended = message
                message = None
                if media_type is not None:
                    job.media_type = media_type
                for item in ([data] if kind == "data" else []) + ([END] if ended else []):
                    if not channel.room():
                        slot.unwatch()  # not readable over and over while the client reads
                        await channel.wait_room(self._give_up_at(job))
                    channel.put(item)
                    job.streaming = True
                if ended:
                    break
        except (EOFError, OSError):
            slot.kill()
            self._hand_over(job, StoreError(ENDED))
        except Cancelled:
            self._kill(slot, job, "its client stopped reading or went away")
        except Exception as exc:
            self._failed(slot, job, exc)
            return
        finally:
            slot.unwatch()
        self._finished(slot, job)

    def _finished(self, slot: Slot, job: _Job) -> None:
        """``slot`` is done with ``job``: it takes the next query, or is replaced."""
        slot.job = None
        slot.streaming = False
        job.waker = None
        self._end(job)
        if self._closed:  # the server is stopping: no replacement
            slot.kill()
            return
        if slot.demoted or slot.conn is None:  # killed, dead, or demoted
            self._spawn_task(self._replace(slot))
            return
        self._make_idle(slot)
        self._dispatch()

    async def _replace(self, slot: Slot) -> None:
        """A fresh process for ``slot`` (killed, dead, or demoted), or none if not needed."""
        slot.kill()
        loop = asyncio.get_running_loop()
        if self._surplus(slot) and not self.queue.runnable():
            self._retire(slot)
            await loop.run_in_executor(None, slot.reap)
            return
        await loop.run_in_executor(None, slot.respawn)
        if self._closed:
            slot.kill()
            return
        if slot.ready:
            self._make_idle(slot)
        self._dispatch()

    def _check_heavy(self) -> None:
        """The heavy timer: :meth:`_demote_heavy`, then set again for the next one due."""
        self._heavy_timer = None
        if not self._closed:
            now = time.monotonic()
            if (due := self._demote_heavy(now, arrived=False)) is not None:
                self._heavy_timer = self._loop().call_later(due - now, self._check_heavy)

    def _demote_heavy(self, now: float, *, arrived: bool) -> float | None:
        """Demote the processes whose query ran ``heavy_seconds`` once another query wants a
        core (one ``arrived``, waits, or runs undemoted); when the next turns heavy, or None.
        Alone, a demoted query protects no one and pays: 312-323 ms over HTTP for q03 at 100k
        against 234-248 ms (docs/benchmarks.md)."""
        running = [slot for slot in self._slots if slot.job is not None and not slot.demoted]
        wanted = arrived or len(running) > 1 or self.queue.runnable() > 0
        due: float | None = None
        for slot in running:
            if slot.job is None or slot.job.started is None:
                continue
            at = slot.job.started + self.heavy_seconds
            if at > now:
                due = at if due is None else min(due, at)
            elif wanted:
                self._heavy(slot)
        return due

    def _make_idle(self, slot: Slot) -> None:
        self._idle.append(slot)
        slot.idle_since = time.monotonic()
        if slot.watched < 0 and slot.conn is not None:
            self._watch(slot)  # a process that ends while idle is replaced at once
        if len(self._slots) > self.workers:
            self._loop().call_later(LINGER_SECONDS, self._linger_over, slot)

    def _linger_over(self, slot: Slot) -> None:
        """A timer set when ``slot`` became idle: end it if it stayed idle and is not needed."""
        if self._closed or slot not in self._idle:
            return
        if time.monotonic() - slot.idle_since < LINGER_SECONDS * 0.99:
            return  # it took a query since the timer was set; a later timer decides
        if not self._surplus(slot):  # still wanted: ask again later
            self._loop().call_later(LINGER_SECONDS, self._linger_over, slot)
            return
        self._idle.remove(slot)
        self._retire(slot)
        self._loop().run_in_executor(None, slot.reap)

    def _spares_wanted(self, leaving: Slot | None = None) -> int:
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

    def _surplus(self, slot: Slot) -> bool:
        """Whether ``slot`` (idle, or done with its query) can end: beyond the pool, and more
        than the spares wanted stay idle without it (more: a margin, so that processes are not
        ended and started again under a steady load)."""
        if len(self._slots) <= self.workers:
            return False
        wanted = self._spares_wanted(leaving=slot)
        spare = len(self._idle) + self._spawning - (1 if slot in self._idle else 0)
        return wanted == 0 or spare > wanted

    def _retire(self, slot: Slot) -> None:
        self._slots.remove(slot)
        slot.kill()

    def _heavy(self, slot: Slot) -> None:
        """A worker's query has run for ``heavy_seconds``."""
        slot.lower_priority()
        self._grow()

    def _grow(self) -> None:
        """Start processes, up to ``max_workers`` in all: while a heavy query runs, until
        ``spares`` are idle or starting; when every process holds a heavy query, one per
        waiting query."""
        if self._closed or (self._idle and not self.spares):
            return  # no spares to keep, and an idle process for the next query
        wanted = self._spares_wanted() - len(self._idle) - self._spawning
        if not self._idle and all(slot.demoted for slot in self._slots if slot.ready):
            wanted = max(wanted, self.queue.runnable() - self._spawning)
        while wanted > 0 and len(self._slots) < self.max_workers:
            wanted -= 1
            slot = Slot(self, next(self._numbers))
            self._slots.append(slot)
            self._spawning += 1
            self._spawn_task(self._start_extra(slot))

    async def _start_extra(self, slot: Slot) -> None:
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

    def _kill(self, slot: Slot, job: _Job, why: str) -> None:
        late = time.monotonic() - job.deadline
        log.warning(
            "%s #%d: worker %d killed (%s; %.2f s %s the deadline)", job.label, job.id,
            slot.index, why, abs(late), "past" if late > 0 else "before",
        )  # fmt: skip
        slot.kill()
        self.metrics.killed()
