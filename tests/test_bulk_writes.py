"""Bulk writes (loader/store/embedded.py, loader/store/journal.py): the CLI's loads write batches
of new documents with Oxigraph's bulk loader, which is not atomic; a journal of the batch in
flight lets the next open undo a batch that a crash cut short, so that every document is still
whole or absent and a rerun converges to a clean load (issue 17 §1).

The slow test kills the real ``diplograph load`` inside the bulk write, after part of a batch's
quads are in the store (tests/support/bulk_child.py); the others simulate the crash in-process.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    Triple,
)
from pyoxigraph import Store as OxStore

from diplograph.cli import main
from diplograph.graph import Graph
from diplograph.loader.claims_cache import ClaimsCache
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.errors import QuerySyntaxError, StoreError
from diplograph.loader.facts import read_path
from diplograph.loader.fingerprint import attestation, kept_fingerprint
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.pipeline import Loader
from diplograph.loader.store import GraphChange
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.store.journal import JOURNAL_NAME, BulkJournal, JournalError
from diplograph.loader.summary import Summary
from tests.support.children import ROOT, child_env, command, generate_facts
from tests.support.consistency import Expected, dataset_difference, inconsistencies

EX = "http://example.org/"


class _Killed(BaseException):
    """Stands for SIGKILL in-process: nothing of the store's own error handling catches it."""


def _triple(s: str, o: str) -> Triple:
    return Triple(NamedNode(EX + s), NamedNode(EX + "p"), NamedNode(EX + o))


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_facts(tmp_path_factory.mktemp("facts") / "facts.jsonl", 12, seed=6)


@pytest.fixture
def bulk_from_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads switch to bulk mode (loader/bulk.py) after 3 documents."""
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 3)


@pytest.fixture
def bulk_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bulk writes (the quads of each)."""
    sizes: list[int] = []
    write = EmbeddedStore._bulk_write

    def counted(store: EmbeddedStore, nquads: bytes) -> None:
        sizes.append(nquads.count(b"\n"))
        write(store, nquads)

    monkeypatch.setattr(EmbeddedStore, "_bulk_write", counted)
    return sizes


def _settings(path: Path) -> Settings:
    return load_settings(store="embedded", store_path=path, batch_size=3)


def _load(path: Path, facts: Path, *, bulk: bool, first: int | None = None) -> None:
    store = EmbeddedStore(path)
    store.bulk_writes = bulk
    try:
        records = list(read_path(facts))[:first]
        report = Loader(store, _settings(path)).load(records)
        assert report.documents_rejected == 0
    finally:
        store.close()


def _every_quad(path: Path) -> Dataset:
    """Every quad of the store at ``path``, the union (its default graph) included, with
    canonical blank-node names."""
    store = OxStore(str(path))
    try:
        dataset = Dataset(store.quads_for_pattern(None, None, None, None))
    finally:
        del store
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


@pytest.fixture(scope="module")
def clean_load(facts: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The store a transactional load of ``facts`` gives (default thresholds: no bulk mode)."""
    path = tmp_path_factory.mktemp("clean") / "store"
    _load(path, facts, bulk=False)
    return _every_quad(path)


@pytest.mark.usefixtures("bulk_from_3")
def test_a_bulk_load_gives_the_store_a_transactional_load_gives(
    tmp_path: Path, facts: Path, clean_load: Dataset, bulk_writes: list[int]
) -> None:
    _load(tmp_path / "bulk", facts, bulk=True)
    # 12 documents, 3 a batch, each written in bulk: the first with the summary's upkeep (and
    # its done mark), the others in bulk mode (the first batch switches to it)
    assert len(bulk_writes) == 4
    assert not (tmp_path / "bulk" / JOURNAL_NAME).exists()
    bulk = _every_quad(tmp_path / "bulk")
    assert bulk == clean_load, dataset_difference(bulk, clean_load)


@pytest.mark.usefixtures("bulk_from_3")
def test_a_batch_a_crash_cut_short_is_undone_at_the_next_open_and_a_rerun_equals_a_clean_load(
    tmp_path: Path, facts: Path, clean_load: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store"
    _load(path, facts, bulk=True, first=6)
    before: list[Dataset] = []
    write = EmbeddedStore._bulk_write

    def cut_short(store: EmbeddedStore, nquads: bytes) -> None:
        before.append(_every_quad_of(store))
        lines = nquads.splitlines(keepends=True)
        write(store, b"".join(lines[: len(lines) // 2]))
        raise _Killed

    monkeypatch.setattr(EmbeddedStore, "_bulk_write", cut_short)
    with pytest.raises(_Killed):
        _load(path, facts, bulk=True)
    monkeypatch.undo()
    assert (path / JOURNAL_NAME).exists()
    assert _every_quad(path) != before[0], "the cut-short batch wrote nothing"

    EmbeddedStore(path).close()  # the open undoes the batch
    assert not (path / JOURNAL_NAME).exists()
    assert _every_quad(path) == before[0]

    _load(path, facts, bulk=False)
    final = _every_quad(path)
    assert final == clean_load, dataset_difference(final, clean_load)


def _every_quad_of(store: EmbeddedStore) -> Dataset:
    dataset = Dataset(store.oxigraph.quads_for_pattern(None, None, None, None))
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    """A store holding graph ``g1`` (triples a-b, c-d), written in a transaction."""
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.commit([GraphChange(EX + "g1", [_triple("a", "b"), _triple("c", "d")])])
    store.close()
    yield path


def _bulk_commit_cut(path: Path, change: GraphChange, cut: Callable[[], None]) -> None:
    """Commit ``change`` in bulk on the store at ``path``; ``cut`` runs in place of the
    journal's removal (after the bulk write returned)."""
    store = EmbeddedStore(path)
    store.bulk_writes = True
    clear = BulkJournal.clear
    BulkJournal.clear = lambda journal: cut()  # type: ignore[method-assign]
    try:
        store.commit([change])
    finally:
        BulkJournal.clear = clear  # type: ignore[method-assign]
        store.close()


def _kill() -> None:
    raise _Killed


def test_union_triples_another_graph_holds_survive_the_undo(store_path: Path) -> None:
    change = GraphChange(EX + "g2", [_triple("a", "b"), _triple("e", "f")])
    with pytest.raises(_Killed):
        _bulk_commit_cut(store_path, change, _kill)  # the batch is whole, its journal left

    store = EmbeddedStore(store_path)
    try:
        assert store.graph_names() == [EX + "g1"]
        assert {q.triple for q in store.union_quads()} == {_triple("a", "b"), _triple("c", "d")}
    finally:
        store.close()


UPKEEP = f"INSERT DATA {{ GRAPH <{EX}summary> {{ <{EX}summary> <{EX}count> 2 }} }}"


def _commit_with_upkeep(path: Path, upkeep: str = UPKEEP) -> None:
    """Commit the new graph ``g2`` in bulk, with the data operation ``upkeep``."""
    store = EmbeddedStore(path)
    store.bulk_writes = True
    try:
        change = GraphChange(EX + "g2", [_triple("e", "f"), _triple("g", "h")])
        store.commit([change], after=[upkeep], data_only=True)
    finally:
        store.close()


def _graphs(path: Path) -> list[str]:
    store = EmbeddedStore(path)
    try:
        return store.graph_names()
    finally:
        store.close()


#: A batch that writes the new graph g2 and replaces g1 (one triple kept, one gone, one new;
#: c-d is in g2 too, so the union keeps it).
REPLACING = [
    GraphChange(EX + "g2", [_triple("c", "d"), _triple("e", "f")]),
    GraphChange(EX + "g1", [_triple("a", "b"), _triple("x", "y")]),
]


def _commit_replacing(path: Path, *, bulk: bool) -> None:
    store = EmbeddedStore(path)
    store.bulk_writes = bulk
    try:
        store.commit(REPLACING, after=[UPKEEP], data_only=True)
    finally:
        store.close()


def test_a_batch_with_upkeep_is_written_in_bulk_and_leaves_no_mark(
    store_path: Path, bulk_writes: list[int]
) -> None:
    _commit_with_upkeep(store_path)
    assert bulk_writes == [4]  # two triples, in their graph and in the union
    assert _graphs(store_path) == [EX + "g1", EX + "g2", EX + "summary"]
    assert not (store_path / JOURNAL_NAME).exists()


def test_a_batch_killed_after_its_upkeep_landed_is_kept_at_the_next_open(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BulkJournal, "clear", lambda journal: _kill())
    with pytest.raises(_Killed):
        _commit_with_upkeep(store_path)
    monkeypatch.undo()
    assert (store_path / JOURNAL_NAME).exists()

    assert _graphs(store_path) == [EX + "g1", EX + "g2", EX + "summary"]  # no done mark left
    assert not (store_path / JOURNAL_NAME).exists()


@pytest.mark.parametrize("replacing", [False, True], ids=["new-graphs", "new-and-replaced"])
def test_a_batch_killed_before_its_upkeep_is_undone_at_the_next_open(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, replacing: bool
) -> None:
    # A batch that also replaces graphs writes them with its upkeep: neither landed.
    before = _every_quad(store_path)
    monkeypatch.setattr(EmbeddedStore, "_update", lambda store, sparql: _kill())
    with pytest.raises(_Killed):
        if replacing:
            _commit_replacing(store_path, bulk=True)
        else:
            _commit_with_upkeep(store_path)
    monkeypatch.undo()

    assert _graphs(store_path) == [EX + "g1"]
    assert _every_quad(store_path) == before


def _replaced_in_a_transaction(path: Path) -> Path:
    """The store of ``store_path`` at ``path``, with the batch committed in a transaction."""
    store = EmbeddedStore(path)
    store.commit([GraphChange(EX + "g1", [_triple("a", "b"), _triple("c", "d")])])
    store.close()
    _commit_replacing(path, bulk=False)
    return path


def test_a_batch_that_replaces_graphs_writes_its_new_ones_in_bulk_as_a_transaction_would(
    store_path: Path, tmp_path: Path, bulk_writes: list[int]
) -> None:
    _commit_replacing(store_path, bulk=True)
    assert bulk_writes == [4]  # g2's two triples, in their graph and in the union
    other = _replaced_in_a_transaction(tmp_path / "transaction")
    assert _every_quad(store_path) == _every_quad(other)
    assert not (store_path / JOURNAL_NAME).exists()


def test_a_batch_that_replaces_graphs_killed_after_its_upkeep_landed_is_kept(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BulkJournal, "clear", lambda journal: _kill())
    with pytest.raises(_Killed):
        _commit_replacing(store_path, bulk=True)
    monkeypatch.undo()

    other = _replaced_in_a_transaction(tmp_path / "transaction")
    assert _graphs(store_path) == [EX + "g1", EX + "g2", EX + "summary"]
    assert _every_quad(store_path) == _every_quad(other)


def test_a_batch_whose_upkeep_fails_is_undone_at_once(store_path: Path) -> None:
    before = _every_quad(store_path)
    with pytest.raises(QuerySyntaxError, match="malformed SPARQL update"):
        _commit_with_upkeep(store_path, upkeep="INSERT DATA { <broken")
    assert not (store_path / JOURNAL_NAME).exists()
    assert _every_quad(store_path) == before


def test_the_undo_is_logged_with_what_it_undid(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    change = GraphChange(EX + "g2", [_triple("a", "b"), _triple("e", "f")])
    with pytest.raises(_Killed):
        _bulk_commit_cut(store_path, change, _kill)
    with caplog.at_level("WARNING"):
        EmbeddedStore(store_path).close()
    assert "undid a bulk write that did not finish: 1 graph(s) of 2 quads dropped and 1 " in (
        caplog.text
    )


def test_the_files_of_a_bulk_write_cut_short_are_removed_at_the_next_open(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # What Oxigraph's bulk loader leaves in the store directory when killed before RocksDB
    # ingests its files (seen after a SIGKILL 20 s into a bulk write of 3M quads).
    before = _every_quad(store_path)
    stray = [store_path / f"bulk-{n}.sst" for n in (123875558450094821247520084625414685773, 98)]
    for path in stray:
        path.write_bytes(b"\x00" * 64)
    kept = store_path / "bulk-notes.sst"  # not a name the bulk loader gives: not ours to remove
    kept.write_bytes(b"")

    with caplog.at_level("WARNING"):
        EmbeddedStore(store_path).close()
    assert not any(path.exists() for path in stray)
    assert kept.exists()
    assert "removed 2 file(s) of a bulk write that did not finish" in caplog.text
    assert _every_quad(store_path) == before


def test_a_journal_cut_short_before_its_rename_is_dropped_and_nothing_is_undone(
    store_path: Path,
) -> None:
    before = _every_quad(store_path)
    (store_path / (JOURNAL_NAME + ".tmp")).write_bytes(b"<http://example.org/a> <http://ex")

    EmbeddedStore(store_path).close()
    assert not (store_path / (JOURNAL_NAME + ".tmp")).exists()
    assert _every_quad(store_path) == before


@pytest.mark.parametrize(
    "journal",
    [
        b"<http://example.org/a> <http://example.org/p> <http://example.org/b> <http://ex",
        b"<http://example.org/a> <http://example.org/p> <http://example.org/b> "
        b"<http://example.org/g1> .\n\n# end of batch: 2 quads\n",
    ],
    ids=["no end line", "fewer quads than its end line says"],
)
def test_a_journal_that_is_not_whole_is_refused_and_the_store_left_as_it_is(
    store_path: Path, journal: bytes
) -> None:
    before = _every_quad(store_path)
    (store_path / JOURNAL_NAME).write_bytes(journal)

    with pytest.raises(JournalError, match="is not whole"):
        EmbeddedStore(store_path)
    assert (store_path / JOURNAL_NAME).read_bytes() == journal
    assert _every_quad(store_path) == before


def test_a_bulk_write_that_fails_is_undone_at_once_and_the_store_takes_writes_again(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _every_quad(store_path)
    write = EmbeddedStore._bulk_write

    def fail_half_way(store: EmbeddedStore, nquads: bytes) -> None:
        write(store, b"".join(nquads.splitlines(keepends=True)[:2]))
        raise OSError("IO error: No space left on device")

    monkeypatch.setattr(EmbeddedStore, "_bulk_write", fail_half_way)
    store = EmbeddedStore(store_path)
    store.bulk_writes = True
    try:
        with pytest.raises(StoreError, match="disk is full"):
            store.commit([GraphChange(EX + "g2", [_triple("e", "f"), _triple("g", "h")])])
        assert not (store_path / JOURNAL_NAME).exists()
        assert _every_quad_of(store) == before
        store.bulk_writes = False
        store.commit([GraphChange(EX + "g3", [_triple("i", "j")])])
        assert store.graph_names() == [EX + "g1", EX + "g3"]
    finally:
        store.close()


@pytest.mark.usefixtures("bulk_from_3")
@pytest.mark.parametrize(("flag", "bulk"), [((), True), (("--no-bulk-writes",), False)])
def test_the_load_command_writes_in_bulk_unless_told_not_to(
    tmp_path: Path, facts: Path, bulk_writes: list[int], flag: tuple[str, ...], bulk: bool
) -> None:
    argv = ["load", str(facts), "--no-progress", "--batch-size", "3", *flag]
    result = CliRunner().invoke(main, [*argv, "--store-path", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert bool(bulk_writes) is bulk


def test_the_python_api_never_writes_in_bulk(tmp_path: Path) -> None:
    with Graph(_settings(tmp_path / "store")) as graph:
        assert isinstance(graph.store, EmbeddedStore)
        assert graph.store.bulk_writes is False


# -- the real command, killed inside the bulk write ----------------------------------------------

DOCS, BATCH = 60, 10


@pytest.fixture(scope="module")
def many_facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_facts(tmp_path_factory.mktemp("many") / "facts.jsonl", DOCS, seed=6)


@pytest.fixture(scope="module")
def expected(many_facts: Path) -> Expected:
    return Expected.from_facts([many_facts], DEFAULT_BASE_IRI)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=child_env(), cwd=ROOT, capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def clean_cli_load(many_facts: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    path = tmp_path_factory.mktemp("clean-cli") / "store"
    done = _run(command("load", str(many_facts), "--store-path", str(path), "--no-progress"))
    assert done.returncode == 0, done.stderr
    return _every_quad(path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("part", "call", "present", "summary"),
    [("half", 4, 30, "stale"), ("union", 4, 30, "stale"), ("half", 2, 10, "current")],
    ids=["half in bulk mode", "union in bulk mode", "half with the summary's upkeep"],
)
def test_a_load_killed_inside_a_bulk_write_leaves_whole_documents_and_a_rerun_equals_a_clean_load(
    tmp_path: Path,
    many_facts: Path,
    expected: Expected,
    clean_cli_load: Dataset,
    part: str,
    call: int,
    present: int,
    summary: str,
) -> None:
    path = tmp_path / "store"
    load = ["load", str(many_facts), "--store-path", str(path), "--batch-size", str(BATCH)]
    # Every batch is a bulk write: the first two with the summary's upkeep, then bulk mode
    # (after 20 documents). Killed in the CALL-th: the second of bulk mode (documents 31-40), or
    # the second with upkeep (documents 11-20), whose summary must then be exact without it.
    child = [*command()[:2], "tests.support.bulk_child", part, str(call), "20", "--"]
    killed = _run([*child, *load, "--no-progress"])
    assert killed.returncode == -9, killed.stderr
    journal = BulkJournal(path).pending()
    assert journal is not None, "the kill did not land inside a bulk write"
    raw = OxStore(str(path))
    written = [q for q in journal if q in raw] + [
        q for q in journal if Quad(q.subject, q.predicate, q.object, DefaultGraph()) in raw
    ]
    del raw
    assert written, "the kill landed before any quad of the batch was written"

    store = EmbeddedStore(path)  # undoes the batch
    try:
        found, problems = inconsistencies(store, expected, summary_may_be_stale=summary == "stale")
        assert problems == []
        assert len(found) == present
        assert Summary(store, DEFAULT_BASE_IRI).state() == summary
    finally:
        store.close()

    rerun = _run(command(*load, "--no-progress"))
    assert rerun.returncode == 0, rerun.stderr
    store = EmbeddedStore(path)
    try:
        present, problems = inconsistencies(store, expected)
        assert problems == [] and present == set(expected.graphs)
    finally:
        store.close()
    final = _every_quad(path)
    assert final == clean_cli_load, dataset_difference(final, clean_cli_load)


def test_new_graphs_with_blank_nodes_are_written_in_a_transaction_keeping_the_node_one(
    tmp_path: Path, bulk_writes: list[int]
) -> None:
    # The bulk loader labels blank nodes anew, which the journal could not undo.
    store = EmbeddedStore(tmp_path / "store")
    store.bulk_writes = True
    node = BlankNode()
    try:
        store.commit([GraphChange(EX + "g", [Triple(node, NamedNode(EX + "p"), Literal("x"))])])
        named = list(store.oxigraph.quads_for_pattern(None, None, None, NamedNode(EX + "g")))
        union = list(store.oxigraph.quads_for_pattern(None, None, None, DefaultGraph()))
    finally:
        store.close()
    assert bulk_writes == []
    assert [q.subject for q in named] == [q.subject for q in union] == [node]


def test_a_bulk_batch_holds_each_triple_in_its_graph_and_in_the_union(
    tmp_path: Path, bulk_writes: list[int]
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.bulk_writes = True
    tricky = Triple(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("a dot .\nand more"))
    try:
        store.commit(
            [
                GraphChange(EX + "g1", [_triple("a", "b"), tricky]),
                GraphChange(EX + "g2", [_triple("a", "b")]),
            ]
        )
        every = set(store.oxigraph.quads_for_pattern(None, None, None, None))
    finally:
        store.close()
    assert bulk_writes == [6]  # the named graphs' three quads, then the union's copies
    plain = _triple("a", "b")
    assert every == {
        Quad(t.subject, t.predicate, t.object, graph)
        for t, graph in [
            (plain, NamedNode(EX + "g1")),
            (tricky, NamedNode(EX + "g1")),
            (plain, NamedNode(EX + "g2")),
            (plain, DefaultGraph()),
            (tricky, DefaultGraph()),
        ]
    }


def test_a_bulk_load_leaves_the_store_attesting_the_claims_file_after_its_summary_rebuild(
    tmp_path: Path, facts: Path, bulk_from_3: None
) -> None:
    # The rebuild and the compaction that end a bulk run write to the store, but no kept
    # facts: the next process may still take the claims file's last state as the store's.
    path = tmp_path / "store"
    _load(path, facts, bulk=True)
    store = EmbeddedStore(path)
    try:
        assert Summary(store, DEFAULT_BASE_IRI).state() == "current"
        cache = ClaimsCache.of(store)
        assert cache is not None
        state = cache.last_state()
        assert state is not None and state[1] == 12
        assert store.attested() == attestation(*state)
        assert kept_fingerprint(store, IriMinter(DEFAULT_BASE_IRI).documents()) == state
    finally:
        store.close()
