"""The isolation benchmark's parts that can be checked without load: what it says when wrk is
missing, and the bare ASGI app it measures the front process's ceiling with."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench import isolation
from bench.bare_asgi import make_app


def test_without_wrk_the_benchmark_stops_at_once_and_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    started: list[int] = []
    monkeypatch.setattr(isolation, "bench_size", lambda n, args: started.append(n))
    assert isolation.main(["--sizes", "1k"]) == 2
    assert started == []
    message = capsys.readouterr().err
    assert "wrk is not installed" in message
    assert "make bench-tools" in message


def test_the_bare_app_answers_every_get_with_the_same_bytes() -> None:
    app = make_app(b'{"head": {}}', "application/sparql-results+json")
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/sparql", "query_string": b"query=x"}
    asyncio.run(app(scope, None, send))
    start, body = sent
    assert start["status"] == 200
    assert (b"content-type", b"application/sparql-results+json") in start["headers"]
    assert body["body"] == b'{"head": {}}'


def test_cheap_only_and_heavy_only_exclude_each_other(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(isolation, "bench_size", lambda n, args: pytest.fail("it ran"))
    with pytest.raises(SystemExit) as stopped:
        isolation.main(["--cheap-only", "--heavy-only"])
    assert stopped.value.code == 2
    assert "exclude each other" in capsys.readouterr().err
