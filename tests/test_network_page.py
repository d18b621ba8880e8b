"""The network page in a real headless browser (Debian's chromium, driven over the DevTools
protocol by bench/browser.py): it draws with no network but the server's, the drawing holds the
expected nodes and edges (read from the page's own state, ``window.diplographNetwork``), hover
tells the counts, a click on a node opens the actor's page, and the actors' table is reached
from the keyboard.

The data is tests/test_network.py's: the story, two visits in 2022, and a second report of the
story's phone call (16 actors, 18 pairs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.browser import Chromium
from diplograph.loader.config import load_settings
from diplograph.loader.facts import read_path
from diplograph.loader.pipeline import load
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.external import require_program
from tests.support.server import LiveServer, StartServer
from tests.test_network import DOCUMENTS

pytestmark = [pytest.mark.server, pytest.mark.external]

QATAR = "https://w3id.org/diplograph/id/state/Q846"
#: Drawn (or failed), and laid out: nodes no longer move.
DRAWN = (
    "window.diplographNetwork && (window.diplographNetwork.settled"
    " || window.diplographNetwork.state === 'error')"
)


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(None)
    settings = load_settings(store="memory")
    for path in DOCUMENTS:
        assert load(read_path(path), store, settings).documents_rejected == 0
    yield store
    store.close()


@pytest.fixture
def server(start_server: StartServer, store: EmbeddedStore) -> Iterator[LiveServer]:
    with start_server(store=store) as server:
        yield server


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    program = require_program("chromium", "chromium-browser", "google-chrome")
    with Chromium(program, tmp_path / "profile", offline=True) as browser:
        yield browser


def open_network(browser: Chromium, server: LiveServer, query: str = "") -> dict[str, Any]:
    browser.navigate(f"{server.url}/network{query}")
    browser.wait_for(DRAWN)
    state: dict[str, Any] = browser.evaluate(
        "(({state, nodes, edges, error}) => ({state, nodes, edges, error: error || null}))"
        "(window.diplographNetwork)"
    )
    return state


def node_position(browser: Chromium, iri: str) -> tuple[float, float]:
    """Where ``iri``'s node is drawn, in page coordinates."""
    x, y = browser.evaluate(
        "(() => { const n = window.diplographNetwork.cy.getElementById(" + repr(iri) + ");"
        " const p = n.renderedPosition();"
        " const box = document.getElementById('network').getBoundingClientRect();"
        " return [p.x + box.left, p.y + box.top]; })()"
    )
    return float(x), float(y)


def test_the_page_draws_every_node_and_edge_with_no_network_but_the_servers(
    browser: Chromium, server: LiveServer
) -> None:
    state = open_network(browser, server)
    assert state == {"state": "drawn", "nodes": 16, "edges": 18, "error": None}
    assert browser.requests and all(url.startswith(server.url) for url in browser.requests)
    assert browser.errors == []


def test_the_filters_redraw_the_network_they_select(browser: Chromium, server: LiveServer) -> None:
    state = open_network(browser, server, "?from=2022&to=2022&class=state")
    assert (state["state"], state["nodes"], state["edges"]) == ("drawn", 2, 1)


def test_hovering_a_node_tells_its_counts(browser: Chromium, server: LiveServer) -> None:
    open_network(browser, server)
    browser.hover(*node_position(browser, QATAR))
    tip = browser.wait_for("document.getElementById('network-tip').textContent")
    assert tip.startswith("Qatar (state): 3 events with 2 actors")


def test_a_click_on_a_node_opens_the_actors_page(browser: Chromium, server: LiveServer) -> None:
    open_network(browser, server)
    browser.click(*node_position(browser, QATAR))
    assert browser.wait_for("location.pathname !== '/network' && location.pathname") == (
        "/id/state/Q846"
    )
    assert "Qatar" in browser.wait_for("document.readyState === 'complete' && document.title")


def test_the_actors_are_reached_from_the_keyboard(browser: Chromium, server: LiveServer) -> None:
    open_network(browser, server)
    for _ in range(60):
        browser.press_tab()
        inside = browser.evaluate(
            "!!document.activeElement.closest('#network-nodes') && "
            "document.activeElement.textContent"
        )
        if inside:
            break
    else:
        pytest.fail("Tab never reached the table of actors")
    marked = browser.evaluate(
        "window.diplographNetwork.cy.nodes('.selected').map(n => n.data('label'))"
    )
    assert marked == [inside]
