"""The page for people: the query page, its examples, offline assets, the API reference, and a
real headless browser (Debian's chromium) that opens the page, runs an example and reads the
results table from the DOM.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from diplograph.api.app import create_app
from diplograph.api.examples import competency_questions, find_example, parse_example
from diplograph.api.links import compact, local_href
from diplograph.loader.config import load_settings
from diplograph.loader.facts import read_path
from diplograph.loader.namespaces import PREFIXES
from diplograph.loader.pipeline import load
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLES
from tests.support.external import require_program
from tests.support.server import StartServer

BASE = "https://w3id.org/diplograph/"
ABSOLUTE = re.compile(r"^(https?:)?//", re.I)


@pytest.fixture(scope="module")
def story_store() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(None)
    report = load(read_path(EXAMPLES / "story.json"), store, load_settings(store="memory"))
    assert report.documents_rejected == 0
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(story_store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(load_settings(store="memory"), story_store)) as c:
        yield c


class Page(HTMLParser):
    """The parts of an HTML page the tests look at."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []  # script src, link href, img src
        self.hrefs: list[str] = []
        self.scripts: list[str] = []  # inline script bodies
        self.styles: list[str] = []
        self.elements: dict[str, dict[str, str]] = {}  # by id
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.elements[values["id"]] = {"tag": tag, **values}
        if tag in ("script", "img", "iframe", "source") and values.get("src"):
            self.assets.append(values["src"])
        if tag == "link" and values.get("href"):
            self.assets.append(values["href"])
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def parse_page(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


# --- the competency questions ------------------------------------------------------------------


def test_every_competency_question_is_an_example() -> None:
    examples = competency_questions()
    folder = files("diplograph.ontology") / "queries"
    names = sorted(p.name.removesuffix(".rq") for p in folder.iterdir() if p.name.endswith(".rq"))
    assert [e.id for e in examples] == names
    assert len(examples) >= 10
    for example in examples:
        assert example.title and example.title != example.id, example.id
        assert example.question, example.id
        assert "# title:" not in example.query
        assert re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", example.query), example.id


def test_an_example_file_is_read_from_its_comment_header() -> None:
    example = parse_example(
        "99-test.rq",
        "# title: A title\n# question: What?\n"
        "# a comment that stays\nSELECT * WHERE { ?s ?p ?o }\n",
    )
    assert (example.id, example.title, example.question) == ("99-test", "A title", "What?")
    assert example.query == "# a comment that stays\nSELECT * WHERE { ?s ?p ?o }\n"
    assert parse_example("x.rq", "SELECT ?s {}").title == "x"
    first = competency_questions()[0]
    assert find_example(first.id.split("-")[0]) == first
    assert find_example("no-such-example") is None


# --- the page ------------------------------------------------------------------------------------


def test_the_query_page_has_an_editor_the_examples_and_the_links(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = parse_page(response.text)
    assert page.elements["query"]["tag"] == "textarea"
    assert page.elements["query-form"]["action"] == "/sparql"  # works without JavaScript too
    assert "results" in page.elements and "gutter" in page.elements
    for example in competency_questions():
        assert f'data-example="{example.id}"' in response.text
        assert example.title.replace("'", "&#x27;") in response.text
    config = json.loads(next(s for s in page.scripts if '"examples"' in s))
    assert config["base"] == BASE
    assert [e["id"] for e in config["examples"]] == [e.id for e in competency_questions()]
    for target in ("/ns", "/.well-known/void", "/api-docs", "/sparql", "/shapes", "/schema"):
        assert target in page.hrefs, target
    assert any(h.startswith("/dump?format=") for h in page.hrefs)
    downloads = [h for h in page.hrefs if h.startswith("/sparql?format=")]
    assert {"/sparql?format=csv", "/sparql?format=tsv", "/sparql?format=turtle"} <= set(downloads)


def test_an_example_or_a_query_can_be_opened_from_the_url(client: TestClient) -> None:
    example = competency_questions()[1]
    page = client.get("/", params={"example": example.id}).text
    textarea = page.split('id="query"', 1)[1].split("</textarea>", 1)[0]
    assert "dip:" in textarea and example.query.splitlines()[-1].strip() in textarea
    custom = client.get("/", params={"query": "ASK { <a:b> <a:c> '<&>' }"}).text
    assert "ASK { &lt;a:b&gt; &lt;a:c&gt; &#x27;&lt;&amp;&gt;&#x27; }" in custom
    assert client.get("/", params={"example": "nope"}).status_code == 404


def test_no_page_loads_anything_from_another_host(client: TestClient) -> None:
    pages = ["/", "/api-docs", "/ns", "/kw/", "/id/person/antony-blinken", "/.well-known/void"]
    for path in pages:
        response = client.get(path, headers={"Accept": "text/html"})
        if not response.headers["content-type"].startswith("text/html"):
            continue
        page = parse_page(response.text)
        assert page.assets, path
        for asset in page.assets:
            assert not ABSOLUTE.match(asset), f"{path} loads {asset}"
            assert client.get(asset).status_code == 200, asset
        for style in page.styles:
            assert "@import" not in style and "url(http" not in style
    static = Path(str(files("diplograph.api") / "static"))
    for asset in (p for p in static.rglob("*") if p.is_file()):  # vendored libraries too
        text = asset.read_text(encoding="utf-8")
        assert not re.search(r"(@import|url\(\s*['\"]?https?:|fetch\(\s*['\"]https?:)", text), asset


def test_static_files_are_served_with_types_and_validators(client: TestClient) -> None:
    css = client.get("/static/diplograph.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    js = client.get("/static/query.js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    etag = js.headers["etag"]
    assert client.get("/static/query.js", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/static/nope.js").status_code == 404
    assert client.get("/static/..%2Fui.py").status_code == 404
    assert client.get("/static/ui.py").status_code == 404


def test_the_api_reference_is_served_offline_and_docs_points_to_it(client: TestClient) -> None:
    response = client.get("/api-docs")
    assert response.status_code == 200
    spec = client.get("/openapi.json").json()
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in response.text, path
    assert not [a for a in parse_page(response.text).assets if ABSOLUTE.match(a)]
    redirect = client.get("/docs", follow_redirects=False)
    assert redirect.status_code in (307, 308)
    assert redirect.headers["location"] == "/api-docs"
    assert client.get("/redoc").status_code == 404


def test_links_and_names_helpers() -> None:
    settings = load_settings(store="memory", base_iri="http://kg.example.org/")
    assert local_href("http://kg.example.org/id/person/x", settings) == "/id/person/x"
    assert local_href("https://w3id.org/diplograph/ns#PhoneCall", settings) == "/ns#PhoneCall"
    assert local_href("https://w3id.org/diplograph/kw/initiator", settings) == "/kw/initiator"
    assert local_href("https://w3id.org/diplograph/id/person/x", settings) is None
    assert local_href("http://www.wikidata.org/entity/Q30", settings) is None
    assert compact("https://w3id.org/diplograph/ns#PhoneCall", PREFIXES) == "dip:PhoneCall"
    assert compact("http://example.org/a/b", PREFIXES) == "http://example.org/a/b"


# --- in a real browser ---------------------------------------------------------------------------


class Table(HTMLParser):
    """The results table (``#results-table``) and the results container's attributes, from a
    dumped DOM; other tables of the page (the chart's numbers) are left out."""

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[str, str] = {}
        self.head: list[str] = []
        self.rows: list[list[tuple[str, str | None]]] = []  # (text, href) per cell
        self.error = ""
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._section = ""
        self._in_error = False
        self._in_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id") == "results":
            self.results = values
        if tag == "table":
            self._in_table = values.get("id") == "results-table"
        if tag == "div" and "error" in values.get("class", ""):
            self._in_error = True
        if not self._in_table:
            return
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self._section == "tbody":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell, self._href = [], None
        elif tag == "a" and self._cell is not None:
            self._href = values.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            if self._section == "thead":
                self.head.append(text)
            elif self.rows:
                self.rows[-1].append((text, self._href))
            self._cell = None
        elif tag == "div":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_error:
            self.error += data


def browse(chromium: str, url: str, profile: Path) -> Table:
    """Open ``url`` in headless chromium, let its scripts and fetches run, parse the DOM."""
    table = Table()
    for budget in (5_000, 15_000, 30_000):
        command = [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget}",
            "--dump-dom",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        table = Table()
        table.feed(done.stdout)
        if table.results.get("data-state") in ("done", "error"):
            return table
    return table


@pytest.mark.server
@pytest.mark.external
def test_a_browser_runs_an_example_and_shows_the_results_table(
    start_server: StartServer, story_store: EmbeddedStore, tmp_path: Path
) -> None:
    chromium = require_program("chromium", "chromium-browser", "google-chrome")
    with start_server(store=story_store) as server:
        table = browse(
            chromium, server.url + "/?example=01-who-talked-to-whom&run=1", tmp_path / "profile"
        )
        assert table.results.get("data-state") == "done", table.error
        assert table.head == ["event", "initiator", "recipient", "date", "duration"]
        assert len(table.rows) >= 1
        assert table.results.get("data-rows") == str(len(table.rows))
        call = next(row for row in table.rows if row[1][0].startswith("Antony Blinken"))
        assert call[2][0].startswith("Wang Yi")
        assert call[3][0].startswith("14 October 2023")  # dates as people read them
        event_text, event_href = call[0]
        assert event_text.startswith("event:phonecall-")
        assert event_href is not None and event_href.startswith("/id/event/phonecall-")
        # the link in the table opens the event's linked-data page on this server
        page = _get(server.url + event_href)
        assert "Blinken and Wang Yi spoke by phone" in page

        broken = server.url + "/?run=1&query=SELECT%20%3Fx%20WHERE%20%7B"
        failed = browse(chromium, broken, tmp_path / "p2")
        assert failed.results.get("data-state") == "error"
        assert "malformed" in failed.error.lower() or "error" in failed.error.lower()


def _get(url: str) -> str:
    response = httpx.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text
