"""What a process keeps is frozen out of the cyclic collector's walk (loader/long_lived.py)."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator

import pytest

from diplograph.api import deps
from diplograph.graph import open_graph
from diplograph.loader.long_lived import building, keep
from tests.conftest import WRITE_AUTH, app_client
from tests.test_conflicts import meeting_report


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    """Each test starts with nothing frozen and leaves nothing frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_build_runs_with_the_collector_paused_and_freezes_what_it_built() -> None:
    with building():
        assert not gc.isenabled()
        built = [[n] for n in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)


def test_a_build_that_fails_freezes_nothing_and_restarts_the_collector() -> None:
    with pytest.raises(RuntimeError), building():
        raise RuntimeError("the store went away")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_build_leaves_a_paused_collector_paused() -> None:
    gc.disable()
    try:
        with building():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_garbage_there_is_before_a_build_is_collected_not_frozen() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    with building():
        pass
    assert gc.unfreeze() is None
    assert gc.collect() == 0


def test_keep_freezes_what_is_alive() -> None:
    kept = [[n] for n in range(1000)]
    keep()
    assert gc.get_freeze_count() >= len(kept)


def test_reading_the_stores_claims_freezes_them() -> None:
    with open_graph() as graph:
        graph.load([meeting_report("a", {"start": "2023-11-15"})])
        assert gc.get_freeze_count() > 0


def test_a_server_freezes_what_each_load_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    kept: list[int] = []
    monkeypatch.setattr(deps, "keep", lambda: kept.append(1))
    headers = {"Content-Type": "application/json", **WRITE_AUTH}
    with open_graph() as graph, app_client(graph.store) as client:
        for name in ("a", "b"):
            body = json.dumps(meeting_report(name, {"start": "2023-11-15"}))
            assert client.post("/facts", content=body, headers=headers).status_code == 200
    assert len(kept) == 2
