"""Validation a chunk at a time, on several processes: the same load with any number of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Triple

from diplograph.graph import Graph
from diplograph.loader.batch_validation import BatchValidator, ValidationPool, chunked
from diplograph.loader.config import load_settings
from diplograph.loader.errors import WorkerError
from diplograph.loader.facts import parse_document
from diplograph.loader.mapping import MappedDocument
from diplograph.loader.report import LoadReport
from diplograph.loader.store import open_store
from diplograph.loader.validate import Validator
from tests.support.mixed import GENERATED, Loaded, load_mixed

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 3])
def test_a_load_gives_the_same_store_and_report_with_any_number_of_workers(
    workers: int, mixed_one_process: Loaded
) -> None:
    dataset, report = load_mixed(workers)
    assert report["documents"] == mixed_one_process[1]["documents"]
    assert report == mixed_one_process[1]
    assert set(dataset) == set(mixed_one_process[0])


def test_the_mixed_input_rejects_its_invalid_documents_and_loads_the_rest(
    mixed_one_process: Loaded,
) -> None:
    # Guards the test above: the input exercises rejection in several chunks and batches.
    documents = mixed_one_process[1]["documents"]
    assert documents["rejected"] == 5
    assert documents["loaded"] == len(GENERATED)
    assert {r["record"] for r in mixed_one_process[1]["rejections"]} == {
        f"invalid-{i}" for i in range(len(GENERATED)) if i % 5 == 2
    }


def test_chunks_do_not_depend_on_the_number_of_workers() -> None:
    assert [list(c) for c in chunked(range(7), 3)] == [[0, 1, 2], [3, 4, 5], [6]]


def _mapped(graph: str, *triples: tuple[str, str, str]) -> MappedDocument:
    return MappedDocument(
        graph=graph,
        document_id=graph,
        triples=[Triple(NamedNode(s), NamedNode(p), NamedNode(o)) for s, p, o in triples],
        origins={s: "facts[0]" for s, _, _ in triples},
    )


def test_a_chunk_sees_the_types_of_the_nodes_another_chunk_of_the_batch_describes() -> None:
    base = "https://example.org/"
    store = open_store(load_settings(store="memory"))
    checker = BatchValidator(Validator(), store, base, chunk_size=1)
    described = {base + "b": [Triple(NamedNode(base + "b"), RDF_TYPE, NamedNode(base + "T"))]}
    linking = _mapped(base + "d1", (base + "a", base + "knows", base + "b"))
    data = checker._with_neighbourhood(linking.triples, described=described)
    assert Triple(NamedNode(base + "b"), RDF_TYPE, NamedNode(base + "T")) in data


def test_the_pool_stops_its_processes_when_the_graph_closes() -> None:
    settings = load_settings(store="memory", validation_chunk=3, load_workers=2)
    graph = Graph(settings)
    graph.load_records(parse_document(d, line=i) for i, d in enumerate(GENERATED[:6], start=1))
    pool = graph._pool
    assert isinstance(pool, ValidationPool)
    processes = list(pool._executor._processes.values())  # type: ignore[attr-defined]
    assert processes, "the pool took no chunk"
    graph.close()
    assert graph._pool is None
    assert all(not p.is_alive() for p in processes)


def test_a_pool_of_one_worker_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        ValidationPool("sparql", 1)


def test_the_report_counts_the_same_in_process_and_on_the_pool() -> None:
    # One batch whose two chunks go to the loading process and one worker.
    settings = load_settings(store="memory", batch_size=50, validation_chunk=3, load_workers=2)
    docs = [parse_document(d, line=i) for i, d in enumerate(GENERATED[:6], start=1)]
    with Graph(settings) as graph:
        report: LoadReport = graph.load_records(docs)
    assert (report.documents_loaded, report.documents_rejected) == (6, 0)


_HOLDER = """
import sys, time
from diplograph.loader.batch_validation import ValidationPool
from diplograph.loader.validate import Validator

if __name__ == "__main__":
    pool = ValidationPool("sparql", 2)
    pool.validate(Validator(), [([], ["urn:x:a"]), ([], ["urn:x:b"])])
    print(*pool._executor._processes, flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_the_workers_end_when_the_loading_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER, encoding="utf-8")
    holder = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        workers = [int(pid) for pid in holder.stdout.readline().split()]
        assert workers
        assert all(_running(pid) for pid in workers)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


#: Four chunks of one node each, nothing to validate: work a pool of two shares.
CHUNKS = [([], [f"urn:x:{i}"]) for i in range(4)]


@pytest.fixture
def started_pool() -> Iterator[tuple[ValidationPool, int]]:
    """A pool of two (this process and one worker) that has validated once, and its worker."""
    pool = ValidationPool("sparql", 2)
    try:
        pool.validate(Validator(), CHUNKS)  # the worker started
        [worker] = pool._executor._processes  # type: ignore[attr-defined]
        yield pool, worker
    finally:
        pool.close()


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.timeout(60)  # waiting for the stalled worker would hang until it is resumed
# When the pool breaks, Python 3.11's executor thread fails on the futures of chunks this
# process took itself (cancelled): noise on that thread, not the error under test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_that_died_is_a_worker_error_that_says_what_to_do(
    started_pool: tuple[ValidationPool, int],
) -> None:
    pool, worker = started_pool
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not pool._executor._broken and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)  # the pool notices the death on its own thread
    with pytest.raises(WorkerError, match=r"ended abruptly.*--workers 1"):
        pool.validate(Validator(), CHUNKS)


def test_the_loading_process_validates_the_chunks_a_stalled_worker_has_not_started(
    started_pool: tuple[ValidationPool, int],
) -> None:
    pool, worker = started_pool
    os.kill(worker, signal.SIGSTOP)
    try:
        reports = pool.validate(Validator(), CHUNKS)
    finally:
        os.kill(worker, signal.SIGCONT)
    assert len(reports) == 4
    assert all(r.conforms for r in reports)
