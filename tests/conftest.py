"""Shared fixtures: settings, stores, the sample story and in-process clients of the app.

Fixtures that start external programs live in ``tests/support/`` (one module per program) and
are registered here as plugins.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from diplograph.api.app import create_app
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.facts import read_path
from diplograph.loader.pipeline import Loader
from diplograph.loader.store import Store
from diplograph.loader.store.embedded import EmbeddedStore

if TYPE_CHECKING:
    # Imported only for the annotation: the module is a plugin (pytest_plugins below), which
    # pytest must import itself to rewrite its asserts.
    from tests.support.listener import Listener

pytest_plugins = ["tests.support.virtuoso", "tests.support.server", "tests.support.listener"]

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's DIPLOGRAPH_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("DIPLOGRAPH_"):
            monkeypatch.delenv(key)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an in-memory store."""
    return load_settings(store="memory", store_path=tmp_path / "store")


@pytest.fixture
def memory_store() -> Iterator[Store]:
    """An empty in-memory Oxigraph store."""
    store = EmbeddedStore(None)
    yield store
    store.close()


# --- the sample story and the app over it ---------------------------------------------------------
# Many modules need "a store holding the story" and "a client of the app over a store". These
# are the one way to make them; a module that needs other settings passes them to app_client.

#: The sample story every example and competency question is about.
STORY_FILE = EXAMPLES / "story.json"
#: The write token of the clients made here (send it as ``Authorization: Bearer …``).
WRITE_TOKEN = "test-write-token"
WRITE_AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


def load_story(store: Store, *paths: Path) -> None:
    """Load the sample story (and then ``paths``, facts files) into ``store`` through the
    loader; every document must be accepted."""
    loader = Loader(store, load_settings(store="memory"))
    for path in (STORY_FILE, *paths):
        report = loader.load(read_path(path))
        assert report.documents_rejected == 0, report.to_dict()


@contextlib.contextmanager
def app_client(
    store: Store, *, raise_server_exceptions: bool = True, **settings: Any
) -> Iterator[TestClient]:
    """An in-process client of the app over ``store`` (which stays the caller's), with writes
    enabled by :data:`WRITE_TOKEN`; ``settings`` override the in-memory defaults.

    With ``raise_server_exceptions=False`` an unhandled server error comes back as a 500
    response, as a real server would answer, instead of being raised in the test.
    """
    values: dict[str, Any] = {"store": "memory", "write_token": WRITE_TOKEN, **settings}
    app = create_app(load_settings(**values), store)
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
        yield client


@pytest.fixture(scope="module")
def story_store() -> Iterator[EmbeddedStore]:
    """An in-memory store holding the sample story, shared by the tests of one module.

    Tests that write to it must leave it as they found it (or use ``memory_store``).
    """
    store = EmbeddedStore(None)
    load_story(store)
    yield store
    store.close()


@pytest.fixture
def fresh_story_store() -> Iterator[EmbeddedStore]:
    """An in-memory store holding the sample story, for one test (it may write to it)."""
    store = EmbeddedStore(None)
    load_story(store)
    yield store
    store.close()


@pytest.fixture
def summary_rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry for each rebuild of a summary from scratch (``Summary.rebuild``)."""
    from diplograph.loader.summary import Summary

    calls: list[int] = []
    rebuild = Summary.rebuild

    def counted(summary: Summary, **options: bool) -> None:
        calls.append(1)
        rebuild(summary, **options)

    monkeypatch.setattr(Summary, "rebuild", counted)
    return calls


@pytest.fixture
def client(memory_store: Store) -> Iterator[TestClient]:
    """A client of the app over an empty in-memory store, writes enabled."""
    with app_client(memory_store) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def story_client(story_store: EmbeddedStore) -> Iterator[TestClient]:
    """A client of the app over :func:`story_store`, writes enabled; a server error is a 500
    response (the tests of status codes must see it as a client would)."""
    with app_client(story_store, raise_server_exceptions=False) as test_client:
        yield test_client


# --- proof that nothing was fetched ------------------------------------------------------------


def requests_before_fence(listener: Listener) -> list[str]:
    """The requests ``listener`` received before a fence of our own: :meth:`Listener.fence`."""
    return listener.fence()


@pytest.fixture(scope="session")
def mixed_one_process() -> Any:
    """The mixed documents of tests/support/mixed.py loaded with one validating process: what a
    load on several (or on a cluster) must equal."""
    from tests.support.mixed import load_mixed

    return load_mixed(1)
