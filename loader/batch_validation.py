"""Validating a batch of mapped documents: a chunk at a time, the chunks on several cores.

:class:`BatchValidator` checks a batch the way the loader needs (loader/pipeline.py): each chunk
of ``validation_chunk`` documents at once, with the types of the nodes it links to (from the rest
of the batch for the nodes the batch describes, from the store for the others), and a document
that a failing chunk's violations point at again on its own, so that no document is rejected for
another's error.

SHACL validation is the largest stage of a load (a third of its time at 10k documents,
docs/benchmarks.md) and the one that needs nothing but its input: the triples of a chunk of
documents with their neighbourhood, and the nodes to judge. The identities that mapping needs
span documents and the store (loader/reconcile.py), and committing is one writer's job, so those
stay in the loading process; validation goes to a pool.

A :class:`ValidationPool` runs a batch's chunks on its worker processes while the loading process
validates the first chunk itself, so ``workers`` processes in all are busy, and waits for the
rest. Which chunks a batch has does not depend on the number of workers
(:func:`chunked`), so a load gives the same store and the same report with any number of them
(tests/test_validation_pool.py).

A chunk has a fixed cost (a fresh in-memory store with the ontology and code lists, about 12 ms,
and the 178 compiled queries whatever the data): measured on 300 generated documents, validating
in chunks of 25 took 6.7–7.7 ms a document, in chunks of 50 5.4–6.1 ms. So a chunk is 50
documents and a batch 100 by default: two chunks to share, each as cheap as the whole batch of 50
that was validated at once before.

The workers are started with the *forkserver* method, never forked from the loading process,
which holds the store's RocksDB threads. Each builds its :class:`~loader.validate.Validator`
once (the compiled shapes and the ontology: about a second) when the pool starts, not on its
first chunk. A chunk crosses as N-Triples, which pyoxigraph writes and parses natively (a pickled
list of terms costs several times more), and comes back as a plain report.

The pool takes any :class:`concurrent.futures.Executor` whose workers can import diplograph:
a Dask cluster's (``distributed.Client.get_executor()``) runs the same chunks on other machines.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pyoxigraph import NamedNode, RdfFormat, Triple, serialize

from diplograph.loader.errors import WorkerError
from diplograph.loader.mapping import MappedDocument
from diplograph.loader.store import Store
from diplograph.loader.validate import Engine, ValidationReport, Validator, Violation

#: What a dead worker process means, and what to do.
_BROKEN = (
    "a validation worker process ended abruptly (killed, out of memory, or started from a "
    'script whose code runs without an `if __name__ == "__main__":` guard, which worker '
    "processes need); nothing of the batch in progress was written: run again, or validate in "
    "the loading process alone with --workers 1 (DIPLOGRAPH_LOAD_WORKERS=1)"
)

__all__ = ["BatchValidator", "Chunk", "ValidationPool", "chunked"]

_RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: The triples to validate (the documents' and their neighbourhood) and the nodes to judge.
Chunk = tuple[Sequence[Triple], Sequence[str]]

T = TypeVar("T")

#: The validator of a worker process, built once by :func:`_start_worker`.
_validator: Validator | None = None
#: Chunks a pool shares by claiming them: slot i holds the round (one call of
#: :meth:`ValidationPool.validate`) whose chunk i was taken; a batch with more chunks validates
#: the rest in the loading process.
_SLOTS = 1024
#: The claims of a worker process's pool (a shared array, from :func:`_start_worker`).
_claims: Any = None


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive chunks of ``size`` (the last one shorter): the same chunks for
    any number of workers, so the results never depend on it."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _start_worker(engine: Engine, loader: int, claims: Any) -> None:
    global _validator, _claims
    _claims = claims
    # A loading process killed outright (SIGKILL, the OOM killer) never tells its workers, and
    # an idle worker waits on its queue forever, keeping the forkserver alive with it: each
    # worker ends itself when the process it works for is gone.
    threading.Thread(target=_end_with, args=(loader,), daemon=True).start()
    _validator = Validator(engine)


def _end_with(pid: int) -> None:
    """Exit this process when process ``pid`` has ended."""
    try:
        watched = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): look once a second
        while _alive(pid):
            time.sleep(1.0)
    else:
        select.select([watched], [], [])
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim(claims: Any, round_: int, index: int) -> bool:
    """Take chunk ``index`` of round ``round_``; False when another process has it."""
    with claims.get_lock():
        if claims[index] == round_:
            return False
        claims[index] = round_
        return True


def _validate_claimed(
    engine: Engine, round_: int, index: int, data: bytes, focus: Sequence[str]
) -> ValidationReport | None:
    """Validate chunk ``index`` of round ``round_`` unless the loading process has taken it
    (then None: it validated the chunk itself)."""
    if not _claim(_claims, round_, index):
        return None
    return _validate_text(engine, data, focus)


def _validate_text(engine: Engine, data: bytes, focus: Sequence[str]) -> ValidationReport:
    """Validate a chunk sent as N-Triples (runs in a worker process)."""
    global _validator
    if _validator is None or _validator.engine != engine:
        _validator = Validator(engine)
    return _validator.validate(data, focus_nodes=focus)


class ValidationPool:
    """Validates the chunks of a batch on ``workers`` processes (the loading process and
    ``workers - 1`` others), or on the loading process and ``executor`` when given (such as a
    Dask cluster's, loader/cluster.py); ``on_close`` lets the executor go."""

    def __init__(
        self,
        engine: Engine,
        workers: int,
        *,
        executor: Executor | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if workers < 2 and executor is None:
            raise ValueError("a validation pool needs at least 2 workers (1 is no pool)")
        self.engine = engine
        self._owned = executor is None
        self._on_close = on_close
        self._round = 0
        self._claims: Any = None
        if executor is None:
            context = multiprocessing.get_context("forkserver")
            self._claims = context.Array("i", _SLOTS)
            executor = ProcessPoolExecutor(
                max_workers=workers - 1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(engine, os.getpid(), self._claims),
            )
        self._executor = executor

    def validate(self, validator: Validator, chunks: Sequence[Chunk]) -> list[ValidationReport]:
        """The report of each chunk, in order.

        The workers take chunks from the end, this process (with ``validator``) from the start,
        each claiming a chunk before it starts it; so this process never waits for a chunk no
        worker has started (a worker slowed by the other work of a busy machine), only for the
        ones in progress at the end. On a caller's executor (a cluster), the workers take every
        chunk but the first. Raises :class:`WorkerError` when a worker process has died."""
        if not chunks:
            return []
        try:
            if self._claims is None:
                return self._validate_static(validator, chunks)
            return self._validate_shared(validator, chunks)
        except BrokenProcessPool:
            raise WorkerError(_BROKEN) from None

    def _validate_shared(
        self, validator: Validator, chunks: Sequence[Chunk]
    ) -> list[ValidationReport]:
        self._round += 1
        shared = range(len(chunks) - 1, 0, -1)  # chunk 0 is this process's from the start
        sent: dict[int, Future[ValidationReport | None]] = {
            index: self._executor.submit(
                _validate_claimed,
                self.engine,
                self._round,
                index,
                serialize(chunks[index][0], format=RdfFormat.N_TRIPLES) or b"",
                list(chunks[index][1]),
            )
            for index in shared
            if index < _SLOTS
        }
        reports: list[ValidationReport | None] = [None] * len(chunks)
        try:
            for index, (triples, focus) in enumerate(chunks):
                if index in sent and not _claim(self._claims, self._round, index):
                    continue  # a worker has it
                reports[index] = validator.validate(triples, focus_nodes=focus)
            for index, future in sent.items():
                if reports[index] is None:
                    reports[index] = future.result()
        finally:
            for future in sent.values():
                future.cancel()  # not started: the worker would find it taken
        assert all(r is not None for r in reports)
        return [r for r in reports if r is not None]

    def _validate_static(
        self, validator: Validator, chunks: Sequence[Chunk]
    ) -> list[ValidationReport]:
        sent: list[Future[ValidationReport]] = [
            self._executor.submit(
                _validate_text,
                self.engine,
                serialize(triples, format=RdfFormat.N_TRIPLES) or b"",
                list(focus),
            )
            for triples, focus in chunks[1:]
        ]
        try:
            first = validator.validate(chunks[0][0], focus_nodes=chunks[0][1])
            return [first, *(future.result() for future in sent)]
        finally:
            for future in sent:
                future.cancel()  # when this one failed: the others' results are not wanted

    def close(self) -> None:
        """Stop the worker processes, or let the caller's executor go (``on_close``)."""
        if self._owned:
            self._executor.shutdown(wait=True, cancel_futures=True)
        elif self._on_close is not None:
            self._on_close()


class BatchValidator:
    """Validates the mapped documents of a batch (see the module docstring)."""

    def __init__(
        self,
        validator: Validator,
        store: Store,
        base_iri: str,
        chunk_size: int,
        pool: ValidationPool | None = None,
    ) -> None:
        self.validator = validator
        self.store = store
        self.base_iri = base_iri
        self.chunk_size = chunk_size
        self.pool = pool

    def check(
        self, docs: Sequence[MappedDocument]
    ) -> tuple[dict[int, list[dict[str, Any]]], list[Violation]]:
        """Validate documents a chunk at a time: the violations of each invalid one by index,
        and the warnings and infos (which never reject).

        Each chunk of ``validation_chunk`` documents is validated at once (fast when all is
        well), the chunks in parallel when there is a pool; a chunk sees the types of the nodes
        that the batch's other chunks describe, as the store's types of the nodes the batch
        only links to. When a chunk does not conform, each document the violations point at is
        validated again on its own, so a document is never rejected for another document's
        error.
        """
        if not docs:
            return {}, []
        chunks = list(chunked(range(len(docs)), self.chunk_size))
        described = _types_by_subject(docs) if len(chunks) > 1 else None
        reports = self._run(
            [
                (
                    self._with_neighbourhood(
                        (t for i in chunk for t in docs[i].triples), described=described
                    ),
                    sorted({n for i in chunk for n in docs[i].nodes}),
                )
                for chunk in chunks
            ]
        )
        # A node two chunks describe is judged in both: each note once.
        notes = list(
            dict.fromkeys(r for rep in reports for r in rep.results if r.severity != "Violation")
        )
        suspects: set[int] = set()
        for chunk, report in zip(chunks, reports, strict=True):
            if report.conforms:  # warnings and infos never reject
                continue
            suspects |= {
                i
                for i in chunk
                for r in report.results
                if r.severity == "Violation" and r.focus_node in docs[i].origins
            } or set(chunk)
        order = sorted(suspects)
        singles = self._run(
            [(self._with_neighbourhood(docs[i].triples), sorted(docs[i].nodes)) for i in order]
        )
        failures: dict[int, list[dict[str, Any]]] = {}
        for i, single in zip(order, singles, strict=True):
            if not single.conforms:
                doc = docs[i]
                failures[i] = [
                    {
                        "focus_node": r.focus_node,
                        "field": doc.origins.get(r.focus_node),
                        "path": r.path,
                        "value": r.value,
                        "constraint": r.constraint,
                        "shape": r.shape,
                        "message": r.message,
                        "severity": r.severity,
                    }
                    for r in single.results
                    if r.severity == "Violation"
                ]
        return failures, notes

    def _run(self, chunks: Sequence[Chunk]) -> list[ValidationReport]:
        """The report of each chunk: on the pool when there is one and more than one chunk."""
        if self.pool is not None and len(chunks) > 1:
            return self.pool.validate(self.validator, chunks)
        return [self.validator.validate(data, focus_nodes=focus) for data, focus in chunks]

    def _with_neighbourhood(
        self, triples: Iterable[Triple], *, described: Mapping[str, list[Triple]] | None = None
    ) -> list[Triple]:
        """The triples plus the types of the IRIs they link to but do not describe: from
        ``described`` (the type triples of each node the rest of the batch describes) for the
        nodes it has, from the store for the others."""
        data = list(triples)
        subjects = {t.subject for t in data}
        linked = {
            t.object.value
            for t in data
            if isinstance(t.object, NamedNode)
            and t.object not in subjects
            and t.object.value.startswith(self.base_iri)
        }
        if described:
            in_batch = {iri for iri in linked if iri in described}
            data.extend(t for iri in in_batch for t in described[iri])
            linked -= in_batch
        if linked:
            data.extend(self.store.types_of(linked))
        return data


def _types_by_subject(docs: Sequence[MappedDocument]) -> dict[str, list[Triple]]:
    """The ``rdf:type`` triples of every IRI ``docs`` describe, by IRI (an IRI described without
    a type has an empty list: it is described, so the store's types are not asked for)."""
    described: dict[str, list[Triple]] = {}
    for doc in docs:
        for t in doc.triples:
            if isinstance(t.subject, NamedNode):
                types = described.setdefault(t.subject.value, [])
                if t.predicate == _RDF_TYPE:
                    types.append(t)
    return described
