"""The embedded store beyond the shared contract (test_store_contract.py): one process per
store directory, durability across close and reopen, and its own default graph."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, QueryBoolean, Triple

from loader.config import load_settings
from loader.errors import StoreLockedError
from loader.store import GraphChange, open_store
from loader.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
G = "http://example.org/g"
TRIPLE = Triple(
    NamedNode("http://example.org/s"), NamedNode("http://example.org/p"), Literal("é\n😀")
)

#: Opens the store given as argv[1], says so, and holds it until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from loader.store.embedded import EmbeddedStore
store = EmbeddedStore(Path(sys.argv[1]))
print("open", flush=True)
sys.stdin.read()
store.close()
"""


@pytest.fixture
def held_store(tmp_path: Path) -> Iterator[Path]:
    """A store directory that another process holds open for the duration of the test."""
    path = tmp_path / "store"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=environment,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "open"
        yield path
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_a_second_process_gets_store_locked_error(held_store: Path) -> None:
    with pytest.raises(StoreLockedError, match="in use by another diplograph process"):
        EmbeddedStore(held_store)


def test_reopening_after_the_holder_exits_works(tmp_path: Path) -> None:
    path = tmp_path / "store"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", HOLDER, str(path)],
        input="",
        capture_output=True,
        env=environment,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "open"
    EmbeddedStore(path).close()


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.commit([GraphChange(G, [TRIPLE])])
    store.close()

    again = open_store(load_settings(store="embedded", store_path=path))
    try:
        assert again.graph_names() == [G]
        assert again.graph_triples(G) == {TRIPLE}
        assert again.count() == 1
    finally:
        again.close()


def test_a_closed_store_can_be_opened_again_in_the_same_process(tmp_path: Path) -> None:
    path = tmp_path / "store"
    EmbeddedStore(path).close()
    EmbeddedStore(path).close()


def test_without_union_the_default_graph_is_the_stores_own(memory_store: EmbeddedStore) -> None:
    """Facts live in named graphs; the store's own default graph stays empty."""
    memory_store.commit([GraphChange(G, [TRIPLE])])
    ask = "ASK { ?s ?p ?o }"
    union, own = memory_store.query(ask), memory_store.query(ask, union_default_graph=False)
    assert isinstance(union, QueryBoolean)
    assert isinstance(own, QueryBoolean)
    assert bool(union) is True
    assert bool(own) is False
    assert list(memory_store.default_graph_quads()) == []


def test_count_and_quads_include_the_default_graph(memory_store: EmbeddedStore) -> None:
    """Only a raw update can write there; the embedded store still reports it."""
    memory_store.update(f"INSERT DATA {{ {TRIPLE} }}")
    assert memory_store.count() == 1
    assert list(memory_store.quads()) == [
        Quad(TRIPLE.subject, TRIPLE.predicate, TRIPLE.object, DefaultGraph())
    ]
    assert memory_store.graph_names() == []


def test_memory_settings_open_an_in_memory_store(tmp_path: Path) -> None:
    store = open_store(load_settings(store="memory", store_path=tmp_path / "unused"))
    try:
        assert store.kind == "memory"
        assert not (tmp_path / "unused").exists()
    finally:
        store.close()
