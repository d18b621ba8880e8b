"""The claims file (loader/claims_cache.py): a process that closes a store leaves the claims of
its documents beside it, and the next process reads them instead of every document's kept
facts, but only when they are the claims of the facts the store holds."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bench.generate import generate
from diplograph.api.app import create_app
from diplograph.graph import Graph
from diplograph.loader import claims_cache, fingerprint, identity, reconcile
from diplograph.loader.claims_cache import CACHE_NAME
from diplograph.loader.config import load_settings
from diplograph.loader.curation import DIFFERENT, Curation
from diplograph.loader.curation import change as curation_change
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.reconcile import Reconciler
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import rebuild as rebuild_module
from tests.conftest import STORY_FILE
from tests.support.children import ServeChild

MINTER = IriMinter(DEFAULT_BASE_IRI)
#: Generated news: people by name and by id, events several documents report.
DOCUMENTS = list(generate(60, seed=5))


def person(doc_id: str, **entity: Any) -> dict[str, Any]:
    """A document in which one person makes a statement."""
    return {
        "format_version": "1.0",
        "document": {
            "id": doc_id,
            "url": f"https://example.org/{doc_id}",
            "published": "2023-10-15",
        },
        "extraction": {"tool": "test", "version": "1", "time": "2023-10-15T08:00:00Z"},
        "entities": [{"id": "p", "type": "Person", **entity}],
        "facts": [
            {
                "id": "f",
                "type": "Statement",
                "participants": [{"entity": "p", "role": "speaker"}],
                "time": {"start": "2023-10-14"},
            }
        ],
    }


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store"


def open_graph(path: Path) -> Graph:
    return Graph(load_settings(store="embedded", store_path=path))


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many kept facts documents reconcilers parsed (none when they read the file)."""
    calls: list[int] = []
    real = reconcile.kept_claims

    def counted(data: Any) -> Any:
        calls.append(1)
        return real(data)

    monkeypatch.setattr(reconcile, "kept_claims", counted)
    return calls


@pytest.fixture
def decided(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many event groups (or parts of one) reconcilers decided (none when the file gave
    the identities back)."""
    calls: list[int] = []
    real = identity.anchors

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(identity, "anchors", counted)
    return calls


@pytest.fixture
def fingerprinted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a process computed the fingerprint of a store's kept facts to learn
    whether the claims file is the store's (none when the store attested it)."""
    calls: list[int] = []
    real = claims_cache.kept_fingerprint

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(claims_cache, "kept_fingerprint", counted)
    return calls


def held(path: Path) -> dict[str, Any]:
    """What a reconciler of the store at ``path`` holds, read the way it reads it now."""
    store = EmbeddedStore(path)
    try:
        reconciler = Reconciler(store, MINTER, superclass_closure())
        current = reconciler.current()
        reports = set(reconciler._reports)
        return {
            "graphs": {m: set(g) for m, g in reconciler._graphs_of.items()},
            "reports": reports,
            "keys": dict(current.keys()),
            "events": {r: (current.group(r), current.event_time(r)) for r in reports},
            "groups": {key: set(members) for key, members in reconciler._groups.items()},
        }
    finally:
        store.close()


def from_the_store(path: Path) -> dict[str, Any]:
    """What a reconciler holds when it parses every document of the store."""
    (path / CACHE_NAME).rename(path / "aside")
    try:
        return held(path)
    finally:
        (path / "aside").rename(path / CACHE_NAME)


def test_closing_a_store_leaves_the_claims_the_next_process_reads(
    path: Path, parsed: list[int], decided: list[int]
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS)
    assert (path / CACHE_NAME).is_file()
    parsed.clear()
    decided.clear()
    read = held(path)
    assert parsed == []  # the file, not the documents
    assert decided == []  # and the identities it keeps, not every event group decided again
    assert read["reports"] and read["keys"]
    assert read == from_the_store(path)
    assert decided  # reading the documents decides the groups


#: The nodes a person named in one document and identified in another would be, apart.
TWO_WAYS = (MINTER.ids() + "person/Q100", MINTER.ids() + "person/ana-lind")


def one_person_two_ways(path: Path) -> None:
    """Load a person by name, then by name and Wikidata id: one node, until a curator says
    the two are different."""
    with open_graph(path) as graph:
        graph.load(person("by-name", name="Ana Lind"))
        graph.load(person("q100", name="Ana Lind", wikidata="Q100"))


def test_identities_kept_for_other_curations_are_decided_again(
    path: Path, parsed: list[int], decided: list[int]
) -> None:
    one_person_two_ways(path)
    before = held(path)
    # A curation written around the loader changes no kept facts, so the claims still hold;
    # the identities, which the statement changes, do not.
    apart = Curation.of(DIFFERENT, *TWO_WAYS)
    store = EmbeddedStore(path)
    try:
        store.commit([curation_change(MINTER.curation_graph(), [apart])])
    finally:
        store.close()
    parsed.clear()
    decided.clear()
    read = held(path)
    assert parsed == []
    assert decided
    assert read["keys"] != before["keys"]
    assert read == from_the_store(path)


def test_claims_kept_in_step_through_replacements_remappings_and_retractions_are_read(
    path: Path, parsed: list[int]
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS[:40])
        graph.load(person("by-name", name="Ana Lind"))
        # the name joins the identified person: "by-name" is mapped again in the same commit
        joined = graph.load(person("with-id", name="Ana Lind", wikidata="Q100"))
        assert joined.documents_remapped == 1
        graph.load({**DOCUMENTS[3], "facts": DOCUMENTS[3]["facts"][:2]})  # other content
        graph.retract(DOCUMENTS[7]["document"]["id"])
        graph.load(DOCUMENTS[40:])
    parsed.clear()
    read = held(path)
    assert parsed == []
    assert read == from_the_store(path)


def test_a_curation_through_the_loader_leaves_the_identities_it_gave(
    path: Path, parsed: list[int], decided: list[int]
) -> None:
    one_person_two_ways(path)
    with open_graph(path) as graph:  # the kept facts do not change: the identities do
        graph.curate(DIFFERENT, *TWO_WAYS)
    parsed.clear()
    decided.clear()
    read = held(path)
    assert parsed == [] and decided == []
    assert read == from_the_store(path)


def test_a_bulk_run_leaves_its_claims_in_the_file_and_lets_go_of_them_before_its_end(
    path: Path, parsed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 10)
    at_rebuild: list[tuple[bool, int]] = []
    in_steps = rebuild_module.rebuild_in_steps

    def watched(*args: Any) -> None:
        assert graph._loader is not None
        at_rebuild.append(((path / CACHE_NAME).is_file(), len(graph._loader.reconciler._reports)))
        in_steps(*args)

    monkeypatch.setattr("diplograph.loader.summary.keeper.rebuild_in_steps", watched)
    with open_graph(path) as graph:
        graph.load(DOCUMENTS)
        assert at_rebuild == [(True, 0)]  # the file written, nothing held
        parsed.clear()
        graph.load(person("after", name="Ana Lind"))
        assert parsed == []  # the next load of the process reads the file
    assert held(path) == from_the_store(path)


def test_a_write_the_file_did_not_see_makes_the_next_process_read_the_store(
    path: Path, parsed: list[int]
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS)
    store = EmbeddedStore(path)  # no loader: nothing keeps the claims in step
    store.update(f"DROP GRAPH <{MINTER.document(DOCUMENTS[0]['document']['id'])}>")
    store.close()
    parsed.clear()
    read = held(path)
    assert len(parsed) == len(DOCUMENTS) - 1
    assert read == from_the_store(path)


def test_a_run_that_never_closed_the_store_leaves_a_file_the_next_process_does_not_trust(
    path: Path, parsed: list[int]
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS[:30])
    cut_short = open_graph(path)
    cut_short.load(DOCUMENTS[30:])
    cut_short.store.close()  # as a SIGKILL leaves it: the file is the one of the first close
    parsed.clear()
    read = held(path)
    assert len(parsed) == len(DOCUMENTS)
    assert read == from_the_store(path)


def test_a_file_written_by_other_loader_code_is_not_read(
    path: Path, parsed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS)
    monkeypatch.setattr(claims_cache, "_code_digest", lambda: "another version")
    parsed.clear()
    held(path)
    assert len(parsed) == len(DOCUMENTS)


def test_a_damaged_file_is_set_aside_with_a_warning(
    path: Path, parsed: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS)
    expected = from_the_store(path)
    (path / CACHE_NAME).write_text('{"key": [1, "')
    parsed.clear()
    with caplog.at_level(logging.WARNING, logger="diplograph.loader.claims_cache"):
        assert held(path) == expected
    assert len(parsed) == len(DOCUMENTS)
    assert "not using the claims file" in caplog.text


def test_a_file_that_cannot_be_written_costs_only_a_warning(
    path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused(*args: Any) -> None:
        raise PermissionError("refused")

    monkeypatch.setattr(claims_cache.os, "replace", refused)
    with caplog.at_level(logging.WARNING), open_graph(path) as graph:
        graph.load(DOCUMENTS[:5])
    assert "cannot write the claims file" in caplog.text
    assert sorted(p.name for p in path.glob(CACHE_NAME + "*")) == []


def test_a_store_in_memory_has_no_file() -> None:
    store = EmbeddedStore(None)
    assert claims_cache.ClaimsCache.of(store) is None
    store.close()


def test_a_server_that_stops_leaves_the_claims_of_what_it_loaded(
    path: Path, parsed: list[int]
) -> None:
    settings = load_settings(store="embedded", store_path=path, write_token="token")
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/facts",
            content=json.dumps(DOCUMENTS[:5]),
            headers={"Authorization": "Bearer token", "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
    parsed.clear()
    read = held(path)
    assert parsed == []
    assert read == from_the_store(path)


@pytest.mark.server
@pytest.mark.slow
def test_diplograph_serve_stopped_by_sigterm_leaves_the_claims_of_what_it_loaded(
    path: Path, parsed: list[int], fingerprinted: list[int]
) -> None:
    # uvicorn raises SIGTERM again once the app has shut down: only the app's shutdown runs
    server = ServeChild(path, args=("--load", str(STORY_FILE))).start()
    try:
        response = httpx.post(
            server.url + "/facts",
            content=json.dumps(DOCUMENTS[:5]),
            headers={**server.auth, "Content-Type": "application/json"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    parsed.clear()
    read = held(path)
    assert parsed == []
    assert fingerprinted == []  # the store attests the file's state
    assert read == from_the_store(path)


# -- deltas: a load of new documents appends their claims to the file -----------------------

DELTA = b'["delta",'


def file_bytes(path: Path) -> bytes:
    return (path / CACHE_NAME).read_bytes()


def loaded_in_turn(path: Path, *parts: slice) -> None:
    """Each part of the generated documents loaded by a process of its own."""
    for part in parts:
        with open_graph(path) as graph:
            graph.load(DOCUMENTS[part])


def read_from_the_file(path: Path, parsed: list[int], decided: list[int] | None = None) -> None:
    """A new process reads the claims (and with ``decided``, their identities) from the file,
    and holds what the documents give."""
    parsed.clear()
    if decided is not None:
        decided.clear()
    read = held(path)
    assert parsed == []
    assert decided is None or decided == []
    assert read == from_the_store(path)


def test_a_load_of_new_documents_appends_their_claims_that_the_next_process_reads(
    path: Path, parsed: list[int], decided: list[int]
) -> None:
    loaded_in_turn(path, slice(40))
    base = file_bytes(path)
    loaded_in_turn(path, slice(40, 43), slice(43, 44))
    after = file_bytes(path)
    assert after.startswith(base)  # the base is not written again
    assert after.count(DELTA) == 2
    read_from_the_file(path, parsed, decided)


def test_a_change_that_replaces_a_document_writes_the_whole_file_again(
    path: Path, parsed: list[int]
) -> None:
    loaded_in_turn(path, slice(40))
    with open_graph(path) as graph:
        graph.load(DOCUMENTS[40:42])
        graph.load({**DOCUMENTS[3], "facts": DOCUMENTS[3]["facts"][:2]})  # other content
    assert DELTA not in file_bytes(path)
    read_from_the_file(path, parsed)


def test_deltas_that_outgrow_a_quarter_of_the_base_are_written_into_a_new_base(
    path: Path, parsed: list[int]
) -> None:
    loaded_in_turn(path, slice(40))
    base = len(file_bytes(path))
    loaded_in_turn(path, slice(40, 44))
    assert DELTA in file_bytes(path)
    loaded_in_turn(path, slice(44, None))
    assert DELTA not in file_bytes(path)
    assert len(file_bytes(path)) > base
    read_from_the_file(path, parsed)


@pytest.mark.parametrize("cut", ["within a line", "after a line"])
def test_a_delta_cut_short_by_a_crash_makes_the_next_process_read_the_store(
    path: Path, parsed: list[int], caplog: pytest.LogCaptureFixture, cut: str
) -> None:
    loaded_in_turn(path, slice(40))
    base = len(file_bytes(path))
    loaded_in_turn(path, slice(40, 44))
    whole = file_bytes(path)
    middle = base + (len(whole) - base) // 2
    end = middle if cut == "within a line" else whole.index(b"\n", middle) + 1
    (path / CACHE_NAME).write_bytes(whole[:end])
    parsed.clear()
    with caplog.at_level(logging.INFO, logger="diplograph.loader.claims_cache"):
        read = held(path)
    assert len(parsed) == 44  # every document's kept facts: the file is not trusted
    assert "is for other facts" in caplog.text  # a state it does not have, not a damaged file
    assert read == from_the_store(path)


def test_a_store_back_in_the_state_before_a_delta_reads_the_base(
    path: Path, parsed: list[int]
) -> None:
    loaded_in_turn(path, slice(40), slice(40, 44))
    store = EmbeddedStore(path)  # as a backup taken before the second load would be
    for doc in DOCUMENTS[40:44]:
        store.update(f"DROP GRAPH <{MINTER.document(doc['document']['id'])}>")
    store.close()
    read_from_the_file(path, parsed)


def test_a_file_that_changed_since_it_was_read_is_written_whole(path: Path) -> None:
    loaded_in_turn(path, slice(40))
    with open_graph(path) as graph:
        graph.load(DOCUMENTS[40:42])
        # another writer's file, here the same bytes written again: no delta goes onto it
        (path / CACHE_NAME).write_bytes(file_bytes(path))
    assert DELTA not in file_bytes(path)
    assert held(path) == from_the_store(path)


def test_the_fingerprint_the_store_computes_in_one_answer_is_that_of_its_rows(path: Path) -> None:
    # The file is read while the store computes the fingerprint (ClaimsCache.current): one
    # aggregate answer, which must give what the fingerprint of each document's row gives,
    # a graph outside the documents' namespace left out.
    loaded_in_turn(path, slice(10))
    store = EmbeddedStore(path)
    try:
        store.update(
            f"INSERT DATA {{ GRAPH <https://example.org/by-hand> {{ <https://example.org/by-hand> "
            f'<{reconcile.EXTRACTED_FACTS}> "{{}}" }} }}'
        )
        reconciler = Reconciler(store, MINTER, superclass_closure())
        by_rows = fingerprint.fingerprint_of(reconciler._kept_facts("SHA1(?facts)"))
        assert by_rows[1] == 10
        assert fingerprint.kept_fingerprint(store, MINTER.documents()) == by_rows
    finally:
        store.close()


def test_an_empty_store_has_the_fingerprint_of_no_documents(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    none = fingerprint.fingerprint_of([])
    assert fingerprint.kept_fingerprint(store, MINTER.documents()) == none
    store.close()


def test_the_process_after_a_load_takes_the_claims_the_store_attests_without_the_fingerprint(
    path: Path, parsed: list[int], fingerprinted: list[int]
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS[:30])
    parsed.clear()
    fingerprinted.clear()
    read = held(path)
    assert (parsed, fingerprinted) == ([], [])
    assert read == from_the_store(path)


def test_a_write_after_the_claims_were_left_makes_the_next_process_compute_the_fingerprint(
    path: Path, fingerprinted: list[int]
) -> None:
    with open_graph(path) as graph:
        graph.load(DOCUMENTS[:30])
    store = EmbeddedStore(path)
    store.update(f"DROP GRAPH <{MINTER.document(DOCUMENTS[3]['document']['id'])}>")
    store.close()
    fingerprinted.clear()
    read = held(path)
    assert fingerprinted == [1]
    assert read == from_the_store(path)
    assert MINTER.document(DOCUMENTS[3]["document"]["id"]) not in {
        graph for graphs in read["graphs"].values() for graph in graphs
    }
