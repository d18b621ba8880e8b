"""The query workers' limits are settings: they reach the runner, a bad one is a clear error, and
a server whose store cannot be snapshotted still serves, on threads, and says so."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from diplograph.api.app import create_app
from diplograph.api.workers import ProcessRunner
from diplograph.cli import main
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.errors import ConfigError
from diplograph.loader.store.embedded import EmbeddedStore

LIMITS: dict[str, Any] = {
    "query_workers": 3,
    "query_client_limit": 1,
    "query_client_queue": 5,
    "query_queue": 7,
    "query_heavy_seconds": 0.5,
}


def test_the_query_limits_reach_the_thread_runner() -> None:
    app = create_app(load_settings(store="memory", **LIMITS))
    runner = app.state.runner
    assert runner.kind == "threads"
    assert runner.workers == 3
    assert runner.queue.client_limit == 1
    assert runner.queue.client_waiting == 5
    assert runner.queue.waiting == 7
    assert runner.heavy_seconds == 0.5


def test_the_process_limits_reach_the_process_runner(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    settings = load_settings(
        store_path=tmp_path / "store",
        query_max_processes=5,
        query_spare_processes=1,
        **LIMITS,
    )
    runner = create_app(settings, store).state.runner
    try:
        assert isinstance(runner, ProcessRunner)
        assert (runner.workers, runner.max_workers, runner.spares) == (3, 5, 1)
        assert runner.queue.client_limit == 1
        assert runner.heavy_seconds == 0.5
    finally:
        runner.close()
        store.close()


def test_unset_limits_keep_the_defaults() -> None:
    runner = create_app(load_settings(store="memory")).state.runner
    assert runner.queue.client_limit == runner.workers - 1
    assert (runner.queue.client_waiting, runner.queue.waiting) == (16, 64)
    assert runner.heavy_seconds == 0.25


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("query_workers", 0),
        ("query_client_limit", 0),
        ("query_queue", -1),
        ("query_heavy_seconds", 0),
        ("query_spare_processes", -2),
    ],
)
def test_a_bad_limit_is_a_config_error_naming_the_setting_and_value(name: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**{name: value})
    assert f"DIPLOGRAPH_{name.upper()}={value!r}" in str(caught.value)


def test_fewer_processes_at_most_than_workers_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"DIPLOGRAPH_QUERY_MAX_PROCESSES=2: .*query_workers \(4\)"
    ):
        load_settings(query_workers=4, query_max_processes=2)


def test_a_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLOGRAPH_QUERY_HEAVY_SECONDS", "0.1")
    assert load_settings().query_heavy_seconds == 0.1
    monkeypatch.setenv("DIPLOGRAPH_QUERY_HEAVY_SECONDS", "soon")
    with pytest.raises(ConfigError, match="DIPLOGRAPH_QUERY_HEAVY_SECONDS='soon'"):
        load_settings()


def test_serve_flags_become_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    served: list[Settings] = []
    monkeypatch.setattr(
        "diplograph.api.server.serve", lambda settings, store: served.append(settings)
    )
    argv = ["serve", "--store-path", str(tmp_path / "store"), "--query-workers", "6",
            "--query-max-processes", "9", "--query-spare-processes", "1",
            "--query-heavy-seconds", "0.1"]  # fmt: skip
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert settings.query_workers == 6
    assert settings.query_max_processes == 9
    assert settings.query_spare_processes == 1
    assert settings.query_heavy_seconds == 0.1


def test_a_bad_serve_flag_exits_with_the_setting_named(tmp_path: Path) -> None:
    argv = ["serve", "--store-path", str(tmp_path / "store"), "--query-workers", "0"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code != 0
    assert "DIPLOGRAPH_QUERY_WORKERS=0" in result.output


# --- no snapshots, no worker processes --------------------------------------------------------


def test_a_store_that_cannot_be_snapshotted_is_served_on_threads_and_health_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    (tmp_path / "store.snapshots").write_text("a file where the snapshots' directory would go")
    try:
        with caplog.at_level(logging.WARNING, logger="diplograph.api.app"):
            app = create_app(load_settings(store_path=tmp_path / "store"), store)
        assert "can no longer be killed" in caplog.text
        with TestClient(app) as http:
            queries = http.get("/health").json()["queries"]
            metrics = http.get("/metrics").text
            answer = http.get("/sparql", params={"query": "ASK {}"})
        assert queries["kind"] == "threads"
        assert queries["killable"] is False
        assert 'diplograph_query_runner{kind="threads"} 1' in metrics.splitlines()
        assert "snapshots cannot be made" in queries["note"]
        assert answer.status_code == 200
    finally:
        store.close()


def test_health_says_queries_on_processes_can_be_killed(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    try:
        app = create_app(load_settings(store_path=tmp_path / "store"), store)
        with TestClient(app) as http:
            queries = http.get("/health").json()["queries"]
        assert (queries["kind"], queries["killable"]) == ("processes", True)
        assert "note" not in queries
    finally:
        store.close()


# --- a script that builds the app without a __main__ guard ------------------------------------


def test_building_the_app_while_a_worker_process_starts_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a worker process looks like while it imports the user's script (multiprocessing
    # marks the process as inheriting until the script is imported).
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(ConfigError, match='if __name__ == "__main__"'):
        create_app(load_settings(store="memory"))
