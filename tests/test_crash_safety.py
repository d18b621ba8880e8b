"""Crash safety: a load or a server killed with SIGKILL mid-run leaves every document either
fully present or fully absent, and running the same load again gives exactly the store a clean
load gives (issue 6 §2).

The children are the real ``diplograph`` command on an on-disk store. A load is killed once the
progress bar (on a pseudo-terminal) shows that some batches are committed, at three different
points of the batch that follows; a server is killed once its SPARQL endpoint shows documents of
the ingest request that is still running.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Dataset

from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.children import (
    ROOT,
    ServeChild,
    WatchedLoad,
    child_env,
    command,
    generate_facts,
    poll_until,
)
from tests.support.consistency import (
    Expected,
    canonical_dataset,
    dataset_difference,
    inconsistencies,
)

pytestmark = pytest.mark.slow

DOCS = 120
BATCH = 15
#: Documents committed before each kill of the load, and where in the next batch it lands (as a
#: fraction of the time one batch took so far).
KILLS = ((30, 0.0), (60, 0.5), (90, 0.9))
DOCUMENT_GRAPHS = f"""
SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{
  GRAPH ?g {{ ?s ?p ?o }} FILTER STRSTARTS(STR(?g), "{DEFAULT_BASE_IRI}id/doc/")
}}"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_facts(tmp_path_factory.mktemp("facts") / "facts.jsonl", DOCS, seed=6)


@pytest.fixture(scope="module")
def expected(facts: Path) -> Expected:
    return Expected.from_facts([facts], DEFAULT_BASE_IRI)


@pytest.fixture(scope="module")
def clean_load(facts: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The store that loading ``facts`` once, uninterrupted, into a fresh directory gives."""
    store = tmp_path_factory.mktemp("clean") / "store"
    done = subprocess.run(
        command("load", str(facts), "--store-path", str(store)),
        env=child_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return canonical_dataset(store)


def _check_store(path: Path, expected: Expected, **options: bool) -> set[str]:
    """Open the store at ``path``, assert it is consistent; the documents it holds."""
    store = EmbeddedStore(path)
    try:
        present, problems = inconsistencies(store, expected, **options)
    finally:
        store.close()
    assert problems == []
    return present


def _kill_load_mid_run(
    facts: Path, store: Path, committed: int, phase: float, expected: Expected
) -> None:
    load = WatchedLoad(
        [str(facts), "--store-path", str(store), "--batch-size", str(BATCH)], child_env()
    )
    try:
        load.wait_for(committed - BATCH)
        one_batch = load.wait_for(committed)
        # Kill somewhere inside the next batch (mapping, validation or its commit).
        if phase:
            threading.Event().wait(phase * one_batch)
        load.kill()
    finally:
        load.close()
    assert load.process.returncode == -9
    present = _check_store(store, expected)
    assert committed <= len(present) < DOCS, "the kill did not land mid-run"


def test_a_load_killed_mid_run_leaves_whole_documents_and_a_rerun_equals_a_clean_load(
    tmp_path: Path, facts: Path, expected: Expected, clean_load: Dataset
) -> None:
    store = tmp_path / "store"
    for committed, phase in KILLS:
        _kill_load_mid_run(facts, store, committed, phase, expected)

    rerun = subprocess.run(
        command("load", str(facts), "--store-path", str(store), "--batch-size", str(BATCH)),
        env=child_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert _check_store(store, expected) == set(expected.graphs)
    final = canonical_dataset(store)
    assert final == clean_load, dataset_difference(final, clean_load)


def _post(server: ServeChild, body: bytes, answers: list[httpx.Response | Exception]) -> None:
    try:
        answers.append(
            httpx.post(
                server.url + "/facts",
                content=body,
                headers={**server.auth, "Content-Type": "application/x-ndjson"},
                timeout=300,
            )
        )
    except httpx.HTTPError as exc:
        answers.append(exc)


def _documents(server: ServeChild) -> int:
    return int(server.select(DOCUMENT_GRAPHS)[0]["n"]["value"])


@pytest.mark.server
def test_a_server_killed_during_an_ingest_leaves_whole_documents_and_a_repost_equals_a_clean_load(
    tmp_path: Path, facts: Path, expected: Expected, clean_load: Dataset
) -> None:
    store = tmp_path / "store"
    body = facts.read_bytes()
    server = ServeChild(store, batch_size=BATCH)
    answers: list[httpx.Response | Exception] = []
    try:
        server.start()
        ingest = threading.Thread(target=_post, args=(server, body, answers), daemon=True)
        ingest.start()
        poll_until(lambda: _documents(server) >= DOCS // 3, 120, "a third of the documents")
        server.kill()
        ingest.join(timeout=30)
    finally:
        server.kill()
    assert len(answers) == 1 and isinstance(answers[0], httpx.TransportError), answers
    # The API marks the summary stale before a write it guards; a crash leaves the mark.
    present = _check_store(store, expected, summary_may_be_stale=True)
    assert DOCS // 3 <= len(present) < DOCS, "the kill did not land mid-ingest"

    try:
        server.start()
        again = httpx.post(
            server.url + "/facts",
            content=body,
            headers={**server.auth, "Content-Type": "application/x-ndjson"},
            timeout=300,
        )
    finally:
        server.stop()
    assert again.status_code == 200, again.text
    report = again.json()["documents"]
    assert (report["seen"], report["rejected"]) == (DOCS, 0)
    assert _check_store(store, expected) == set(expected.graphs)
    final = canonical_dataset(store)
    assert final == clean_load, dataset_difference(final, clean_load)
