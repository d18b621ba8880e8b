"""A server that takes writes reads the store's claims as it starts (api/preparation.py), so
that its first write does not: a write sent meanwhile waits for the read and uses it."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from diplograph.api import preparation
from diplograph.graph import Graph
from diplograph.loader.config import load_settings
from diplograph.loader.conflicts import held_events
from diplograph.loader.reconcile import Reconciler
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import STORY_FILE, WRITE_AUTH, app_client
from tests.test_conflicts import meeting_report

HEADERS = {"Content-Type": "application/json", **WRITE_AUTH}
PREPARING = "prepare-writes"


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A store on disk holding the sample story, closed: a process that opens it again has read
    none of its claims."""
    path = tmp_path / "store"
    with Graph(load_settings(store="embedded", store_path=path)) as graph:
        graph.load_file(STORY_FILE)
    return path


@pytest.fixture
def claims_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread of each read of a store's claims."""
    names: list[str] = []
    real = Reconciler._read_claims

    def recorded(reconciler: Reconciler) -> None:
        names.append(threading.current_thread().name)
        real(reconciler)

    monkeypatch.setattr(Reconciler, "_read_claims", recorded)
    return names


@pytest.fixture
def held_back(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event that the servers' preparations wait for before they read."""
    release = threading.Event()
    real = preparation.prepare_writes

    def waiting(*args: Any) -> None:
        assert release.wait(30), "the test never let the preparation go on"
        real(*args)

    monkeypatch.setattr(preparation, "prepare_writes", waiting)
    return release


@contextlib.contextmanager
def server_of(path: Path, **settings: Any) -> Iterator[TestClient]:
    store = EmbeddedStore(path)
    try:
        with app_client(store, **settings) as client:
            yield client
    finally:
        store.close()


def health_once_ready(client: TestClient) -> dict[str, Any]:
    """``/health`` once it says the server is ready for writes (or a minute on)."""
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = client.get("/health").json()
        if body.get("writes_ready", True) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def post_report(client: TestClient, name: str = "later") -> int:
    body = json.dumps(meeting_report(name, {"start": "2023-11-15"}))
    return client.post("/facts", content=body, headers=HEADERS).status_code


def test_a_server_that_takes_writes_reads_the_claims_as_it_starts(
    stored: Path, claims_reads: list[str]
) -> None:
    with server_of(stored) as client:
        assert health_once_ready(client)["writes_ready"] is True
        assert claims_reads == [PREPARING]
        assert post_report(client) == 200
    assert claims_reads == [PREPARING]


def test_a_server_that_holds_events_holds_the_recent_ones_as_it_starts(stored: Path) -> None:
    store = EmbeddedStore(stored)
    try:
        with app_client(store) as client:
            assert health_once_ready(client)["writes_ready"] is True
            held = held_events(store)
            assert held is not None and held.recent is not None and len(held) > 0
            assert post_report(client) == 200
            assert held.reads == 0
    finally:
        store.close()


def test_a_write_sent_while_the_server_prepares_waits_and_uses_what_it_read(
    stored: Path, claims_reads: list[str], held_back: threading.Event
) -> None:
    with server_of(stored) as client:
        assert client.get("/health").json()["writes_ready"] is False
        answers: list[int] = []
        write = threading.Thread(target=lambda: answers.append(post_report(client)))
        write.start()
        # Long enough for the load to read the claims itself, were it not waiting.
        write.join(1.0)
        assert answers == []
        held_back.set()
        write.join(60)
        assert answers == [200]
    assert claims_reads == [PREPARING]


def test_a_server_closes_its_store_only_once_the_preparation_ended(
    stored: Path, held_back: threading.Event
) -> None:
    with server_of(stored) as client:
        prepared: preparation.WritePreparation = client.app.state.write_preparation  # type: ignore[attr-defined]
        threading.Timer(0.5, held_back.set).start()
    assert prepared.state == "ready"


def test_a_server_told_not_to_prepare_reads_the_claims_at_its_first_write(
    stored: Path, claims_reads: list[str]
) -> None:
    with server_of(stored, prepare_writes=False) as client:
        assert client.get("/health").json()["writes_ready"] is True
        assert claims_reads == []
        assert post_report(client) == 200
    assert len(claims_reads) == 1 and claims_reads != [PREPARING]


def test_a_preparation_that_fails_leaves_the_read_to_the_first_write(
    stored: Path,
    claims_reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def failing(*args: Any) -> None:
        raise OSError("the claims file could not be read")

    monkeypatch.setattr(preparation, "prepare_writes", failing)
    with caplog.at_level(logging.ERROR, "diplograph.api"), server_of(stored) as client:
        assert health_once_ready(client)["writes_ready"] is True
        assert client.app.state.write_preparation.state == "failed"  # type: ignore[attr-defined]
        assert post_report(client) == 200
    assert "could not prepare for writes" in caplog.text
    assert len(claims_reads) == 1 and claims_reads != [PREPARING]


def test_a_server_without_writes_prepares_nothing(stored: Path, claims_reads: list[str]) -> None:
    with server_of(stored, write_token=None) as client:
        assert "writes_ready" not in client.get("/health").json()
    assert claims_reads == []
