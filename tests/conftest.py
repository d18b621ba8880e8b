"""Shared fixtures: settings, stores and example data.

Fixtures that start external programs live in ``tests/support/`` (one module per program) and
are registered here as plugins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from diplograph.loader.config import Settings, load_settings
from diplograph.loader.store import Store
from diplograph.loader.store.embedded import EmbeddedStore

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


@pytest.fixture
def disk_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """An empty on-disk Oxigraph store in a temporary directory."""
    store = EmbeddedStore(tmp_path / "store")
    yield store
    store.close()
