"""Real SPARQL clients against a real server (uvicorn on 127.0.0.1): SPARQLWrapper, rdflib's
SPARQLStore and SPARQLUpdateStore, and roqet (Debian's rasqal-utils) where it is installed."""

from __future__ import annotations

import csv
import io
import subprocess
from typing import Any

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, N3, POST, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from tests.support.external import require_program
from tests.support.server import LiveServer

pytestmark = pytest.mark.server

DIP = "https://w3id.org/diplograph/ns#"
PERSONS = f"""PREFIX dip: <{DIP}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?person ?label WHERE {{ ?person a dip:Person ; rdfs:label ?label }} ORDER BY ?label"""
CONSTRUCT = f"""PREFIX dip: <{DIP}>
CONSTRUCT {{ ?e dip:participant ?who }} WHERE {{ ?e dip:participant ?who }}"""
BLINKEN = URIRef("https://w3id.org/diplograph/id/person/blinken")


def wrapper(server: LiveServer, query: str, fmt: str, method: str = "GET") -> Any:
    client = SPARQLWrapper(server.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    return client.query()


# --- SPARQLWrapper -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select_as_json(live_server: LiveServer, method: str) -> None:
    result = wrapper(live_server, PERSONS, JSON, method)
    assert result.info()["content-type"].startswith("application/sparql-results+json")
    labels = [b["label"]["value"] for b in result.convert()["results"]["bindings"]]
    assert labels == ["Antony Blinken", "Wang Yi", "王毅"]


def test_sparqlwrapper_select_as_xml(live_server: LiveServer) -> None:
    document = wrapper(live_server, PERSONS, XML).convert()
    literals = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert literals == ["Antony Blinken", "Wang Yi", "王毅"]


def test_sparqlwrapper_select_as_csv_and_tsv(live_server: LiveServer) -> None:
    table = list(csv.reader(io.StringIO(wrapper(live_server, PERSONS, CSV).convert().decode())))
    assert table[0] == ["person", "label"]
    assert table[1] == [str(BLINKEN), "Antony Blinken"]
    tsv = wrapper(live_server, PERSONS, TSV).convert().decode().splitlines()
    assert tsv[1] == f'<{BLINKEN}>\t"Antony Blinken"@en'


@pytest.mark.parametrize("fmt", [XML, TURTLE, N3])
def test_sparqlwrapper_construct(live_server: LiveServer, fmt: str) -> None:
    result = wrapper(live_server, CONSTRUCT, fmt).convert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result, format="turtle")
    assert len(graph) == 4
    assert (None, URIRef(DIP + "participant"), BLINKEN) in graph


def test_sparqlwrapper_ask_and_a_bad_query(live_server: LiveServer) -> None:
    assert wrapper(live_server, "ASK { ?s ?p ?o }", JSON).convert()["boolean"] is True
    with pytest.raises(QueryBadFormed) as failure:
        wrapper(live_server, "SELECT * WHERE { ?s ?p }", JSON)
    assert "error at 1:" in str(failure.value)


# --- rdflib's SPARQLStore and SPARQLUpdateStore -------------------------------------------------


def test_rdflib_sparqlstore_reads(live_server: LiveServer) -> None:
    graph = Graph(store=SPARQLStore(live_server.sparql, returnFormat="json"))
    rows = list(graph.query(PERSONS))
    assert [str(row[1]) for row in rows] == ["Antony Blinken", "Wang Yi", "王毅"]  # type: ignore[index]
    assert (BLINKEN, RDF.type, URIRef(DIP + "Person")) in graph
    labels = set(graph.objects(BLINKEN, RDFS.label))
    assert labels == {Literal("Antony Blinken", lang="en")}
    xml_graph = Graph(store=SPARQLStore(live_server.sparql))  # rdflib's default: XML results
    assert len(list(xml_graph.query(PERSONS))) == 3
    constructed = xml_graph.query(CONSTRUCT).graph
    assert constructed is not None and len(constructed) == 4


def test_rdflib_sparqlupdatestore_writes_with_the_token(live_server: LiveServer) -> None:
    store = SPARQLUpdateStore(
        query_endpoint=live_server.sparql,
        update_endpoint=live_server.sparql,
        headers=live_server.auth,
        returnFormat="json",
    )
    graph = Graph(store=store, identifier=URIRef("http://example.org/rdflib"))
    new = (URIRef("http://example.org/a"), RDFS.label, Literal("written by rdflib"))
    graph.add(new)
    assert new in graph
    graph.update(
        'INSERT DATA { <http://example.org/b> <http://www.w3.org/2000/01/rdf-schema#label> "b" }'
    )
    # rdflib sends the update into its graph, like the add
    assert len(live_server.store.graph_triples("http://example.org/rdflib")) == 2
    graph.remove(new)
    assert new not in graph


def test_rdflib_sparqlupdatestore_without_the_token_is_refused(live_server: LiveServer) -> None:
    store = SPARQLUpdateStore(query_endpoint=live_server.sparql, update_endpoint=live_server.sparql)
    graph = Graph(store=store, identifier=URIRef("http://example.org/rdflib"))
    with pytest.raises(Exception, match="401"):
        graph.add((URIRef("http://example.org/a"), RDFS.label, Literal("x")))
    assert live_server.store.count() == 23


# --- roqet (rasqal-utils) ------------------------------------------------------------------------


def roqet(server: LiveServer, query: str, results: str) -> str:
    program = require_program("roqet")
    done = subprocess.run(
        [program, "-q", "-p", server.sparql, "-e", query, "-r", results],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.external
def test_roqet_reads_xml_results(live_server: LiveServer) -> None:
    # roqet percent-encodes even letters (SELECT becomes SEL%45CT...): decoded once, it parses.
    out = roqet(live_server, PERSONS, "xml")
    assert out.count("<literal") == 3
    assert "Antony Blinken" in out and "王毅" in out


@pytest.mark.external
def test_roqet_reads_csv_and_tsv_results(live_server: LiveServer) -> None:
    assert "Antony Blinken" in roqet(live_server, PERSONS, "csv")
    assert '"Wang Yi"@en' in roqet(live_server, PERSONS, "tsv")


# Not tested with roqet: ASK (rasqal's SPARQL XML reader reads no <boolean>, even from a file)
# and CONSTRUCT (roqet asks for every result as SPARQL XML, which a graph result cannot be: it
# gets the 406 the protocol asks for, not a graph labelled as results).
