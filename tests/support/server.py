"""A real diplograph server for tests: uvicorn on 127.0.0.1, a free port, in a thread.

Like httpx's own test server: the app runs in a uvicorn ``Server`` on a background thread and
the test talks to it over a real socket, with real clients (httpx, SPARQLWrapper, rdflib,
roqet). The store is in memory, preloaded from ``tests/data/api/diplomacy.trig``.

Fixtures:

* ``live_server`` – a server with writes enabled (token :data:`TOKEN`), default limits.
* ``start_server`` – a factory: ``with start_server(query_timeout=1.0) as server: …`` for tests
  that need other settings, their own store or their own query runner.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, parse

from diplograph.api.app import create_app
from diplograph.api.execution import QueryRunner
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.namespaces import STORED_DEFAULT_GRAPH
from diplograph.loader.store import GraphChange, Store
from diplograph.loader.store.embedded import EmbeddedStore

__all__ = ["DATA_FILE", "TOKEN", "LiveServer", "load_test_store", "serve_in_thread"]

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "api" / "diplomacy.trig"
TOKEN = "test-write-token"
#: Graphs of the data file (one per source document).
GRAPHS = (
    "https://w3id.org/diplograph/id/doc/brief-3",
    "https://w3id.org/diplograph/id/doc/readout-1",
    "https://w3id.org/diplograph/id/doc/wire-2",
)


@dataclass
class LiveServer:
    """A running server: its base URL (no trailing slash), settings and store."""

    url: str
    settings: Settings
    store: EmbeddedStore
    token: str = TOKEN

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def load_test_store(path: Path = DATA_FILE) -> EmbeddedStore:
    """An in-memory store holding the quads of ``path`` (TriG)."""
    store = EmbeddedStore(None)
    add_quads(store, parse(path=str(path), format=RdfFormat.TRIG))
    return store


def add_quads(store: Store, quads: Iterable[Quad]) -> None:
    """Add ``quads`` through the store interface (one commit), so the union stays exact.

    A quad in the default graph goes where the store keeps the default graph's own triples.
    """
    graphs: dict[str, set[Triple]] = {}
    for quad in quads:
        name = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else None
        graph = name or STORED_DEFAULT_GRAPH
        if graph not in graphs:
            graphs[graph] = store.graph_triples(graph)
        graphs[graph].add(quad.triple)
    store.commit([GraphChange(g, sorted(t, key=str)) for g, t in graphs.items()])


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread keeps its handlers
        pass


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 on a free port; yields the base URL; stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2
    )
    server = _ThreadServer(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="test-uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"store": "memory", "write_token": TOKEN}
    values.update(overrides)
    return load_settings(**values)


StartServer = Callable[..., AbstractContextManager[LiveServer]]


@pytest.fixture
def start_server() -> StartServer:
    """A factory: ``with start_server(**settings_overrides, runner=…, store=…) as server``."""

    @contextlib.contextmanager
    def start(
        *,
        store: EmbeddedStore | None = None,
        runner: QueryRunner | None = None,
        **overrides: Any,
    ) -> Iterator[LiveServer]:
        settings = _settings(**overrides)
        the_store = store if store is not None else load_test_store()
        app = create_app(settings, the_store, runner=runner)
        try:
            with serve_in_thread(app) as url:
                yield LiveServer(url=url, settings=settings, store=the_store)
        finally:
            if store is None:
                the_store.close()

    return start


@pytest.fixture
def live_server(start_server: StartServer) -> Iterator[LiveServer]:
    """A running server over the test data, writes enabled with :data:`TOKEN`."""
    with start_server() as server:
        yield server
