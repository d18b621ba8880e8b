"""The w3id.org redirect rules (docs/w3id/.htaccess) send every kind of diplograph IRI home.

The rules are read by a small interpreter of the mod_rewrite subset they use (``RewriteCond`` on
the ``Accept`` header, ``RewriteRule`` with ``[R=303,L]`` or ``[R=302,L]``); a directive outside
that subset fails the test, so the file cannot grow rules nobody checks. Then:

* a table of IRIs, one or more of each kind, with the Accept headers of Protégé, a browser and
  RDF clients, gives the status and target each must get;
* every IRI the project actually names (the ontology, code-list and shapes headers and version
  IRIs, the namespaces, every code-list concept, the JSON Schema's ``$id``, the data IRIs of the
  test store) is redirected by some rule, to the placeholder host, and the server answers the
  target path (200, in the format asked for), so a route renamed on the server breaks this test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from diplograph import ontology
from diplograph.api.app import create_app
from diplograph.loader.config import load_settings
from diplograph.shapes import shapes_path
from tests.conftest import ROOT
from tests.support.server import DATA_FILE, load_test_store

HTACCESS = ROOT / "docs" / "w3id" / ".htaccess"
W3ID = "https://w3id.org/diplograph/"
#: The host every rule redirects to, until the deployed server's host replaces it.
PLACEHOLDER = "https://diplograph.example.org/"
VANN_NAMESPACE = URIRef("http://purl.org/vocab/vann/preferredNamespaceUri")
NODE_SHAPE = URIRef("http://www.w3.org/ns/shacl#NodeShape")

PROTEGE = (
    "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, text/plain; q=0.1, */*; q=0.09"
)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
#: Accept header -> the ?format= the rules add and the media type the server then answers.
ACCEPTS = {
    PROTEGE: ("rdfxml", "application/rdf+xml"),
    "text/turtle": ("turtle", "text/turtle"),
    "application/ld+json": ("jsonld", "application/ld+json"),
    "application/n-triples": ("ntriples", "application/n-triples"),
    BROWSER: ("html", "text/html"),
    "*/*": (None, "text/turtle"),
}


@dataclass(frozen=True)
class Rule:
    """One RewriteRule with the RewriteConds on the Accept header just above it."""

    line: int
    accept: tuple[re.Pattern[str], ...]
    pattern: re.Pattern[str]
    target: str
    status: int


def parse_rules(text: str) -> list[Rule]:
    """The rules of an .htaccess in the subset of mod_rewrite these rules may use."""
    rules: list[Rule] = []
    conditions: list[re.Pattern[str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match line.split():
            case ["Options", "+FollowSymLinks"] | ["RewriteEngine", "on"]:
                pass
            case ["RewriteCond", "%{HTTP_ACCEPT}", pattern]:
                conditions.append(re.compile(pattern))
            case ["RewriteRule", pattern, target, flags]:
                status = re.fullmatch(r"\[R=(30[23]),L\]", flags)
                assert status, f"line {number}: flags {flags} are not [R=303,L] or [R=302,L]"
                rule = Rule(number, tuple(conditions), re.compile(pattern), target, int(status[1]))
                rules.append(rule)
                conditions = []
            case _:
                pytest.fail(f"line {number}: a directive this test does not understand: {line}")
    assert not conditions, "RewriteCond lines with no RewriteRule after them"
    return rules


def resolve(rules: list[Rule], iri: str, accept: str) -> tuple[int, str] | None:
    """What w3id.org answers for ``iri`` with ``accept``: (status, Location), or None (404).

    As Apache does in a directory's .htaccess: the path below the directory, without the
    fragment (a client never sends it), against each rule in order; the first rule whose
    pattern and conditions all match redirects, with ``$N`` replaced by its groups.
    """
    assert iri.startswith(W3ID), iri
    path = urlsplit(iri).path.removeprefix(urlsplit(W3ID).path)
    for rule in rules:
        found = rule.pattern.search(path)
        if found and all(condition.search(accept) for condition in rule.accept):
            # $N is group N ("" when the group took no part in the match).
            target = found.expand(re.sub(r"\$(\d)", r"\\g<\1>", rule.target))
            return rule.status, target
    return None


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return parse_rules(HTACCESS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store = load_test_store()
    with TestClient(create_app(load_settings(store="memory"), store)) as test_client:
        yield test_client
    store.close()


def test_the_rules_parse_and_name_only_the_placeholder_host(rules: list[Rule]) -> None:
    assert len(rules) > 10
    for rule in rules:
        assert rule.target.startswith(PLACEHOLDER), rule
    text = HTACCESS.read_text(encoding="utf-8")
    assert "PLACEHOLDER" in text and "diplograph.example.org" in text
    for needle in ("localhost", "127.0.0.1", "/home/", "/work/", "/tmp/"):
        assert needle not in text


@pytest.mark.parametrize(
    ("iri", "accept", "expected"),
    [
        # The ontology: Protégé gets RDF/XML, a browser the documentation, terms their document.
        ("ns", PROTEGE, (303, "ns?format=rdfxml")),
        ("ns", BROWSER, (303, "ns?format=html")),
        ("ns", "text/turtle", (303, "ns?format=turtle")),
        ("ns", "application/ld+json", (303, "ns?format=jsonld")),
        ("ns", "application/n-triples", (303, "ns?format=ntriples")),
        ("ns", "*/*", (303, "ns")),
        ("ns#PhoneCall", "text/turtle", (303, "ns?format=turtle")),
        ("ns#PhoneCall", BROWSER, (303, "ns?format=html")),
        ("ns/0.1.0", PROTEGE, (303, "ns?format=rdfxml")),
        # The code lists: ontology IRIs, namespaces (schemes) and codes.
        ("codes", PROTEGE, (303, "codes?format=rdfxml")),
        ("codes/0.1.0", "text/turtle", (303, "codes?format=turtle")),
        ("cameo", BROWSER, (303, "cameo?format=html")),
        ("plover", "*/*", (303, "plover")),
        ("kw/", BROWSER, (303, "kw/?format=html")),
        ("cameo/", "text/turtle", (303, "cameo/?format=turtle")),
        ("plover/", "application/ld+json", (303, "plover/?format=jsonld")),
        ("kw/initiator", "text/turtle", (303, "kw/initiator?format=turtle")),
        ("kw/roles", BROWSER, (303, "kw/roles?format=html")),
        ("cameo/041", PROTEGE, (303, "cameo/041?format=rdfxml")),
        ("plover/CONSULT", "*/*", (303, "plover/CONSULT")),
        # The shapes: RDF only, so a browser gets Turtle.
        ("shapes", "application/ld+json", (303, "shapes?format=jsonld")),
        ("shapes#EventShape", BROWSER, (303, "shapes?format=turtle")),
        ("shapes", "*/*", (303, "shapes")),
        # Data: 303 to the description, in the format asked for.
        ("id/person/antony-blinken", BROWSER, (303, "id/person/antony-blinken?format=html")),
        ("id/doc/readout-1", "text/turtle", (303, "id/doc/readout-1?format=turtle")),
        ("id/event/x/attestation/1", PROTEGE, (303, "id/event/x/attestation/1?format=rdfxml")),
        ("id/person/antony-blinken", "*/*", (303, "id/person/antony-blinken")),
        # Documents.
        ("schema/facts-1.0.json", "application/json", (302, "schema")),
        ("", BROWSER, (302, "")),
        # Not ours: w3id.org answers 404.
        ("id/", "text/turtle", None),
        ("kw", "text/turtle", None),
        ("ns/latest", "text/turtle", None),
        ("sparql", "*/*", None),
    ],
)
def test_each_kind_of_iri_goes_to_its_target(
    rules: list[Rule], iri: str, accept: str, expected: tuple[int, str] | None
) -> None:
    want = None if expected is None else (expected[0], PLACEHOLDER + expected[1])
    assert resolve(rules, W3ID + iri, accept) == want


def _project_iris(client: TestClient) -> set[str]:
    """Every IRI under w3id.org/diplograph/ the project names, one of each data kind."""
    iris: set[str] = set()
    graphs = [Graph().parse(path, format="turtle") for path in ontology.ontology_paths()]
    graphs.append(Graph().parse(shapes_path(), format="turtle"))
    for graph in graphs:
        for header in graph.subjects(RDF.type, OWL.Ontology):
            iris.add(str(header))
            iris.update(str(v) for v in graph.objects(header, OWL.versionIRI))
            iris.update(str(ns) for ns in graph.objects(header, VANN_NAMESPACE))
        for kind in (SKOS.Concept, SKOS.ConceptScheme, OWL.Class, OWL.ObjectProperty, NODE_SHAPE):
            iris.update(str(term) for term in graph.subjects(RDF.type, kind))
    iris.add(client.get("/schema").json()["$id"])
    kinds: dict[tuple[str, int], str] = {}
    for quad in pyoxigraph.parse(path=DATA_FILE, format=pyoxigraph.RdfFormat.TRIG):
        for node in (quad.subject, quad.object):
            if isinstance(node, pyoxigraph.NamedNode) and node.value.startswith(W3ID + "id/"):
                # One IRI of each kind (person, event, …) and of each depth (…/attestation/1).
                kind = (node.value.split("/")[5], node.value.count("/"))
                kinds.setdefault(kind, node.value)
    assert {"person", "doc", "event"} <= {kind for kind, _ in kinds}, kinds
    iris.update(kinds.values())
    iris.add(W3ID)
    return {iri for iri in iris if iri.startswith(W3ID)}


def test_every_iri_of_the_project_goes_to_a_path_the_server_answers(
    rules: list[Rule], client: TestClient
) -> None:
    iris = _project_iris(client)
    assert len(iris) > 200
    checked: set[tuple[str, str]] = set()
    for iri in sorted(iris):
        for accept, (fmt, media_type) in ACCEPTS.items():
            redirect = resolve(rules, iri, accept)
            assert redirect is not None, f"no rule for {iri} ({accept})"
            status, target = redirect
            assert target.startswith(PLACEHOLDER), (iri, target)
            is_document = iri == W3ID or "/schema/" in iri
            assert status == (302 if is_document else 303), (iri, status)
            if is_document:
                continue
            if iri.startswith(W3ID + "shapes") and fmt == "html":
                media_type = "text/turtle"  # the shapes have no HTML form
            if (target, accept) in checked:
                continue
            checked.add((target, accept))
            response = client.get(
                "/" + target.removeprefix(PLACEHOLDER), headers={"Accept": accept}
            )
            assert response.status_code == 200, (iri, target, response.text[:300])
            served = response.headers["content-type"].split(";")[0]
            assert served == media_type, (iri, target, served)
    # The documents: the JSON Schema and the start page.
    for iri, media_type in ((W3ID, "text/html"), (client.get("/schema").json()["$id"], None)):
        redirect = resolve(rules, iri, BROWSER)
        assert redirect is not None
        response = client.get(
            "/" + redirect[1].removeprefix(PLACEHOLDER), headers={"Accept": BROWSER}
        )
        assert response.status_code == 200, iri
        if media_type:
            assert response.headers["content-type"].startswith(media_type)


def test_the_readme_names_the_files_and_the_placeholder() -> None:
    readme = (Path(HTACCESS).parent / "README.md").read_text(encoding="utf-8")
    assert "diplograph.example.org" in readme and ".htaccess" in readme
