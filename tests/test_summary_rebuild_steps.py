"""The end of a bulk load rebuilds the summary in steps under its stale mark
(loader/summary/rebuild.py): the same summary as one transaction, and a rebuild that stops
between steps leaves the mark for the next one. Then it compacts the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.errors import StoreError
from diplograph.loader.facts import parse_document
from diplograph.loader.pipeline import Loader
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import Summary, streamed
from diplograph.loader.summary import rebuild as rebuild_module
from tests.support.consistency import summary_is_exact

DOCS: list[dict[str, Any]] = list(generate(30, seed=7))
#: The first documents told again under other ids: events with two and three sources, which
#: 30 generated documents do not have (the corroboration counts).
AGAIN: list[dict[str, Any]] = [
    {**doc, "document": {**doc["document"], "id": f"again-{n}-{i}"}}
    for i, doc in enumerate(DOCS[:3])
    for n in range(1 + i % 2)
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(store_path=tmp_path / "store", batch_size=10)


@pytest.fixture
def store(settings: Settings) -> Iterator[EmbeddedStore]:
    """An on-disk store (each step is flushed to disk) holding the generated documents."""
    assert settings.store_path is not None
    the_store = EmbeddedStore(settings.store_path)
    Loader(the_store, settings).load([parse_document(d) for d in DOCS + AGAIN])
    yield the_store
    the_store.close()


def test_a_rebuild_in_steps_writes_what_one_transaction_writes(
    store: EmbeddedStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuild_module, "DELETE_CHUNK", 7)  # several delete steps
    monkeypatch.setattr(streamed, "WRITE_CHUNK", 3)  # several steps of each kind of count
    summary = Summary(store, settings.base_iri)
    summary.rebuild(in_steps=True)
    assert summary_is_exact(store, settings.base_iri)


def test_a_rebuild_in_steps_counts_what_raw_writes_add_as_one_transaction_does(
    store: EmbeddedStore, settings: Settings
) -> None:
    # Written around the loader (SPARQL Update): an event that is a blank node, with two
    # sources, which has no count node, and a participant that is a literal, which does.
    store.update(
        "PREFIX dip: <https://w3id.org/diplograph/ns#> PREFIX prov: <http://www.w3.org/ns/prov#> "
        "INSERT DATA { GRAPH <http://example.org/raw> { "
        "_:e a dip:Event ; dip:hasParticipant <http://example.org/a>, <http://example.org/b> ; "
        "prov:wasDerivedFrom <http://example.org/d1>, <http://example.org/d2> . "
        "<http://example.org/e> a dip:Event ; "
        'dip:hasParticipant <http://example.org/a>, "someone" ; '
        "prov:wasDerivedFrom <http://example.org/d1>, <http://example.org/d2> . } }"
    )
    Summary(store, settings.base_iri).rebuild(in_steps=True)
    assert summary_is_exact(store, settings.base_iri)


def test_a_rebuild_stopped_between_steps_leaves_the_summary_marked_for_the_next(
    store: EmbeddedStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = Summary(store, settings.base_iri)
    commit, calls = store.commit, []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 4:  # the mark, a deletion, then the first counts: stop there
            raise StoreError("disk full (simulated)")
        commit(*args, **kwargs)

    monkeypatch.setattr(store, "commit", failing)
    with pytest.raises(StoreError, match="simulated"):
        summary.rebuild(in_steps=True)
    assert summary.state() == "stale"
    monkeypatch.setattr(store, "commit", commit)
    summary.rebuild(in_steps=True)
    assert summary_is_exact(store, settings.base_iri)


def test_the_end_of_a_bulk_load_rebuilds_in_steps(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 10)
    stepped: list[int] = []
    in_steps = rebuild_module.rebuild_in_steps

    def counted(*args: Any) -> None:
        stepped.append(1)
        in_steps(*args)

    monkeypatch.setattr("diplograph.loader.summary.keeper.rebuild_in_steps", counted)
    with EmbeddedStore(None) as store:
        Loader(store, settings).load([parse_document(d) for d in DOCS])
        assert stepped == [1]
        assert summary_is_exact(store, settings.base_iri)


def test_the_end_of_a_bulk_load_compacts_the_store_after_the_rebuild(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuild deletes the old summary: the compaction that follows drops what it deleted."""
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 10)
    calls: list[str] = []
    in_steps, compact = rebuild_module.rebuild_in_steps, EmbeddedStore.compact

    def rebuilt(*args: Any) -> None:
        calls.append("rebuild")
        in_steps(*args)

    def compacted(self: EmbeddedStore) -> None:
        calls.append("compact")
        compact(self)

    monkeypatch.setattr("diplograph.loader.summary.keeper.rebuild_in_steps", rebuilt)
    monkeypatch.setattr(EmbeddedStore, "compact", compacted)
    with EmbeddedStore(tmp_path / "bulk") as store:
        Loader(store, settings).load([parse_document(d) for d in DOCS])
        assert calls == ["rebuild", "compact"]
        assert summary_is_exact(store, settings.base_iri)


def test_a_load_that_keeps_the_summary_batch_by_batch_does_not_compact(
    store: EmbeddedStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small load into a large store: RocksDB's own background compaction is enough."""
    compacted: list[int] = []
    monkeypatch.setattr(EmbeddedStore, "compact", lambda self: compacted.append(1))
    Loader(store, settings).load([parse_document(d) for d in generate(3, seed=8)])
    assert not compacted
