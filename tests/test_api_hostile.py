"""Hostile requests against a real ``diplograph serve`` process: each is answered cleanly, the
server keeps running and the store is unchanged.

The server runs as a child process (tests/support/children.py), so that a request that crashed
the engine would show here as a failed assertion on a dead child, not as a dead test run. Other
hostile requests (SERVICE, LOAD, FROM, timeouts, caps, XXE, CORS) are in test_api_safety.py and
test_api_protocol.py; docs/reliability.md lists them all.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from diplograph.api.guard import MAX_NESTING
from tests.conftest import STORY_FILE
from tests.support.children import ServeChild

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeChild]:
    """A server over the example story, on its own store directory."""
    store = tmp_path_factory.mktemp("hostile") / "store"
    child = ServeChild(store, args=["--load", str(STORY_FILE)]).start()
    try:
        yield child
    finally:
        child.stop()


def _dump(server: ServeChild) -> bytes:
    response = httpx.get(server.url + "/dump", params={"format": "nquads"}, timeout=30)
    assert response.status_code == 200
    return response.content


def _query(server: ServeChild, text: str) -> httpx.Response:
    return httpx.post(
        server.url + "/sparql",
        content=text.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000,
        "SELECT * WHERE { FILTER(" + "(" * 20000 + "1" + ")" * 20000 + ") }",
        "SELECT * WHERE { FILTER(" + "!" * 20000 + "true) }",
        "ASK { ?s ?p " + "[ ?p " * 5000 + "?o" + " ]" * 5000 + " }",
    ],
    ids=["braces", "parentheses", "negations", "blank-node-brackets"],
)
def test_deeply_nested_query_text_is_refused_and_the_server_lives(
    server: ServeChild, text: str
) -> None:
    response = _query(server, text)
    assert response.status_code == 400
    assert "levels deep" in response.json()["message"]
    assert server.alive()
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200


def test_a_deeply_nested_update_is_refused_before_it_runs(server: ServeChild) -> None:
    before = _dump(server)
    update = "INSERT { <urn:x:s> <urn:x:p> 1 } WHERE " + "{" * 5000 + "}" * 5000
    response = httpx.post(
        server.url + "/sparql", data={"update": update}, headers=server.auth, timeout=30
    )
    assert response.status_code == 400
    assert server.alive()
    assert _dump(server) == before


def test_nesting_up_to_the_limit_still_runs(server: ServeChild) -> None:
    depth = MAX_NESTING - 1
    response = _query(server, "ASK " + "{" * depth + " ?s ?p ?o " + "}" * depth)
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_a_gigantic_query_in_the_url_gets_a_client_error(server: ServeChild) -> None:
    # Sent by hand: HTTP clients refuse to build such a URL.
    target = "/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } # " + "x" * 300_000)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status_line = sock.makefile("rb").readline().decode()
    status = int(status_line.split()[1])
    assert 400 <= status < 500, status_line
    assert server.alive()
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/....//....//pyproject.toml",
        "/id/..%2F..%2F..%2Fpyproject.toml",
        "/kw/..%2F..%2Fpyproject.toml",
    ],
)
def test_path_traversal_in_paths_reads_no_file(server: ServeChild, path: str) -> None:
    response = httpx.get(server.url + path, timeout=10)
    assert response.status_code in (400, 404)
    assert "[project]" not in response.text


@pytest.mark.parametrize("route", ["/dump", "/store"])
@pytest.mark.parametrize(
    "graph",
    ["file:///etc/passwd", "../../etc/passwd", "/etc/passwd", "file:" + str(Path.cwd())],
)
def test_graph_names_never_read_files(server: ServeChild, route: str, graph: str) -> None:
    response = httpx.get(server.url + route, params={"graph": graph}, timeout=10)
    assert response.status_code in (400, 404)
    assert "root:" not in response.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/sparql", {"data": {"update": "CLEAR ALL"}}),
        ("PUT", "/store", {"params": {"graph": "urn:x:g"}, "content": b"<urn:x:s> <urn:x:p> 1 ."}),
        ("DELETE", "/store", {"params": {"graph": "urn:x:g"}}),
        ("POST", "/facts", {"content": STORY_FILE.read_bytes()}),
    ],
)
def test_writes_without_the_right_token_change_nothing(
    server: ServeChild,
    headers: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    before = _dump(server)
    extra = {"Content-Type": "text/turtle"} if method == "PUT" else {}
    if path == "/facts":
        extra = {"Content-Type": "application/json"}
    response = httpx.request(
        method, server.url + path, headers={**headers, **extra}, timeout=30, **kwargs
    )
    assert response.status_code == 401
    assert _dump(server) == before
