"""The general upkeep keeps the ranks and the top list where they move, exactly as a rebuild.

On the embedded store, reloads and retracts are kept from reads made before the transaction
(:func:`~loader.summary.precomputed.precomputed`); stores that others may write to keep the
in-transaction upkeep (:func:`~loader.summary.upkeep.incremental`). Each test runs both ways
and checks, after every commit, that the summary graph is the one a rebuild writes and equals a
recount. The documents are phone calls between six people (tests/data/summary/calls.json), so
that each case is made on purpose: a count rising into the top list, one falling out of it (the
upkeep then reads the counts below), ties at the threshold, retracts that lower and remove
source counts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from diplograph.api.app import create_app
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.facts import SourceRecord, parse_document
from diplograph.loader.iris import IriMinter
from diplograph.loader.pipeline import Loader, retract
from diplograph.loader.store import GraphChange
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import Summary
from diplograph.loader.summary import top as top_module
from tests.conftest import ROOT
from tests.test_summary import (
    AUTH,
    DOCS,
    TOKEN,
    Counts,
    assert_exact,
    kept_alike,
    loader_triples,
    record,
)

# The settings fixture, shared with the other summary tests.
from tests.test_summary import settings as settings

TEMPLATE = json.loads((ROOT / "tests" / "data" / "summary" / "calls.json").read_text())
#: The people of the template, by entity id: the last part of their IRI.
PEOPLE = {e["id"]: e["name"].lower().replace(" ", "-") for e in TEMPLATE["entities"]}

#: The documents every test starts from: pair counts 4 (p1 p2), 3 (p1 p3), 2 (p2 p3) and
#: 1 (p4 p5), so that the top 3 are listed and one pair lies below them.
BASE = [("p1", "p2", d) for d in (1, 2, 3, 4)] + [("p1", "p3", d) for d in (1, 2, 3)]
BASE += [("p2", "p3", 1), ("p2", "p3", 2), ("p4", "p5", 1)]

Call = tuple[str, str, int]


def calls(doc_id: str, spec: list[Call]) -> SourceRecord:
    """:func:`call_document`, parsed."""
    return parse_document(call_document(doc_id, spec))


def call_document(doc_id: str, spec: list[Call]) -> dict[str, Any]:
    """A document ``doc_id`` reporting a phone call between ``a`` and ``b`` on the ``day`` of
    October 2023 for each ``(a, b, day)``: the same call in two documents is one event."""
    doc: dict[str, Any] = {k: copy.deepcopy(v) for k, v in TEMPLATE.items() if k != "call"}
    doc["document"]["id"] = doc_id
    doc["facts"] = []
    for i, (a, b, day) in enumerate(spec):
        text = json.dumps(TEMPLATE["call"])
        text = text.replace("{a}", a).replace("{b}", b).replace("{day}", f"{day:02d}")
        doc["facts"].append({**json.loads(text), "id": f"call-{i}"})
    return doc


@pytest.fixture(autouse=True)
def short_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """List the top 3 pairs and rank the top 2 source counts."""
    monkeypatch.setattr(top_module, "TOP_INTERACTIONS", 3)
    monkeypatch.setattr(top_module, "TOP_CORROBORATIONS", 2)


@pytest.fixture(params=["precomputed", "in-transaction"])
def store(request: pytest.FixtureRequest) -> Iterator[EmbeddedStore]:
    """The embedded store, kept by the precomputed upkeep, or taken for a store that others
    may write to, kept inside the transaction."""
    store = EmbeddedStore(None)
    if request.param == "in-transaction":
        store.sole_writer = False
    yield store
    store.close()


@pytest.fixture
def loader(store: EmbeddedStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Loader:
    """The loader, with the base documents loaded. On the embedded store, every later commit
    must take the precomputed upkeep: the in-transaction one fails the test."""
    loader = Loader(store, settings)
    loader.load([calls("base", BASE)])
    if store.sole_writer:

        def refuse(*_: object) -> None:
            raise AssertionError("the embedded store keeps the summary before the transaction")

        monkeypatch.setattr(Summary, "incremental", refuse)
    return loader


def as_rebuilt(store: EmbeddedStore, settings: Settings) -> Counts:
    """The summary graph equals the one a rebuild writes, and a recount; its counts."""
    graph = IriMinter(settings.base_iri).summary_graph()
    kept = store.graph_triples(graph)
    Summary(store, settings.base_iri).rebuild()
    assert kept == store.graph_triples(graph)
    return assert_exact(store, settings)


def pair(a: str, b: str) -> tuple[str, str]:
    """The actors' IRIs of the pair ``a``, ``b`` (entity ids), in the summary's order."""
    first, second = sorted(f"https://w3id.org/diplograph/id/person/{PEOPLE[p]}" for p in (a, b))
    return first, second


def listed(counts: Counts) -> set[tuple[str, str]]:
    return {(k[1], k[2]) for k in counts if k[0] == "top"}


def pair_ranks(counts: Counts) -> dict[tuple[str, str], int]:
    return {(k[1], k[2]): n for k, n in counts.items() if k[0] == "pair rank"}


def test_a_count_rising_into_the_top_list_pushes_the_least_one_out(
    loader: Loader, store: EmbeddedStore, settings: Settings
) -> None:
    loader.load([calls("moving", [("p5", "p6", 1)])])
    before = as_rebuilt(store, settings)
    assert pair("p2", "p3") in listed(before) and pair("p4", "p5") not in listed(before)
    loader.load([calls("moving", [("p4", "p5", d) for d in (2, 3, 4)])])
    after = as_rebuilt(store, settings)
    assert listed(after) == {pair("p1", "p2"), pair("p4", "p5"), pair("p1", "p3")}
    # 4 events each: the first actor's IRI decides (ana-diplomat before di-ambassador).
    assert pair_ranks(after) == {pair("p1", "p2"): 1, pair("p4", "p5"): 2, pair("p1", "p3"): 3}


def test_a_count_falling_out_of_the_top_list_lets_a_count_from_below_in(
    loader: Loader, store: EmbeddedStore, settings: Settings
) -> None:
    loader.load([calls("moving", [("p5", "p6", d) for d in (1, 2, 3, 4, 5)])])
    before = as_rebuilt(store, settings)
    assert pair("p5", "p6") in listed(before) and pair("p2", "p3") not in listed(before)
    loader.load([calls("moving", [("p5", "p6", 1)])])
    after = as_rebuilt(store, settings)
    assert listed(after) == {pair("p1", "p2"), pair("p1", "p3"), pair("p2", "p3")}


def test_a_count_joining_and_leaving_a_tie_at_the_threshold_renumbers_the_tie(
    loader: Loader, store: EmbeddedStore, settings: Settings
) -> None:
    loader.load([calls("moving", [("p3", "p4", 1), ("p3", "p4", 2)])])
    tied = as_rebuilt(store, settings)
    assert len(listed(tied)) == 4, "two pairs of 2 events share the third place"
    # p3 p4 leaves the tie (its events go), p4 p5 joins it.
    loader.load([calls("moving", [("p4", "p5", 2)])])
    after = as_rebuilt(store, settings)
    assert pair("p4", "p5") in listed(after) and pair("p3", "p4") not in listed(after)
    assert sorted(pair_ranks(after).values()) == [1, 2, 3, 4]
    loader.load([calls("moving", [("p5", "p6", 1)])])
    assert len(listed(as_rebuilt(store, settings))) == 3


def test_retracts_lower_and_remove_source_counts_and_their_ranks(
    loader: Loader, store: EmbeddedStore, settings: Settings
) -> None:
    again = {
        "again-1": [("p1", "p2", 1), ("p1", "p2", 2)],
        "again-2": [("p1", "p2", 1)],
        "again-3": [("p1", "p3", 1)],
    }
    loader.load([calls(doc_id, spec) for doc_id, spec in again.items()])
    counts = as_rebuilt(store, settings)
    assert sorted(n for k, n in counts.items() if k[0] == "sources") == [2, 2, 3]
    assert sorted(n for k, n in counts.items() if k[0] == "sources rank") == [1, 2, 3]
    retract(store, settings, "again-1")
    counts = as_rebuilt(store, settings)
    assert sorted(n for k, n in counts.items() if k[0] == "sources") == [2, 2]
    retract(store, settings, "base")
    counts = as_rebuilt(store, settings)
    assert not [k for k in counts if k[0].startswith("sources")]
    assert {k[1:] for k in counts if k[0] == "pair"} == {pair("p1", "p2"), pair("p1", "p3")}


def test_the_precomputed_and_the_in_transaction_upkeep_write_the_same_summary(
    settings: Settings,
) -> None:
    """Reloading documents with other content, on two copies of one store: kept from reads
    before the transaction, or inside it, the summary graph is the same."""
    stores = [EmbeddedStore(None), EmbeddedStore(None)]
    minter = IriMinter(settings.base_iri)
    for each in stores:
        Loader(each, settings).load([record(d) for d in DOCS[:15]])
    # Documents 0-4 now say what documents 20-24 said; document 5 is emptied.
    changes = [
        GraphChange(minter.document(DOCS[i]["document"]["id"]), loader_triples(settings, d))
        for i, d in enumerate(DOCS[20:25])
    ] + [GraphChange(minter.document(DOCS[5]["document"]["id"]), [])]
    operations = Summary(stores[0], settings.base_iri).precomputed(changes)
    assert operations is not None
    kept_alike(stores, changes, operations, settings)


def test_a_store_others_may_write_to_is_not_kept_before_the_transaction(
    settings: Settings,
) -> None:
    store = EmbeddedStore(None)
    store.sole_writer = False
    Loader(store, settings).load([calls("base", BASE)])
    change = GraphChange(IriMinter(settings.base_iri).document("base"), [])
    assert Summary(store, settings.base_iri).precomputed([change]) is None


def test_a_reload_through_the_api_is_kept_before_the_transaction_without_a_rebuild(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``POST /facts`` commits inside a guarded write, which marks the summary stale: the
    keeper trusts its own mark, keeps the summary before the transaction and clears the mark."""
    store = EmbeddedStore(None)
    app_settings = load_settings(store="memory", store_path=tmp_path / "s", write_token=TOKEN)
    Loader(store, app_settings).load([calls("base", BASE), calls("moving", [("p5", "p6", 1)])])
    slow: list[str] = []
    for name in ("incremental", "rebuild_operations"):
        real = getattr(Summary, name)

        def counted(self: Summary, *args: Any, name: str = name, real: Any = real) -> Any:
            slow.append(name)
            return real(self, *args)

        monkeypatch.setattr(Summary, name, counted)
    document = call_document("moving", [("p4", "p5", d) for d in (2, 3, 4)])
    with TestClient(create_app(app_settings, store)) as client:
        response = client.post("/facts", json=document, headers=AUTH)
    assert response.status_code == 200, response.text
    assert slow == []
    assert pair("p4", "p5") in listed(as_rebuilt(store, settings))
