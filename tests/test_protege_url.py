"""Protégé opens the ontology from the server's URL: one document, every import resolved.

``diplograph serve`` runs as a real child process on 127.0.0.1. The OWL API (the library Protégé
uses, from Debian's libowlapi-java) loads ``http://127.0.0.1:PORT/ns`` as Protégé does (its
default ``Accept`` gets RDF/XML) and in the other formats the server offers. Each load must fetch
nothing but that URL (no ``w3id.org`` import, so it works with no internet), report no missing
import and no unparsed triple, parse with the parser of the format asked for, pass the OWL 2 DL
profile check and hold exactly the axioms of the files' imports closure (read through the
catalog, as Protégé reads them offline).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pyoxigraph
import pytest

from diplograph.loader.namespaces import ONTOLOGY_IRI
from tests.support.children import ServeChild
from tests.support.owlapi import run_owlapi_check
from tests.test_ontology import ONTOLOGY_DIR

pytestmark = [pytest.mark.server, pytest.mark.slow]

OWL = "http://www.w3.org/2002/07/owl#"
RDF_TYPE = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: The query a Protégé-like client adds to /ns -> the OWL API format that must parse it.
FORMATS = {
    "": "RDF/XML Syntax",  # Protégé's own Accept header, negotiated by the server
    "?format=rdfxml": "RDF/XML Syntax",
    "?format=turtle": "Turtle",
    "?format=ntriples": "Turtle",  # N-Triples is Turtle; the OWL API's Turtle parser reads it
    "?format=jsonld": "JSON-LD",
}
#: What each query of FORMATS serves, for pyoxigraph.
SERVED = {
    "?format=rdfxml": pyoxigraph.RdfFormat.RDF_XML,
    "?format=turtle": pyoxigraph.RdfFormat.TURTLE,
    "?format=ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
    "?format=jsonld": pyoxigraph.RdfFormat.JSON_LD,
}

URL_CHECK = r"""
import java.io.File;
import java.util.*;
import javax.xml.parsers.DocumentBuilderFactory;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.IRIDocumentSource;
import org.semanticweb.owlapi.io.RDFParserMetaData;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.model.parameters.Imports;
import org.semanticweb.owlapi.profiles.*;
import org.w3c.dom.*;

/**
 * args: a Protégé catalog, the ontology file next to it, then URLs. Loads the file's imports
 * closure through the catalog, then each URL as Protégé would (no catalog, imports fetched from
 * their IRIs), and prints one tab-separated line per finding: URL, kind, detail.
 */
public class UrlCheck {
    public static void main(String[] args) throws Exception {
        Set<OWLAxiom> expected = closureFromFiles(new File(args[0]), new File(args[1]));
        for (int i = 2; i < args.length; i++) {
            check(args[i], expected);
        }
    }

    static Set<OWLAxiom> closureFromFiles(File catalog, File file) throws Exception {
        Map<String, File> map = new HashMap<>();
        NodeList uris = DocumentBuilderFactory.newInstance().newDocumentBuilder()
            .parse(catalog).getElementsByTagName("uri");
        for (int i = 0; i < uris.getLength(); i++) {
            Element e = (Element) uris.item(i);
            File target = new File(catalog.getParentFile(), e.getAttribute("uri"));
            map.put(e.getAttribute("name"), target);
        }
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        manager.getIRIMappers().clear();
        manager.getIRIMappers().add(iri -> map.containsKey(iri.toString())
            ? IRI.create(map.get(iri.toString())) : null);
        OWLOntology o = manager.loadOntologyFromOntologyDocument(file);
        return new HashSet<>(o.getAxioms(Imports.INCLUDED));
    }

    static void check(String url, Set<OWLAxiom> expected) {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        manager.addMissingImportListener(e -> say(url, "MISSING",
            e.getImportedOntologyURI() + " " + e.getCreationException()));
        manager.addOntologyLoaderListener(new OWLOntologyLoaderListener() {
            public void startedLoadingOntology(LoadingStartedEvent e) {
                say(url, "FETCH", e.getDocumentIRI().toString());
            }
            public void finishedLoadingOntology(LoadingFinishedEvent e) {
                if (!e.isSuccessful()) {
                    say(url, "FAILED", e.getDocumentIRI() + " " + e.getException());
                }
            }
        });
        // Protégé keeps loading when an import is missing; the listener above counts them.
        OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT);
        OWLOntology o;
        try {
            o = manager.loadOntologyFromOntologyDocument(
                new IRIDocumentSource(IRI.create(url)), config);
        } catch (Exception | LinkageError e) {
            say(url, "ERROR", String.valueOf(e).replace('\n', ' '));
            return;
        }
        say(url, "FORMAT", manager.getOntologyFormat(o).getKey());
        say(url, "ID", o.getOntologyID().toString());
        for (OWLOntology part : o.getImportsClosure()) {
            Optional<?> meta = manager.getOntologyFormat(part).getOntologyLoaderMetaData();
            if (meta.isPresent() && meta.get() instanceof RDFParserMetaData) {
                ((RDFParserMetaData) meta.get()).getUnparsedTriples()
                    .forEach(t -> say(url, "UNPARSED", t.toString()));
            }
        }
        o.importsDeclarations().forEach(d -> say(url, "IMPORT", d.getIRI().toString()));
        for (OWLProfileViolation v : new OWL2DLProfile().checkOntology(o).getViolations()) {
            say(url, "VIOLATION", v.toString());
        }
        say(url, "IMPORTS", String.valueOf(o.getImportsClosure().size()));
        Set<OWLAxiom> got = new HashSet<>(o.getAxioms(Imports.INCLUDED));
        say(url, "AXIOMS", String.valueOf(got.size()));
        expected.stream().filter(a -> !got.contains(a))
            .forEach(a -> say(url, "LACKS", a.toString()));
        got.stream().filter(a -> !expected.contains(a))
            .forEach(a -> say(url, "EXTRA", a.toString()));
    }

    static void say(String url, String kind, String detail) {
        System.out.println(url + "\t" + kind + "\t" + detail.replace('\n', ' '));
    }
}
"""


def _same_value(axiom: str) -> str:
    """``axiom`` with its xsd:decimal literals written one way for each value.

    The Turtle form of /ns comes from rdflib, which writes the confidence bounds as they are
    written in the file ("0.0"); the other forms come from the stored triples, which Oxigraph
    keeps in the canonical form of XSD 1.1 ("0"). Both are one value; the OWL API compares
    literals by their lexical form.
    """
    return _DECIMAL.sub(lambda m: f'"{Decimal(m[1]).normalize():f}"^^xsd:decimal', axiom)


_DECIMAL = re.compile(r'"([-+]?[0-9]*\.?[0-9]+)"\^\^xsd:decimal')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeChild]:
    """``diplograph serve`` on 127.0.0.1 with an empty store: /ns needs no data."""
    child = ServeChild(tmp_path_factory.mktemp("protege") / "store").start()
    try:
        yield child
    finally:
        child.stop()


def test_every_format_of_ns_has_one_header_and_no_imports(server: ServeChild) -> None:
    """Without Java: what the OWL API would fetch, and what would confuse it, is not there."""
    ontology = pyoxigraph.NamedNode(ONTOLOGY_IRI)
    for query, fmt in SERVED.items():
        response = httpx.get(server.url + "/ns" + query, timeout=30)
        assert response.status_code == 200, query
        triples = [q.triple for q in pyoxigraph.parse(response.content, format=fmt)]
        headers = {
            t.subject
            for t in triples
            if t.predicate == RDF_TYPE and t.object.value == OWL + "Ontology"
        }
        assert headers == {ontology}, query
        assert not [t for t in triples if t.predicate.value == OWL + "imports"], query
        version = [t.object for t in triples if t.predicate.value == OWL + "versionIRI"]
        assert version == [pyoxigraph.NamedNode(ONTOLOGY_IRI + "/0.1.0")], query


@pytest.mark.external
def test_the_owl_api_opens_ns_from_the_url_with_every_import_resolved(
    server: ServeChild, tmp_path: Path
) -> None:
    urls = {server.url + "/ns" + query: query for query in FORMATS}
    done = run_owlapi_check(
        tmp_path / "UrlCheck.java",
        URL_CHECK,
        ONTOLOGY_DIR / "catalog-v001.xml",
        ONTOLOGY_DIR / "diplograph.ttl",
        *urls,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    findings: dict[str, list[tuple[str, str]]] = {url: [] for url in urls}
    for line in done.stdout.splitlines():
        url, kind, detail = line.split("\t", 2)
        findings[url].append((kind, detail))
    for url, query in urls.items():
        seen = findings[url]
        kinds = {kind for kind, _ in seen}

        def details(kind: str, seen: list[tuple[str, str]] = seen) -> list[str]:
            return [detail for k, detail in seen if k == kind]

        # Only the URL itself is fetched: no import of a w3id.org IRI, so no internet needed.
        assert details("FETCH") == [url], seen
        problems = {"ERROR", "FAILED", "MISSING", "UNPARSED", "VIOLATION"}
        assert not kinds & problems, seen
        # The same axioms as the files: every import's content is there, nothing else.
        assert sorted(map(_same_value, details("LACKS"))) == sorted(
            map(_same_value, details("EXTRA"))
        ), seen
        assert details("FORMAT") == [FORMATS[query]], seen
        assert details("ID") == [
            f"OntologyID(OntologyIRI(<{ONTOLOGY_IRI}>) VersionIRI(<{ONTOLOGY_IRI}/0.1.0>))"
        ], seen
        assert details("IMPORT") == [] and details("IMPORTS") == ["1"], seen
        assert int(details("AXIOMS")[0]) > 1000, seen
