"""The VoID numbers are counted once per version of the store, on a thread of their own, and a
request that would wait past the query timeout is told to come back (api/void_cache.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from diplograph.api import void, void_cache
from diplograph.api.app import create_app
from diplograph.api.void_cache import StatisticsPendingError, VoidCache
from diplograph.loader.config import load_settings
from diplograph.loader.store import GraphChange
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.server import load_test_store


class Counter:
    """A count that says how often it ran, and can be held until released."""

    def __init__(self, *, hold: bool = False, fail: bool = False) -> None:
        self.runs = 0
        self.fail = fail
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self) -> int:
        self.runs += 1
        self.release.wait(10)
        if self.fail:
            raise RuntimeError("the store went away")
        return self.runs


def get(cache: VoidCache[int], store: Any, timeout: float = 5.0) -> int:
    return anyio.run(cache.get, store, timeout)


def test_the_numbers_are_counted_once_per_version_of_the_store() -> None:
    store, count = EmbeddedStore(None), Counter()
    cache = VoidCache(count)
    assert get(cache, store) == get(cache, store) == 1
    store.commit([GraphChange("urn:x:g", [])])  # a write: a new generation
    assert get(cache, store) == 2


def test_a_count_past_the_timeout_goes_on_for_the_next_request() -> None:
    store, count = EmbeddedStore(None), Counter(hold=True)
    cache = VoidCache(count)
    with pytest.raises(StatisticsPendingError, match="ask again"):
        get(cache, store, timeout=0.05)
    count.release.set()
    assert get(cache, store) == 1
    assert count.runs == 1


def test_a_failed_count_is_not_kept() -> None:
    store, count = EmbeddedStore(None), Counter(fail=True)
    cache = VoidCache(count)
    with pytest.raises(RuntimeError):
        get(cache, store)
    count.fail = False
    assert get(cache, store) == 2


class Remote:
    """A store other clients may write to: no generation."""

    generation = None


def test_a_remote_stores_numbers_are_kept_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    count = Counter()
    cache = VoidCache(count)
    assert get(cache, Remote()) == get(cache, Remote()) == 1
    monkeypatch.setattr(void_cache, "REMOTE_FRESHNESS", 0.0)
    assert get(cache, Remote()) == 2


@pytest.fixture
def slow_void(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The VoID count of the app waits for the event."""
    release = threading.Event()
    original = void.void_stats

    def held(*args: Any) -> Any:
        release.wait(10)
        return original(*args)

    monkeypatch.setattr(void, "void_stats", held)
    yield release
    release.set()


def test_the_endpoint_answers_503_with_retry_after_then_the_description(
    slow_void: threading.Event,
) -> None:
    app = create_app(load_settings(store="memory", query_timeout=0.1), load_test_store())
    with TestClient(app) as client:
        pending = client.get("/.well-known/void")
        assert pending.status_code == 503
        assert pending.headers["retry-after"] == "5"
        assert pending.json()["error"] == "StatisticsPendingError"
        slow_void.set()
        app.state.void_cache.future(app.state.store).result(10)  # the count ends
        described = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert described.status_code == 200
    assert "void:triples" in described.text
