"""One query worker of :class:`~diplograph.api.workers.ProcessRunner`: its process and pipe,
its CPU priority and the store snapshot it has open.

The runner drives every slot from its event loop; what is blocking (starting a process,
waiting for a killed one) it runs on a thread. A slot's process is forked from the runner's
forkserver and runs :func:`~diplograph.api.query_process.worker_main`.
"""

from __future__ import annotations

import contextlib
import os
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from diplograph.api.execution import _Job
from diplograph.api.query_process import worker_main

if TYPE_CHECKING:
    from diplograph.api.workers import ProcessRunner

__all__ = ["HEAVY_NICENESS", "Slot"]

#: Where the ``SCHED_IDLE`` class does not exist, a heavy query's process gets this niceness
#: instead. Either way the process is replaced after the query (it cannot get its priority back).
HEAVY_NICENESS = 10


class Slot:
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
        self.job: _Job | None = None  #: the query it runs
        self.streaming = False  #: its query's result is longer than a chunk: a task relays it
        self.watched = -1  #: the pipe's descriptor while the event loop watches it

    def spawn(self) -> None:
        runner = self.runner
        ours, theirs = runner.context.Pipe()
        process = runner.context.Process(
            target=worker_main,
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

    def unwatch(self) -> None:
        """The event loop stops watching the pipe (on the loop; before the pipe closes)."""
        if self.watched >= 0 and self.runner.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to stop
                self.runner.loop.remove_reader(self.watched)
        self.watched = -1

    def kill(self) -> None:
        """Stop the process at once, whatever it is doing (it is reaped by :meth:`respawn`).
        On the event loop while the loop watches the pipe."""
        self.ready = False
        self.unwatch()
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
