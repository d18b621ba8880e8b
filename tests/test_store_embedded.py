"""The embedded store beyond the shared contract (test_store_contract.py): one process per
store directory, durability across close and reopen, and the materialized union of its named
graphs (its default graph)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    Triple,
)
from pyoxigraph import Store as OxStore

from diplograph.loader.config import load_settings
from diplograph.loader.errors import StoreError, StoreLockedError
from diplograph.loader.namespaces import STORED_DEFAULT_GRAPH
from diplograph.loader.store import GraphChange, open_store
from diplograph.loader.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
G = "http://example.org/g"
TRIPLE = Triple(
    NamedNode("http://example.org/s"), NamedNode("http://example.org/p"), Literal("é\n😀")
)

#: Opens the store given as argv[1], says so, and holds it until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from diplograph.loader.store.embedded import EmbeddedStore
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
    """Closing releases RocksDB's lock: the same process opens the directory again, finds what
    it wrote (the union included), and can close and open it once more."""
    path = tmp_path / "store"
    first = EmbeddedStore(path)
    first.commit([GraphChange(G, [TRIPLE])])
    first.close()
    again = EmbeddedStore(path)
    try:
        assert again.graph_names() == [G]
        assert again.graph_triples(G) == {TRIPLE}
        assert _union(again) == {TRIPLE}
        assert again.count() == 1
    finally:
        again.close()
    third = EmbeddedStore(path)
    try:
        assert third.graph_names() == [G]
    finally:
        third.close()


def _union(store: EmbeddedStore) -> set[Triple]:
    return {q.triple for q in store.union_quads()}


def _count_all(store: EmbeddedStore) -> int:
    result = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert isinstance(result, QuerySolutions)
    return int(next(iter(result))["n"].value)  # type: ignore[union-attr]


OTHER = Triple(NamedNode("http://example.org/s"), NamedNode("http://example.org/p"), Literal("2"))


def test_the_union_default_graph_holds_a_shared_triple_once(memory_store: EmbeddedStore) -> None:
    """Set semantics: two documents asserting one triple do not make it match twice."""
    memory_store.commit([GraphChange(G, [TRIPLE]), GraphChange(G + "2", [TRIPLE, OTHER])])
    assert _count_all(memory_store) == 2
    assert memory_store.count() == 3  # quads in the named graphs


def test_the_union_keeps_a_triple_while_another_graph_still_holds_it(
    memory_store: EmbeddedStore,
) -> None:
    memory_store.commit([GraphChange(G, [TRIPLE]), GraphChange(G + "2", [TRIPLE, OTHER])])
    memory_store.commit([GraphChange(G, None)])
    assert _union(memory_store) == {TRIPLE, OTHER}
    memory_store.commit([GraphChange(G + "2", [OTHER])])
    assert _union(memory_store) == {OTHER}
    memory_store.commit([GraphChange(G + "2", None)])
    assert _union(memory_store) == set()


def test_replacing_two_graphs_that_share_a_triple_in_one_commit_keeps_the_union_exact(
    memory_store: EmbeddedStore,
) -> None:
    memory_store.commit([GraphChange(G, [TRIPLE]), GraphChange(G + "2", [TRIPLE])])
    memory_store.commit([GraphChange(G, [OTHER]), GraphChange(G + "2", [TRIPLE])])
    assert _union(memory_store) == {TRIPLE, OTHER}
    memory_store.commit([GraphChange(G, [OTHER]), GraphChange(G + "2", None)])
    assert _union(memory_store) == {OTHER}


def test_a_blank_node_is_the_same_node_in_its_graph_and_in_the_union(
    memory_store: EmbeddedStore,
) -> None:
    node = BlankNode()
    bnode_triple = Triple(node, NamedNode("http://example.org/p"), Literal("x"))
    memory_store.commit([GraphChange(G, [TRIPLE])])
    memory_store.commit([GraphChange(G, [bnode_triple])])  # a replacement: the SPARQL path
    ask = f'ASK {{ ?b <http://example.org/p> "x" . GRAPH <{G}> {{ ?b ?p ?o }} }}'
    assert bool(memory_store.query(ask))
    memory_store.commit([GraphChange(G, None)])
    assert _union(memory_store) == set()


def test_a_raw_update_keeps_the_union_exact(memory_store: EmbeddedStore) -> None:
    memory_store.commit([GraphChange(G, [TRIPLE, OTHER])])
    memory_store.update(f"DELETE DATA {{ GRAPH <{G}> {{ {OTHER} }} }}")
    assert _union(memory_store) == {TRIPLE}


def test_a_raw_update_without_graph_writes_the_stored_default_graph(
    memory_store: EmbeddedStore,
) -> None:
    """Triples written to "the default graph" are kept in a named graph of their own, which is
    the default graph of queries without the union, and part of the union."""
    memory_store.commit([GraphChange(G, [TRIPLE])])
    memory_store.update(f"INSERT DATA {{ {OTHER} }}")
    assert memory_store.graph_triples(STORED_DEFAULT_GRAPH) == {OTHER}
    own = memory_store.query(f"ASK {{ {TRIPLE} }}", union_default_graph=False)
    assert isinstance(own, QueryBoolean)
    assert bool(own) is False
    assert bool(memory_store.query(f"ASK {{ {OTHER} }}", union_default_graph=False))
    assert _union(memory_store) == {TRIPLE, OTHER}
    memory_store.update("CLEAR DEFAULT")
    assert memory_store.graph_triples(STORED_DEFAULT_GRAPH) == set()
    assert _union(memory_store) == {TRIPLE}


def test_quads_and_count_cover_the_named_graphs_not_the_derived_union(
    memory_store: EmbeddedStore,
) -> None:
    memory_store.commit([GraphChange(G, [TRIPLE])])
    assert list(memory_store.quads()) == [
        Quad(TRIPLE.subject, TRIPLE.predicate, TRIPLE.object, NamedNode(G))
    ]
    assert memory_store.count() == 1


def test_a_store_without_the_union_gets_it_on_open(tmp_path: Path) -> None:
    """Stores written before the union was materialized are brought up to date on open."""
    path = tmp_path / "store"
    raw = OxStore(str(path))
    raw.add(Quad(TRIPLE.subject, TRIPLE.predicate, TRIPLE.object, NamedNode(G)))
    raw.flush()
    del raw
    store = EmbeddedStore(path)
    try:
        assert _union(store) == {TRIPLE}
        assert not any(isinstance(q.graph_name, DefaultGraph) for q in store.quads())
    finally:
        store.close()


def test_memory_settings_open_an_in_memory_store(tmp_path: Path) -> None:
    store = open_store(load_settings(store="memory", store_path=tmp_path / "unused"))
    try:
        assert store.kind == "memory"
        assert not (tmp_path / "unused").exists()
    finally:
        store.close()


def test_a_checkpoint_opens_read_only_in_another_process_while_the_store_stays_open(
    tmp_path: Path,
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.commit([GraphChange(G, [TRIPLE])])
    store.backup(tmp_path / "checkpoint")
    store.commit([GraphChange(G + "2", [TRIPLE])])  # after the checkpoint: not in it
    reader = (
        "import sys\nfrom pathlib import Path\n"
        "from diplograph.loader.store.embedded import EmbeddedStore\n"
        "store = EmbeddedStore.read_only(Path(sys.argv[1]))\n"
        "print(store.graph_names(), store.count())\nstore.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader, str(tmp_path / "checkpoint")],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert done.stdout.strip() == f"['{G}'] 1"
    store.close()


def test_a_read_only_store_refuses_writes(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.commit([GraphChange(G, [TRIPLE])])
    store.backup(tmp_path / "checkpoint")
    store.close()
    reader = EmbeddedStore.read_only(tmp_path / "checkpoint")
    with pytest.raises(StoreError):
        reader.commit([GraphChange(G + "2", [TRIPLE])])
    assert reader.graph_names() == [G]
    reader.close()


# --- write buffers: large transactions are flushed to disk after they commit -----------------


def graph_of(count: int) -> GraphChange:
    """A new graph of ``count`` triples."""
    return GraphChange(
        G,
        [
            Triple(
                NamedNode(f"http://example.org/s{i}"),
                NamedNode("http://example.org/p"),
                TRIPLE.object,
            )
            for i in range(count)
        ],
    )


@pytest.fixture
def flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[EmbeddedStore, list[int]]]:
    """An on-disk store whose flushes are counted, flushing after transactions of 10 quads."""
    monkeypatch.setattr("diplograph.loader.store.embedded.FLUSH_AFTER_QUADS", 10)
    store = EmbeddedStore(tmp_path / "store")
    calls: list[int] = []
    flush = store.flush

    def counted() -> None:
        calls.append(1)
        flush()

    monkeypatch.setattr(store, "flush", counted)
    yield store, calls
    store.close()


def test_a_large_transaction_is_flushed_to_disk_after_it_commits(
    flushes: tuple[EmbeddedStore, list[int]],
) -> None:
    store, calls = flushes
    store.commit([graph_of(5)])  # 10 quads with the union
    assert calls == [1]
    assert len(store.graph_triples(G)) == 5


def test_a_small_write_is_not_flushed(flushes: tuple[EmbeddedStore, list[int]]) -> None:
    store, calls = flushes
    store.commit([graph_of(4)])
    assert calls == []


def test_a_flush_that_fails_after_a_commit_leaves_the_commit_in_place(
    flushes: tuple[EmbeddedStore, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = flushes

    def failing() -> None:
        raise StoreError("cannot flush (simulated)")

    monkeypatch.setattr(store, "flush", failing)
    store.commit([graph_of(5)])
    assert len(store.graph_triples(G)) == 5
