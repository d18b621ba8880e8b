"""Concurrency: queries keep being answered while a large load runs, every answer comes from one
consistent snapshot (no reader ever sees half a document, nor a summary that disagrees with the
facts), and two loaders on one embedded store never corrupt it: the second fails clearly or they
run one after the other (issue 6 §3).

A reader asks, in one query, for the size of every named graph and for the summary's quad count;
one query is one snapshot, so each document graph it reports must have exactly the triples the
mapping gives that document, and the quad count must be the sum of the graph sizes.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyoxigraph import Dataset, QuerySolutions

from diplograph.loader.config import load_settings
from diplograph.loader.errors import StoreLockedError
from diplograph.loader.facts import read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DEFAULT_BASE_IRI, DIP
from diplograph.loader.pipeline import load
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.children import ROOT, WatchedLoad, child_env, command, generate_facts
from tests.support.consistency import (
    Expected,
    canonical_dataset,
    dataset_difference,
    inconsistencies,
)
from tests.support.server import StartServer

pytestmark = pytest.mark.slow

DOCS = 80
BATCH = 8
READERS = 2
SUMMARY = IriMinter(DEFAULT_BASE_IRI).summary_graph()
#: One snapshot: every graph's size, and the summary's quad count and stale mark.
SNAPSHOT = f"""
SELECT ?g ?n ?quads ?stale WHERE {{
  {{ SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g }}
  UNION
  {{ GRAPH <{SUMMARY}> {{ <{SUMMARY}> <{DIP}quadCount> ?quads
     OPTIONAL {{ <{SUMMARY}> <{DIP}summaryStale> ?stale }} }} }}
}}"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_facts(tmp_path_factory.mktemp("facts") / "facts.jsonl", DOCS, seed=4)


@pytest.fixture(scope="module")
def expected(facts: Path) -> Expected:
    return Expected.from_facts([facts], DEFAULT_BASE_IRI)


@dataclass
class Snapshot:
    """What one reader's query saw."""

    sizes: dict[str, int]
    quads: int | None
    stale: bool


@dataclass
class Readers:
    """Reader threads that ask :data:`SNAPSHOT` over and over until stopped."""

    ask: Callable[[], Snapshot]
    snapshots: list[Snapshot] = field(default_factory=list)
    slowest: float = 0.0
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _read(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                snapshot = self.ask()
            except BaseException as exc:  # reported by the test, not lost in the thread
                self.errors.append(exc)
                return
            self.slowest = max(self.slowest, time.monotonic() - start)
            self.snapshots.append(snapshot)

    def run_while(self, write: Callable[[], Any]) -> Any:
        """Run ``write`` in this thread while the readers read; its result."""
        threads = [threading.Thread(target=self._read, daemon=True) for _ in range(READERS)]
        for thread in threads:
            thread.start()
        try:
            return write()
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=60)


def _assert_every_snapshot_consistent(readers: Readers, expected: Expected) -> None:
    assert readers.errors == []
    sizes = expected.sizes()
    summaries_checked = 0
    for snapshot in readers.snapshots:
        documents = {g: n for g, n in snapshot.sizes.items() if g in sizes}
        assert documents == {g: sizes[g] for g in documents}, "a reader saw half a document"
        if snapshot.quads is not None and not snapshot.stale:
            assert snapshot.quads == sum(snapshot.sizes.values()), "summary disagrees with facts"
            summaries_checked += 1
    # Not vacuous: the readers answered all through the load and saw it half done.
    seen = {sum(g in sizes for g in s.sizes) for s in readers.snapshots}
    assert len({n for n in seen if 0 < n < DOCS}) >= 3, sorted(seen)
    assert summaries_checked >= 3


def _embedded_snapshot(store: EmbeddedStore) -> Callable[[], Snapshot]:
    def ask() -> Snapshot:
        result = store.query(SNAPSHOT, union_default_graph=False)
        assert isinstance(result, QuerySolutions)
        sizes: dict[str, int] = {}
        quads: int | None = None
        stale = False
        for row in result:
            if row["g"] is not None:
                sizes[row["g"].value] = int(row["n"].value)
            else:
                quads = int(row["quads"].value)
                stale = row["stale"] is not None
        return Snapshot(sizes, quads, stale)

    return ask


def test_queries_are_answered_from_whole_documents_while_a_load_runs_in_the_same_process(
    tmp_path: Path, facts: Path, expected: Expected
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    settings = load_settings(store="embedded", store_path=tmp_path / "store", batch_size=BATCH)
    try:
        readers = Readers(_embedded_snapshot(store))
        report = readers.run_while(lambda: load(read_path(facts), store, settings))
        present, problems = inconsistencies(store, expected)
    finally:
        store.close()
    assert report.documents_loaded == DOCS
    assert (present, problems) == (set(expected.graphs), [])
    _assert_every_snapshot_consistent(readers, expected)
    assert readers.slowest < 5.0  # no reader waits for the writer


def _http_snapshot(client: httpx.Client, url: str) -> Callable[[], Snapshot]:
    def ask() -> Snapshot:
        response = client.post(
            url + "/sparql",
            data={"query": SNAPSHOT},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        sizes: dict[str, int] = {}
        quads: int | None = None
        stale = False
        for row in response.json()["results"]["bindings"]:
            if "g" in row:
                sizes[row["g"]["value"]] = int(row["n"]["value"])
            else:
                quads = int(row["quads"]["value"])
                stale = "stale" in row
        return Snapshot(sizes, quads, stale)

    return ask


@pytest.mark.server
def test_the_sparql_endpoint_answers_from_whole_documents_while_a_post_of_facts_runs(
    tmp_path: Path, facts: Path, expected: Expected, start_server: StartServer
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    try:
        with start_server(store=store, batch_size=BATCH) as server, httpx.Client() as client:
            readers = Readers(_http_snapshot(client, server.url))
            posted = readers.run_while(
                lambda: httpx.post(
                    server.url + "/facts",
                    content=facts.read_bytes(),
                    headers={**server.auth, "Content-Type": "application/x-ndjson"},
                    timeout=300,
                )
            )
        present, problems = inconsistencies(store, expected)
    finally:
        store.close()
    assert posted.status_code == 200, posted.text
    assert (present, problems) == (set(expected.graphs), [])
    _assert_every_snapshot_consistent(readers, expected)
    assert readers.slowest < 5.0


# -- two loaders on one store --------------------------------------------------------------------


def _clean_load(paths: list[Path], store: Path) -> Dataset:
    opened = EmbeddedStore(store)
    try:
        settings = load_settings(store="embedded", store_path=store)
        for path in paths:
            load(read_path(path), opened, settings)
    finally:
        opened.close()
    return canonical_dataset(store)


def _load(facts: Path, store: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command("load", str(facts), "--store-path", str(store), "--batch-size", str(BATCH)),
        env=child_env(),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


LOCKED = "is in use by another diplograph process"


def test_a_second_loader_on_a_store_in_use_fails_with_store_locked_error_and_the_first_completes(
    tmp_path: Path, facts: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = tmp_path / "store"
    first = WatchedLoad(
        [str(facts), "--store-path", str(store), "--batch-size", str(BATCH)], child_env()
    )
    try:
        first.wait_for(BATCH)  # it holds the store now
        second = _load(facts, store)
        _, errors = second.communicate(timeout=120)
        first_was_running = first.process.poll() is None
        first.wait_for(DOCS, timeout=180)
        first_code = first.wait(timeout=60)
    finally:
        first.close()
    assert first_was_running, "the first loader ended before the second tried: nothing was tested"
    assert second.returncode == StoreLockedError.exit_code
    assert f"error: the store at {store} {LOCKED}" in errors
    assert first_code == 0, first.text()
    final = canonical_dataset(store)
    clean = _clean_load([facts], tmp_path_factory.mktemp("clean") / "store")
    assert final == clean, dataset_difference(final, clean)


def test_two_loaders_started_together_either_serialize_or_one_fails_clearly_never_corrupting(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("racing")
    inputs = [
        generate_facts(folder / "a.jsonl", 20, seed=5),
        generate_facts(folder / "b.jsonl", 20, seed=5, after=20),
    ]
    store = tmp_path / "store"
    children = [_load(path, store) for path in inputs]
    try:
        outcomes = [child.communicate(timeout=180) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
    codes = [child.returncode for child in children]
    succeeded = [path for path, code in zip(inputs, codes, strict=True) if code == 0]
    for code, (_, errors) in zip(codes, outcomes, strict=True):
        assert code == 0 or (code == StoreLockedError.exit_code and LOCKED in errors), errors
    assert succeeded, "neither loader succeeded"
    final = canonical_dataset(store)
    clean = _clean_load(succeeded, tmp_path_factory.mktemp("clean") / "store")
    assert final == clean, dataset_difference(final, clean)
