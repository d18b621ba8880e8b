"""The who-engages-whom network (loader/network.py) and its exports (loader/network_formats.py,
``/export/network``, ``diplograph export network``).

The data: the sample story, two dated visits between Qatar and Jordan in 2022
(tests/data/network/visits-2022.json) and a vague report of the story's phone call
(tests/data/conflicts/call-in-october.json), which joins the story's call: one event, two
reports.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import networkx
import pytest
import xmlschema
from click.testing import CliRunner
from fastapi.testclient import TestClient

from diplograph.api.app import create_app
from diplograph.cli import main
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.errors import InputError, UnsupportedFormatError
from diplograph.loader.facts import read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP
from diplograph.loader.network import Network, NetworkFilter, event_type_iri, read_network
from diplograph.loader.network_formats import write_csv, write_gexf, write_graphml
from diplograph.loader.pipeline import load
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLES

DATA = Path(__file__).parent / "data"
DOCUMENTS = (
    EXAMPLES / "story.json",
    DATA / "network" / "visits-2022.json",
    DATA / "conflicts" / "call-in-october.json",
)
GEXF_SCHEMA = DATA / "network" / "gexf-1.3" / "gexf.xsd"
ID = "https://w3id.org/diplograph/id/"
QATAR, JORDAN, ISRAEL, HAMAS = (
    f"{ID}state/Q846",
    f"{ID}state/Q810",
    f"{ID}state/Q801",
    f"{ID}org/hamas",
)
BLINKEN, WANG = f"{ID}person/antony-blinken", f"{ID}person/wang-yi"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(store="memory")


@pytest.fixture(scope="module")
def store(settings: Settings) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(None)
    for path in DOCUMENTS:
        assert load(read_path(path), store, settings).documents_rejected == 0, path
    yield store
    store.close()


@pytest.fixture(scope="module")
def network(store: EmbeddedStore, settings: Settings) -> Network:
    return read_network(store, settings.base_iri, details=True)


@pytest.fixture(scope="module")
def client(store: EmbeddedStore, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store)) as c:
        yield c


def pairs(network: Network) -> dict[tuple[str, str], int]:
    return {(e.source, e.target): e.count for e in network.edges}


# --- the network -------------------------------------------------------------------------------


def test_the_summary_and_the_events_give_the_same_counts(
    store: EmbeddedStore, settings: Settings, network: Network
) -> None:
    quick = read_network(store, settings.base_iri)
    assert quick.from_summary and not network.from_summary
    assert pairs(quick) == pairs(network)
    assert len(network.edges) == network.total_edges == 18


def test_an_event_two_documents_report_counts_once(network: Network) -> None:
    call = next(e for e in network.edges if (e.source, e.target) == (BLINKEN, WANG))
    assert call.count == 1
    # Both reports' start dates are the node's: the vague month and the precise day.
    assert (call.first, call.last) == ("2023-10", "2023-10-14")
    assert call.event_types == (f"{DIP}PhoneCall",)


def test_edges_carry_the_count_the_first_and_last_dates_and_the_most_specific_types(
    network: Network,
) -> None:
    visits = next(e for e in network.edges if (e.source, e.target) == (JORDAN, QATAR))
    assert (visits.count, visits.first, visits.last) == (2, "2022-03", "2022-11-14")
    assert visits.event_types == (f"{DIP}Visit",)  # not dip:Consultation, dip:Event, …
    war = next(e for e in network.edges if (e.source, e.target) == (HAMAS, ISRAEL))
    assert war.count == 2 and war.event_types == (f"{DIP}ArmedConflict", f"{DIP}Attack")
    assert network.edges[0] in (visits, war)  # strongest first


def test_nodes_carry_label_class_and_wikidata_id(network: Network) -> None:
    nodes = {n.iri: n for n in network.nodes}
    assert (nodes[QATAR].label, nodes[QATAR].actor_class, nodes[QATAR].wikidata) == (
        "Qatar",
        "state",
        "Q846",
    )
    assert (nodes[HAMAS].actor_class, nodes[HAMAS].wikidata) == ("militia", None)
    assert nodes[BLINKEN].actor_class == "person"
    assert nodes[f"{ID}org/government-of-Q30"].actor_class == "government"
    assert {n.actor_class for n in nodes.values()} <= {"state", "government", "person", "militia"}


def test_a_time_range_keeps_the_events_that_start_in_it_at_their_own_precision(
    store: EmbeddedStore, settings: Settings
) -> None:
    def read(start: str | None, end: str | None) -> dict[tuple[str, str], int]:
        return pairs(read_network(store, settings.base_iri, NetworkFilter(start=start, end=end)))

    assert read("2022", "2022-12") == {(JORDAN, QATAR): 2}
    assert read("2022-04", "2022") == {(JORDAN, QATAR): 1}  # 2022-11-14 is in 2022
    assert read(None, "2022-03-31") == {(JORDAN, QATAR): 1}  # "2022-03" overlaps March 31
    assert read("2024-01-01", None) == {}
    assert (BLINKEN, WANG) in read("2023-10-20", "2023-10-31")  # the month-precise report


def test_an_event_type_keeps_the_events_of_that_type_and_its_subtypes(
    store: EmbeddedStore, settings: Settings
) -> None:
    visits = read_network(store, settings.base_iri, NetworkFilter(event_type=f"{DIP}Visit"))
    assert (JORDAN, QATAR) in pairs(visits) and (HAMAS, ISRAEL) not in pairs(visits)
    broader = NetworkFilter(event_type=event_type_iri("dip:Consultation"))
    assert pairs(visits).items() <= pairs(read_network(store, settings.base_iri, broader)).items()
    assert event_type_iri("Visit") == event_type_iri("dip:Visit") == f"{DIP}Visit"


def test_actor_classes_keep_the_pairs_among_actors_of_those_classes(
    store: EmbeddedStore, settings: Settings
) -> None:
    states = read_network(store, settings.base_iri, NetworkFilter(classes=("state",)))
    assert states.from_summary
    assert states.edges and all(n.actor_class == "state" for n in states.nodes)
    assert (JORDAN, QATAR) in pairs(states) and (HAMAS, ISRAEL) not in pairs(states)
    both = NetworkFilter(classes=("state", "militia"))
    assert (HAMAS, ISRAEL) in pairs(read_network(store, settings.base_iri, both))


def test_a_limit_keeps_the_strongest_edges_and_tells_how_many_there_are(
    store: EmbeddedStore, settings: Settings, network: Network
) -> None:
    top = read_network(store, settings.base_iri, limit=2)
    assert [e.count for e in top.edges] == [2, 2] and top.total_edges == 18
    assert {n.iri for n in top.nodes} == {JORDAN, QATAR, HAMAS, ISRAEL}
    # From the summary's top list (a limit within its 100 ranks) or sorted by the store, the
    # strongest edges come in the order of the whole network's.
    order = [(e.source, e.target, e.count) for e in network.edges]
    for limit in (5, 150):
        cut = read_network(store, settings.base_iri, limit=limit)
        assert [(e.source, e.target, e.count) for e in cut.edges] == order[:limit], limit


def test_a_summary_marked_stale_is_not_trusted(settings: Settings, network: Network) -> None:
    store = EmbeddedStore(None)
    for path in DOCUMENTS:
        load(read_path(path), store, settings)
    graph = IriMinter(settings.base_iri).summary_graph()
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{graph}> <{DIP}summaryStale> true }} }}")
    found = read_network(store, settings.base_iri, limit=5)
    assert not found.from_summary
    assert pairs(found) == {(e.source, e.target): e.count for e in network.edges[:5]}
    store.close()


@pytest.mark.parametrize(
    "where",
    [
        {"start": "last week"},
        {"end": "2023/10/14"},
        {"classes": ("ministry",)},
        {"event_type": "not an iri"},
    ],
)
def test_a_filter_that_cannot_be_read_is_an_input_error(where: dict[str, object]) -> None:
    with pytest.raises(InputError):
        NetworkFilter(**where)  # type: ignore[arg-type]


# --- the formats -------------------------------------------------------------------------------


def test_the_graphml_reads_in_networkx_with_every_attribute(network: Network) -> None:
    out = io.BytesIO()
    write_graphml(network, out)
    graph = networkx.read_graphml(io.BytesIO(out.getvalue()))
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (len(network.nodes), 18)
    assert not graph.is_directed()
    assert graph.nodes[QATAR] == {"label": "Qatar", "class": "state", "wikidata": "Q846"}
    visits = graph.edges[JORDAN, QATAR]
    assert visits["count"] == 2 and isinstance(visits["count"], int)
    assert (visits["first"], visits["last"], visits["types"]) == ("2022-03", "2022-11-14", "Visit")
    assert graph.edges[HAMAS, ISRAEL]["types"] == "ArmedConflict;Attack"


def test_the_gexf_validates_against_the_gexf_1_3_schema(network: Network) -> None:
    schema = xmlschema.XMLSchema(str(GEXF_SCHEMA))
    out = io.BytesIO()
    write_gexf(network, out)
    schema.validate(io.BytesIO(out.getvalue()))
    graph = networkx.read_gexf(io.BytesIO(out.getvalue()))
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (len(network.nodes), 18)
    assert graph.edges[JORDAN, QATAR]["weight"] == 2.0
    # The schema does check: an edge without a target does not pass.
    root = ET.fromstring(out.getvalue())
    edge = root.find(".//{http://gexf.net/1.3}edge")
    assert edge is not None
    del edge.attrib["target"]
    assert not schema.is_valid(io.BytesIO(ET.tostring(root)))


def test_the_csv_tables_are_an_edge_list_with_weights_and_a_node_list(network: Network) -> None:
    edges, nodes = io.BytesIO(), io.BytesIO()
    write_csv(network, edges)
    write_csv(network, nodes, table="nodes")
    edge_rows = list(csv.DictReader(io.StringIO(edges.getvalue().decode())))
    node_rows = list(csv.DictReader(io.StringIO(nodes.getvalue().decode())))
    assert len(edge_rows) == 18 and len(node_rows) == len(network.nodes)
    assert edge_rows[0].keys() == {"source", "target", "weight", "first", "last", "types"}
    visits = next(r for r in edge_rows if (r["source"], r["target"]) == (JORDAN, QATAR))
    assert (visits["weight"], visits["types"]) == ("2", "Visit")
    qatar = next(r for r in node_rows if r["id"] == QATAR)
    assert (qatar["label"], qatar["class"], qatar["wikidata"]) == ("Qatar", "state", "Q846")
    with pytest.raises(UnsupportedFormatError):
        write_csv(network, io.BytesIO(), table="pairs")


# --- over HTTP and from the command line -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("graphml", "application/graphml+xml"),
        ("gexf", "application/gexf+xml"),
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json"),
    ],
)
def test_the_export_is_served_as_a_download(client: TestClient, name: str, media_type: str) -> None:
    response = client.get("/export/network", params={"format": name})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert f'.{name}"' in response.headers["content-disposition"]


def test_the_export_takes_the_filters(client: TestClient) -> None:
    response = client.get(
        "/export/network",
        params={"format": "json", "from": "2022", "to": "2022", "type": "Visit", "class": "state"},
    )
    data = response.json()
    assert [(e["source"], e["target"], e["count"]) for e in data["edges"]] == [(JORDAN, QATAR, 2)]
    assert {n["label"] for n in data["nodes"]} == {"Qatar", "Jordan"}


def test_a_bad_export_request_is_a_client_error(client: TestClient) -> None:
    assert client.get("/export/network", params={"format": "dot"}).status_code == 406
    assert client.get("/export/network", params={"from": "soon"}).status_code == 400
    assert client.get("/export/network", params={"class": "ngo"}).status_code == 400
    assert client.get("/export/network", params={"format": "csv", "table": "x"}).status_code == 400


def test_the_command_writes_the_network_to_a_file(
    store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store"
    disk = EmbeddedStore(path)
    for document in DOCUMENTS:
        load(read_path(document), disk, load_settings(store="embedded", store_path=path))
    disk.close()
    runner = CliRunner()
    out = tmp_path / "network.graphml"
    done = runner.invoke(main, ["export", "network", "--store-path", str(path), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert networkx.read_graphml(out).number_of_edges() == 18
    printed = runner.invoke(
        main,
        ["export", "network", "--store-path", str(path), "--format", "json", "--class", "state"],
    )
    assert printed.exit_code == 0
    assert all(n["class"] == "state" for n in json.loads(printed.stdout)["nodes"])
    bad = runner.invoke(main, ["export", "network", "--store-path", str(path), "--to", "June"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


# --- the page, without a browser ---------------------------------------------------------------


def test_the_page_lists_the_drawn_actors_and_pairs_in_tables(client: TestClient) -> None:
    response = client.get("/network")
    assert response.status_code == 200
    text = response.text
    assert text.count("<tr data-node=") == 16
    assert 'href="/id/state/Q846">Qatar</a>' in text
    assert "Showing 18 of 18 edges" in text
    for control in ("from", "to", "type", "limit"):
        assert f'<label for="{control}">' in text and f'id="{control}"' in text
    assert 'name="class" value="militia"' in text


def test_the_page_draws_the_strongest_edges_up_to_the_limit(client: TestClient) -> None:
    text = client.get("/network", params={"limit": 2, "class": "state"}).text
    assert "Showing 2 of 4 edges" in text  # Jordan and Qatar first (two visits)
    assert text.count("<tr data-node=") == 4
    assert "/export/network?format=gexf&amp;class=state" in text


def test_the_vendored_library_and_its_licence_are_served(client: TestClient) -> None:
    library = client.get("/static/vendor/cytoscape.min.js")
    assert library.status_code == 200 and library.headers["content-type"].startswith(
        "text/javascript"
    )
    licence = client.get("/static/vendor/cytoscape.LICENSE.txt")
    assert licence.status_code == 200 and "Permission is hereby granted" in licence.text
    assert client.get("/static/vendor/..%2Fnetwork.js").status_code == 404
