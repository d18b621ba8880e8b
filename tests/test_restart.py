"""The embedded store survives restarts: what a running server loaded is all there after the
server is stopped and started again on the same directory — named graphs, provenance, the
union and the ontology graph."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from pyoxigraph import RdfFormat, parse

from tests.conftest import DATA, STORY_FILE
from tests.support.children import ServeChild

pytestmark = [pytest.mark.server, pytest.mark.slow]

PROVENANCE = """
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?thing ?source WHERE { ?thing prov:wasDerivedFrom ?source } ORDER BY ?thing ?source
"""
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
DISTINCT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _snapshot(server: ServeChild) -> dict[str, object]:
    def rows(text: str) -> list[dict[str, object]]:
        response = httpx.get(server.url + "/sparql", params={"query": text}, timeout=30)
        assert response.status_code == 200
        return response.json()["results"]["bindings"]  # type: ignore[no-any-return]

    dump = httpx.get(server.url + "/dump", params={"format": "nquads"}, timeout=30)
    assert dump.status_code == 200
    return {
        "quads": set(parse(dump.content, format=RdfFormat.N_QUADS)),
        "graphs": rows(GRAPHS),
        "provenance": rows(PROVENANCE),
        "union": rows(DISTINCT_TRIPLES),
    }


def test_everything_loaded_through_the_server_is_there_after_a_restart(tmp_path: Path) -> None:
    server = ServeChild(tmp_path / "store").start()
    try:
        for path in (STORY_FILE, DATA / "api_b" / "call.json"):
            response = httpx.post(
                server.url + "/facts",
                content=path.read_bytes(),
                headers={**server.auth, "Content-Type": "application/json"},
                timeout=60,
            )
            assert response.status_code == 200, response.text
        before = _snapshot(server)
        # A clean stop: uvicorn finishes its shutdown, then re-raises SIGTERM to exit with it.
        assert server.stop() in (0, -signal.SIGTERM)
        server.start()
        after = _snapshot(server)
    finally:
        server.stop()
    assert len(before["graphs"]) >= 3  # type: ignore[arg-type]  # two documents + the ontology
    assert before["provenance"]
    assert after == before
