"""Write-behind: a load commits each batch on a thread of its own while it prepares the next
(loader/writer.py), and gives the store a load on one thread gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from pyoxigraph import CanonicalizationAlgorithm, Dataset

from diplograph.loader.config import load_settings
from diplograph.loader.errors import StoreError
from diplograph.loader.facts import read_path
from diplograph.loader.pipeline import Loader, document_graphs
from diplograph.loader.store import GraphChange
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.writer import Writer
from tests.conftest import DATA
from tests.support.children import generate_facts

DOCS = 60
BATCH = 10


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Generated documents re-report each other's events and share actors, so later batches
    # join nodes, move reports and map stored documents again: what write-behind must not race.
    return generate_facts(tmp_path_factory.mktemp("facts") / "facts.jsonl", DOCS, seed=3)


def _load(facts: Path, store: EmbeddedStore, *, behind: bool) -> list[int]:
    """Load ``facts`` in batches; the progress calls, in order."""
    settings = load_settings(store="memory", batch_size=BATCH, write_behind=behind)
    done: list[int] = []
    report = Loader(store, settings).load(read_path(facts), progress=done.append)
    assert report.documents_rejected == 0
    return done


def _canonical(store: EmbeddedStore) -> Dataset:
    dataset = Dataset(store.quads())
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


class _SlowStore(EmbeddedStore):
    """An in-memory store whose commits take a while, as a disk's do: a read that did not wait
    for the commit in flight would see the store without the batch before."""

    def commit(
        self,
        changes: Sequence[GraphChange],
        *,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
    ) -> None:
        time.sleep(0.1)
        super().commit(changes, before=before, after=after)


def test_a_load_committed_behind_gives_the_store_a_load_on_one_thread_gives(facts: Path) -> None:
    behind, alone = _SlowStore(None), EmbeddedStore(None)
    try:
        assert _load(facts, behind, behind=True) == [BATCH] * (DOCS // BATCH)
        _load(facts, alone, behind=False)
        assert set(_canonical(behind)) == set(_canonical(alone))
    finally:
        behind.close()
        alone.close()


def test_a_batch_that_maps_a_stored_document_again_waits_for_its_commit() -> None:
    # The precise report (second batch) moves the vague one (first batch) to its node: the
    # first document is mapped again from the facts its graph keeps, which the second batch
    # reads only once the first batch's commit has ended.
    path = DATA / "writer" / "vague-then-precise.json"
    behind, alone = _SlowStore(None), EmbeddedStore(None)
    try:
        for store, on in ((behind, True), (alone, False)):
            settings = load_settings(store="memory", batch_size=1, write_behind=on)
            report = Loader(store, settings).load(read_path(path))
            assert (report.documents_loaded, report.documents_remapped) == (2, 1)
        assert set(_canonical(behind)) == set(_canonical(alone))
    finally:
        behind.close()
        alone.close()


class _FailingStore(EmbeddedStore):
    """An in-memory store whose commits of documents fail from the ``fail_at``-th on."""

    def __init__(self, fail_at: int) -> None:
        super().__init__(None)
        self.fail_at, self.commits = fail_at, 0
        self.threads: set[str] = set()

    def commit(
        self,
        changes: Sequence[GraphChange],
        *,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
    ) -> None:
        if any("/id/doc/" in c.graph for c in changes):
            self.commits += 1
            self.threads.add(threading.current_thread().name)
            if self.commits >= self.fail_at:
                raise StoreError("the disk is full (a test's store)")
        super().commit(changes, before=before, after=after)


def test_a_commit_that_fails_behind_stops_the_load_with_its_error(facts: Path) -> None:
    store = _FailingStore(fail_at=3)
    try:
        with pytest.raises(StoreError, match="disk is full"):
            _load(facts, store, behind=True)
        # the commits ran on the writer's thread; the two before the failure are whole, and
        # nothing after it was committed
        assert all(name.startswith("diplograph-commit") for name in store.threads)
        assert store.commits == 3
        settings = load_settings(store="memory")
        assert len(document_graphs(store, settings)) == 2 * BATCH
    finally:
        store.close()


def test_the_writer_raises_a_failed_write_at_the_next_settle() -> None:
    writer = Writer()

    def fail() -> None:
        raise StoreError("no room")

    writer.submit(fail)
    with pytest.raises(StoreError, match="no room"):
        writer.settle()
    writer.settle()  # raised once
    assert writer.close() is None


def test_writes_run_in_order_one_at_a_time() -> None:
    writer = Writer()
    seen: list[int] = []
    running = threading.Lock()

    def write(n: int) -> None:
        assert running.acquire(blocking=False), "two writes at once"
        try:
            seen.append(n)
        finally:
            running.release()

    for n in range(20):
        writer.submit(lambda n=n: write(n))  # type: ignore[misc]
    writer.settle()
    assert seen == list(range(20))
    assert writer.close() is None


def test_close_waits_for_the_write_in_flight_and_returns_its_error() -> None:
    writer = Writer()
    started = threading.Event()

    def fail() -> None:
        started.set()
        raise StoreError("failed late")

    writer.submit(fail)
    started.wait(5)
    failed = writer.close()
    assert isinstance(failed, StoreError)
