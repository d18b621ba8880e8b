"""The statement an embedded store keeps for later processes (loader/store/attestation.py): it
stands across closing and opening the store, and every write withdraws it before it writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from diplograph.loader.store import GraphChange
from diplograph.loader.store.attestation import ATTESTATION_NAME
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.store.journal import BulkJournal

EX = "http://example.org/"
STATEMENT = "claims 0123 4"


def _triple(o: str) -> Triple:
    return Triple(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal(o))


@pytest.fixture
def attested(tmp_path: Path) -> Path:
    """A store directory holding one graph, closed with :data:`STATEMENT` attested."""
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.commit([GraphChange(EX + "g1", [_triple("a")])])
    store.attest(STATEMENT)
    store.close()
    return path


def test_a_statement_stands_when_the_store_is_opened_again(attested: Path) -> None:
    store = EmbeddedStore(attested)
    try:
        assert store.attested() == STATEMENT
    finally:
        store.close()


def _commit(store: EmbeddedStore) -> None:
    store.commit([GraphChange(EX + "g2", [_triple("b")])])


def _bulk_commit(store: EmbeddedStore) -> None:
    store.bulk_writes = True
    _commit(store)


def _replace(store: EmbeddedStore) -> None:
    store.commit([GraphChange(EX + "g1", [_triple("c")])])


def _update(store: EmbeddedStore) -> None:
    store.update(f"INSERT DATA {{ <{EX}s> <{EX}p> 'd' }}")


@pytest.mark.parametrize(
    "write",
    [_commit, _bulk_commit, _replace, _update],
    ids=["a new graph", "a bulk write", "a graph replaced", "a SPARQL update"],
)
def test_a_write_withdraws_the_statement_before_the_next_process_opens_the_store(
    attested: Path, write: Callable[[EmbeddedStore], None]
) -> None:
    store = EmbeddedStore(attested)
    try:
        write(store)
        assert store.attested() is None
    finally:
        store.close()
    assert not (attested / ATTESTATION_NAME).exists()
    store = EmbeddedStore(attested)
    try:
        assert store.attested() is None
    finally:
        store.close()


def test_a_write_that_fails_still_withdrew_the_statement(attested: Path) -> None:
    store = EmbeddedStore(attested)
    try:
        with pytest.raises(Exception, match="malformed"):
            store.update("INSERT DATA { this is not SPARQL }")
        assert not (attested / ATTESTATION_NAME).exists()
    finally:
        store.close()


class _Killed(Exception):
    pass


def test_the_undo_of_a_bulk_batch_at_open_withdraws_a_statement_that_stood(
    attested: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EmbeddedStore(attested)
    store.bulk_writes = True

    def killed(journal: BulkJournal) -> None:
        raise _Killed

    monkeypatch.setattr(BulkJournal, "clear", killed)
    with pytest.raises(_Killed):
        _commit(store)  # written whole, its journal left: the next open undoes it
    monkeypatch.undo()
    store.close()
    # As if a statement stood beside the journal (no diplograph write leaves one so).
    (attested / ATTESTATION_NAME).write_text(STATEMENT, encoding="utf-8")
    store = EmbeddedStore(attested)
    try:
        assert store.graph_names() == [EX + "g1"]
        assert store.attested() is None
    finally:
        store.close()


def test_opening_a_store_that_needs_no_undo_keeps_the_statement(attested: Path) -> None:
    for _ in range(2):
        store = EmbeddedStore(attested)
        store.close()
    store = EmbeddedStore(attested)
    try:
        assert store.attested() == STATEMENT
    finally:
        store.close()


def test_a_store_in_memory_keeps_no_statement() -> None:
    store = EmbeddedStore(None)
    store.attest(STATEMENT)
    assert store.attested() is None
    store.close()


def test_a_read_only_store_neither_reads_nor_leaves_a_statement(attested: Path) -> None:
    store = EmbeddedStore.read_only(attested)
    try:
        assert store.attested() is None
        store.attest("claims 4567 8")
    finally:
        store.close()
    assert (attested / ATTESTATION_NAME).read_text(encoding="utf-8") == STATEMENT
