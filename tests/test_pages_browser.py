"""The pages in a real headless Chromium (the system's, driven over the DevTools protocol): each
page draws with no network but the server's and no script error; an actor's timeline shows its
events; the query page pages a 10,000-row result from the keyboard, offers a chart and a network
view, writes literals for people and keeps a history.

The browser is driven by bench/browser.py (the network page's tests and benchmark use it too),
offline: every host name but 127.0.0.1 fails to resolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from bench.browser import Chromium
from diplograph.api.app import create_app
from diplograph.api.store_reads import select, value_of
from diplograph.loader.config import load_settings
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.external import require_program
from tests.support.server import serve_in_thread

pytestmark = [pytest.mark.server, pytest.mark.external]

ID = "https://w3id.org/diplograph/id/"
DONE = "['done', 'error'].includes(document.querySelector('{}').dataset.state)"
TEN_THOUSAND = """SELECT ?i WHERE {
  VALUES ?a { 0 1 2 3 4 5 6 7 8 9 } VALUES ?b { 0 1 2 3 4 5 6 7 8 9 }
  VALUES ?c { 0 1 2 3 4 5 6 7 8 9 } VALUES ?d { 0 1 2 3 4 5 6 7 8 9 }
  BIND(?a * 1000 + ?b * 100 + ?c * 10 + ?d AS ?i)
} ORDER BY ?i"""
PAIRS = """SELECT ?a ?b (COUNT(DISTINCT ?event) AS ?events) WHERE {
  ?event a dip:Event ; dip:hasParticipant ?a , ?b . FILTER (STR(?a) < STR(?b))
} GROUP BY ?a ?b"""
PER_MONTH = """SELECT ?month (COUNT(DISTINCT ?e) AS ?events) WHERE {
  ?e a dip:Event ; dip:startDate ?d BIND(SUBSTR(STR(?d), 1, 7) AS ?month)
} GROUP BY ?month ORDER BY ?month"""


@pytest.fixture(scope="module")
def server(story_store: EmbeddedStore) -> Iterator[str]:
    with serve_in_thread(create_app(load_settings(store="memory"), story_store)) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = require_program("chromium", "chromium-browser", "google-chrome")
    with Chromium(chromium, tmp_path_factory.mktemp("chromium")) as browser:
        yield browser


def open_page(page: Chromium, url: str) -> None:
    """Load ``url`` and wait until its document (not yet its fetches) has loaded."""
    page.navigate(url)
    page.wait_for("document.readyState === 'complete'")


def press_enter(page: Chromium) -> None:
    """Press and release Enter on whatever has the focus, as a keyboard would."""
    key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
    page.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **key})
    page.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})


def run_query(page: Chromium, server: str, query: str) -> dict[str, str]:
    open_page(page, server + "/?run=1&query=" + quote(query))
    page.wait_for(DONE.format("#results"))
    result: dict[str, str] = page.evaluate(
        "Object.assign({}, document.getElementById('results').dataset)"
    )
    return result


def first_cells(page: Chromium) -> list[str]:
    cells: list[str] = page.evaluate(
        "Array.from(document.querySelectorAll('#results-table tbody tr td:first-child'))"
        ".map(td => td.textContent)"
    )
    return cells


@pytest.mark.parametrize(
    "path, ready",
    [
        ("/", "#events-chart"),
        ("/?example=01-who-talked-to-whom&run=1", "#results"),
        ("/id/person/antony-blinken", "#timeline"),
        ("/id/person/wang-yi", "#events-chart"),
        ("/id/post/foreign-minister-of-china", "#timeline"),
    ],
)
def test_a_page_draws_with_no_network_but_the_servers_and_no_script_error(
    page: Chromium, server: str, path: str, ready: str
) -> None:
    page.requests.clear()
    page.errors.clear()
    open_page(page, server + path)
    page.wait_for(DONE.format(ready))
    assert page.evaluate(f"document.querySelector('{ready}').dataset.state") == "done"
    # not necessarily the first request: the page before may still ask for its favicon
    assert server + path in page.requests
    others = [u for u in page.requests if not u.startswith(server + "/")]
    assert others == []
    assert page.errors == []


def test_the_home_page_charts_every_dated_event_by_month(page: Chromium, server: str) -> None:
    open_page(page, server + "/")
    page.wait_for(DONE.format("#events-chart"))
    chart = page.evaluate("Object.assign({}, document.getElementById('events-chart').dataset)")
    assert (chart["months"], chart["events"], chart["source"]) == ("2", "9", "summary")
    bars = page.evaluate("document.querySelectorAll('#events-chart svg rect.bar').length")
    # a visit in June; appeals, an attack, a condemnation, a call, a praise, a readout in October
    assert bars == 7
    label = page.evaluate("document.querySelector('#events-chart svg').getAttribute('aria-label')")
    assert "9 events in 2 months" in label


def test_an_actors_timeline_draws_its_dated_events_and_its_post(
    page: Chromium, server: str, story_store: EmbeddedStore
) -> None:
    open_page(page, server + "/id/person/antony-blinken")
    page.wait_for(DONE.format("#timeline"))
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('#timeline a.tl-event')).map(a => a.dataset.iri)"
    )
    dated = select(
        story_store,
        f"SELECT DISTINCT ?e WHERE {{ ?e dip:hasParticipant <{ID}person/antony-blinken> ; "
        "a dip:Event { ?e dip:startDate ?d } UNION { ?e dip:earliestStart ?d } }",
    )
    assert sorted(drawn) == sorted(value_of(r, "e") for r in dated)
    assert len(drawn) == 4  # a call and an appeal on 14 October, a June visit, the tour
    assert page.evaluate("window.diplographTimeline.drawnEvents.length") == 4
    holdings = page.evaluate(
        "Array.from(document.querySelectorAll('#timeline a.tl-holding')).map(a => a.dataset.iri)"
    )
    assert len(holdings) == 1
    # the call is drawn in its type's colour, named with its sources for hover and screen readers
    call = page.evaluate(
        "document.querySelector('#timeline a.tl-event[data-iri*=\"phonecall\"]')"
        ".getAttribute('aria-label')"
    )
    assert "phone call" in call and "2023-10-14" in call
    assert "Blinken asks China to use its Middle East influence" in call
    # all ten events (six undated) are in the table, each with its sources
    rows = page.evaluate(
        "document.querySelectorAll('#timeline table.timeline-events tbody tr').length"
    )
    assert rows == 10


def test_paging_a_result_of_ten_thousand_rows_from_the_keyboard(
    page: Chromium, server: str
) -> None:
    results = run_query(page, server, TEN_THOUSAND)
    assert (results["state"], results["rows"], results["pages"]) == ("done", "10000", "100")
    assert first_cells(page) == [str(i) for i in range(100)]  # one page drawn, not 10,000 rows
    page.evaluate("document.querySelector('#pager button[data-go=next]').focus()")
    press_enter(page)
    page.wait_for("document.getElementById('results').dataset.page === '2'")
    assert first_cells(page)[0] == "100" and len(first_cells(page)) == 100
    page.evaluate("document.querySelector('#pager button[data-go=last]').click()")
    page.wait_for("document.getElementById('results').dataset.page === '100'")
    assert first_cells(page)[-1] == "9999"
    assert page.evaluate("document.querySelector('#pager button[data-go=next]').disabled")
    page.evaluate(
        "(() => { const i = document.getElementById('page-number'); i.value = '50';"
        " i.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for("document.getElementById('results').dataset.page === '50'")
    assert first_cells(page)[0] == "4900"
    assert "Rows 4901–5000 of 10000" in page.evaluate(
        "document.querySelector('#pager').textContent"
    )


def test_a_result_with_a_count_per_month_offers_a_chart(page: Chromium, server: str) -> None:
    results = run_query(page, server, PER_MONTH)
    assert results["views"] == "table chart"
    page.evaluate("document.querySelector('.views button[data-view=chart]').click()")
    bars = page.evaluate("document.querySelectorAll('#results-chart svg rect.bar').length")
    assert bars == 2  # June and October 2023
    titles = page.evaluate(
        "Array.from(document.querySelectorAll('#results-chart rect title')).map(t => t.textContent)"
    )
    assert titles == ["2023-06 · events: 1", "2023-10 · events: 8"]


def test_a_result_of_pairs_offers_a_network(
    page: Chromium, server: str, story_store: EmbeddedStore
) -> None:
    results = run_query(page, server, PAIRS)
    assert "network" in results["views"].split()
    page.evaluate("document.querySelector('.views button[data-view=network]').click()")
    rows = select(story_store, PAIRS)
    nodes = {value_of(r, "a") for r in rows} | {value_of(r, "b") for r in rows}
    state = page.evaluate("Object.assign({}, document.getElementById('results').dataset)")
    assert (state["nodes"], state["edges"]) == (str(len(nodes)), str(len(rows)))
    assert page.evaluate("document.querySelectorAll('#results-network a.node').length") == len(
        nodes
    )
    href = page.evaluate(
        "document.querySelector('#results-network a.node[href*=antony-blinken]')"
        ".getAttribute('href')"
    )
    assert href == "/id/person/antony-blinken"
    page.wait_for("document.getElementById('results-network').dataset.named === 'true'")
    names = page.evaluate(
        "Array.from(document.querySelectorAll('#results-network text')).map(t => t.textContent)"
    )
    assert "Antony Blinken" in names and "Wang Yi" in names


def test_literals_are_written_the_way_people_read_them(page: Chromium, server: str) -> None:
    query = """SELECT ?duration ?long ?when ?month ?day ?name ?n WHERE {
      VALUES (?duration ?long ?when ?month ?day ?name ?n) {
      ("PT1H"^^xsd:dayTimeDuration "PT1H30M"^^xsd:dayTimeDuration
       "2023-10-14T08:30:00Z"^^xsd:dateTime "2023-06"^^xsd:gYearMonth "2023-10-14"^^xsd:date
       "Wang Yi"@en 123456) } }"""
    run_query(page, server, query)
    cells = page.evaluate(
        "Array.from(document.querySelectorAll('#results-table tbody td')).map(td => td.textContent)"
    )
    assert cells == [
        "1 hour",
        "1 hour 30 minutes",
        "14 October 2023, 08:30 UTC",
        "June 2023",
        "14 October 2023",
        "Wang Yi en",
        "123,456",
    ]
    tag = page.evaluate("document.querySelector('#results-table .lang').textContent")
    assert tag == "en"
    raw = page.evaluate("document.querySelector('#results-table time').getAttribute('datetime')")
    assert raw == "2023-10-14T08:30:00Z"


def test_the_query_history_is_kept_in_the_browser(page: Chromium, server: str) -> None:
    open_page(page, server + "/")
    page.evaluate("localStorage.clear()")
    run_query(page, server, "ASK { ?s ?p ?o }")
    run_query(page, server, "SELECT ?s WHERE { ?s a dip:Person } LIMIT 3")
    open_page(page, server + "/")  # a new visit
    page.wait_for("!document.getElementById('history').hidden")
    entries = page.evaluate(
        "Array.from(document.querySelectorAll('#history li button')).map(b => b.textContent)"
    )
    assert entries == ["SELECT ?s WHERE { ?s a dip:Person } LIMIT 3", "ASK { ?s ?p ?o }"]
    page.evaluate("document.querySelectorAll('#history li button')[1].click()")
    assert page.evaluate("document.getElementById('query').value") == "ASK { ?s ?p ?o }"
    page.evaluate("document.getElementById('clear-history').click()")
    assert page.evaluate("document.querySelectorAll('#history li').length") == 0
