"""The JSON the pages draw: events per month by type (all events from the summary, one actor's
from the union graph) and an actor's timeline (its events with days and sources, its posts with
the day bounds of docs/mapping.md, "Posts over time").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from diplograph.api.store_reads import select, value_of
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA, app_client, load_story

ID = "https://w3id.org/diplograph/id/"
BLINKEN = ID + "person/antony-blinken"
WANG_YI = ID + "person/wang-yi"
STORY_DOC = ID + "doc/bloomberg-2023-10-14-blinken-wang-call"
POSTS = DATA / "mapping" / "post-over-time" / "facts.json"


@pytest.fixture(scope="module")
def client(story_store: EmbeddedStore) -> Iterator[TestClient]:
    with app_client(story_store) as c:
        yield c


@pytest.fixture(scope="module")
def posts_client() -> Iterator[TestClient]:
    store = EmbeddedStore(None)
    load_story(store, POSTS)
    with app_client(store) as c:
        yield c
    store.close()


def by_label(chart: dict[str, Any]) -> dict[str, list[int]]:
    return {t["label"]: t["counts"] for t in chart["types"]}


def timeline(client: TestClient, actor: str) -> dict[str, Any]:
    response = client.get("/charts/timeline", params={"actor": actor})
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


# --- events per month ----------------------------------------------------------------------------


def test_events_per_month_of_all_events_are_read_from_the_summary(client: TestClient) -> None:
    chart = client.get("/charts/events-by-month").json()
    assert chart["source"] == "summary"
    assert chart["months"] == ["2023-06", "2023-10"]
    assert chart["total"] == [1, 8]
    assert by_label(chart) == {
        "appeal": [0, 3],
        "attack": [0, 1],
        "condemnation": [0, 1],
        "phone call": [0, 1],
        "praise": [0, 1],
        "readout": [0, 1],
        "visit": [1, 0],
    }


def test_events_per_month_agree_with_a_count_over_the_union_graph(
    client: TestClient, story_store: EmbeddedStore
) -> None:
    chart = client.get("/charts/events-by-month").json()
    rows = select(
        story_store,
        "SELECT ?type (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a dip:Event , ?type ; "
        "dip:startDate ?d FILTER(STRSTARTS(STR(?d), '2023-10')) } GROUP BY ?type",
    )
    raw = {value_of(r, "type"): int(value_of(r, "n") or 0) for r in rows}
    october = chart["months"].index("2023-10")
    assert chart["total"][october] == raw["https://w3id.org/diplograph/ns#Event"]
    for series in chart["types"]:
        assert series["counts"][october] == raw.get(series["iri"], 0), series["label"]


@pytest.mark.parametrize(
    "change",
    [
        "INSERT DATA { GRAPH <{g}> { <{g}> <https://w3id.org/diplograph/ns#summaryStale> true } }",
        "DROP GRAPH <{g}>",
    ],
    ids=["stale", "missing"],
)
def test_events_per_month_are_counted_from_the_union_while_the_summary_cannot_answer(
    change: str,
) -> None:
    store = EmbeddedStore(None)
    load_story(store)
    store.update(change.replace("{g}", "https://w3id.org/diplograph/graph/summary"))
    with app_client(store) as c:
        chart = c.get("/charts/events-by-month").json()
    store.close()
    assert chart["source"] == "union"
    assert (chart["months"], chart["total"]) == (["2023-06", "2023-10"], [1, 8])
    assert by_label(chart)["appeal"] == [0, 3]


def test_events_per_month_of_an_actor_count_only_the_events_it_takes_part_in(
    client: TestClient,
) -> None:
    chart = client.get("/charts/events-by-month", params={"actor": WANG_YI}).json()
    assert (chart["actor"], chart["source"]) == (WANG_YI, "union")
    assert chart["months"] == ["2023-10"]
    assert chart["total"] == [5]
    assert by_label(chart) == {"appeal": [2], "condemnation": [1], "phone call": [1], "praise": [1]}


def test_a_type_has_one_colour_on_every_chart(client: TestClient) -> None:
    everyone = client.get("/charts/events-by-month").json()
    one = client.get("/charts/events-by-month", params={"actor": WANG_YI}).json()
    colours = {t["iri"]: t["color"] for t in everyone["types"]}
    for series in one["types"]:
        assert series["color"] == colours[series["iri"]]
    events = timeline(client, WANG_YI)["events"]
    for event in events:
        assert event["color"] == colours[event["types"][0]["iri"]]


@pytest.mark.parametrize("actor", ["not an IRI", "http://x.example/a>b", "relative/path"])
def test_an_actor_that_is_not_an_absolute_iri_is_a_bad_request(
    client: TestClient, actor: str
) -> None:
    for path in ("/charts/events-by-month", "/charts/timeline"):
        response = client.get(path, params={"actor": actor})
        assert response.status_code == 400, path
        assert "actor" in response.json()["message"]


# --- the timeline --------------------------------------------------------------------------------


def test_the_timeline_lists_each_event_once_with_its_days_roles_and_sources(
    client: TestClient,
) -> None:
    events = {e["iri"].rsplit("/", 1)[-1]: e for e in timeline(client, BLINKEN)["events"]}
    assert len(events) == 10
    call = events["phonecall-2023-10-14-11611a696eef"]
    assert call["days"] == ["2023-10-14", "2023-10-14"] and call["exact"] is True
    assert [t["label"] for t in call["types"]] == ["phone call"]
    assert call["roles"] == ["initiator"]
    assert call["label"].startswith("Blinken and Wang Yi spoke by phone")
    assert call["sources"] == [
        {
            "iri": STORY_DOC,
            "title": "Blinken asks China to use its Middle East influence (sample facts)",
            "issued": "2023-10-14",
        }
    ]
    # a month is not a day; bounds on the start are not either
    visit = events["visit-2023-06-d9aef6bce283"]
    assert (visit["days"], visit["exact"]) == (["2023-06-01", "2023-06-30"], False)
    assert visit["time"] == {"startDate": "2023-06"}
    tour = events["diplomatictour-2023-10-11-783c22a5f656"]
    assert (tour["days"], tour["exact"]) == (["2023-10-11", "2023-10-14"], False)


def test_the_timeline_puts_events_by_first_day_and_undated_ones_last(client: TestClient) -> None:
    events = timeline(client, BLINKEN)["events"]
    firsts = [e["days"][0] for e in events if e["days"]]
    assert firsts == sorted(firsts) and len(firsts) == 4
    dated = [e["days"] is not None for e in events]
    assert dated == sorted(dated, reverse=True)


def test_a_holding_seen_on_the_article_date_is_held_that_day_with_open_ends(
    client: TestClient,
) -> None:
    (holding,) = timeline(client, WANG_YI)["holdings"]
    assert holding["lane"] == "Foreign Minister of China"
    assert holding["holder"] == {"iri": WANG_YI, "label": "Wang Yi"}
    assert holding["observed"] == ["2023-10-14"]
    assert (holding["fromLatest"], holding["untilEarliest"]) == ("2023-10-14", "2023-10-14")
    assert (holding["fromEarliest"], holding["untilLatest"]) == (None, None)
    assert [s["iri"] for s in holding["sources"]] == [STORY_DOC]


def test_holdings_carry_the_day_bounds_of_their_time(posts_client: TestClient) -> None:
    ana = ID + "person/ana-diplomat"
    holdings = {h["lane"]: h for h in timeline(posts_client, ana)["holdings"]}
    since_july = holdings["Foreign Minister of Northland"]
    assert since_july["time"] == {"startDate": "2023-07"}
    assert since_july["fromEarliest"] == "2023-07-01"
    assert since_july["fromLatest"] == "2023-07-31"
    assert since_july["untilEarliest"] == "2023-11-25"
    assert since_july["untilLatest"] is None  # it may still be held
    assert since_july["observed"] == ["2023-11-25"]
    former = holdings["Northland Special Envoy"]
    assert former["modality"] == "historical" and former["observed"] == []
    assert (former["fromEarliest"], former["fromLatest"]) == ("2021-01-01", "2021-12-31")
    assert (former["untilEarliest"], former["untilLatest"]) == ("2022-03-15", "2022-03-15")


def test_a_posts_timeline_has_a_lane_per_holder(posts_client: TestClient) -> None:
    post = ID + "post/foreign-minister-of-northland"
    holdings = timeline(posts_client, post)["holdings"]
    assert sorted(h["lane"] for h in holdings) == ["Ana Diplomat", "Bo Minister"]
    assert timeline(posts_client, post)["events"] == []


def test_an_iri_nothing_is_known_about_has_an_empty_timeline(client: TestClient) -> None:
    empty = timeline(client, ID + "person/nobody")
    assert (empty["events"], empty["holdings"], empty["truncated"]) == ([], [], False)


# --- the pages link them -------------------------------------------------------------------------


def test_an_actors_page_holds_the_timeline_and_the_chart(client: TestClient) -> None:
    page = client.get("/id/person/antony-blinken", headers={"Accept": "text/html"}).text
    assert 'id="timeline"' in page and 'id="events-chart"' in page
    assert (
        "/charts/timeline?actor=https%3A%2F%2Fw3id.org%2Fdiplograph%2Fid%2Fperson%2Fantony-blinken"
        in page
    )
    assert "/static/timeline.js" in page and "/static/charts.js" in page


def test_a_facts_page_and_a_documents_page_have_no_timeline(client: TestClient) -> None:
    call = client.get(
        "/id/event/phonecall-2023-10-14-11611a696eef", headers={"Accept": "text/html"}
    )
    doc = client.get(
        STORY_DOC.removeprefix("https://w3id.org/diplograph"), headers={"Accept": "text/html"}
    )
    for response in (call, doc):
        assert response.status_code == 200
        assert 'id="timeline"' not in response.text


def test_the_home_page_holds_the_chart_of_all_events(client: TestClient) -> None:
    page = client.get("/").text
    assert 'data-src="/charts/events-by-month"' in page
    assert "/static/charts.js" in page
