"""The Store contract, run against every implementation.

* ``memory`` and ``disk``: the embedded Oxigraph store.
* ``remote`` and ``remote-list``: the remote store on a real Virtuoso (tests/support/virtuoso.py),
  once with Virtuoso's own union default graph and once with the portable emulation that names
  every graph in ``default-graph-uri``.

The Virtuoso is shared by the session and holds graphs of its own, so every test writes under
its own graph prefix and checks differences (count before/after, its graphs among the names),
never absolute totals. Per-store behaviour lives in test_store_embedded.py and
test_store_remote.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    Triple,
)

from diplograph.loader.errors import QuerySyntaxError
from diplograph.loader.store import GraphChange, Store
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.store.remote import STAGING_PREFIX, RemoteStore

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
VIRTUOSO = [pytest.mark.server, pytest.mark.external, pytest.mark.slow]


@pytest.fixture(
    params=[
        "memory",
        "disk",
        pytest.param("remote", marks=VIRTUOSO),
        pytest.param("remote-list", marks=VIRTUOSO),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path, ns: str) -> Iterator[Store]:
    """An empty store (or, on Virtuoso, one with no graph under ``ns``)."""
    the_store: Store
    if request.param == "memory":
        the_store = EmbeddedStore(None)
    elif request.param == "disk":
        the_store = EmbeddedStore(tmp_path / "store")
    else:
        server = request.getfixturevalue("virtuoso")
        the_store = server.store(union="list" if request.param == "remote-list" else "native")
    try:
        yield the_store
    finally:
        if isinstance(the_store, RemoteStore):  # leave the shared Virtuoso as we found it
            the_store.commit([GraphChange(g, None) for g in ours(the_store, ns)])
        the_store.close()


@pytest.fixture
def ns() -> str:
    """A namespace no other test uses: graphs and resources of one test live under it."""
    return f"http://example.org/test/{uuid.uuid4().hex}/"


def ours(store: Store, ns: str) -> list[str]:
    return [g for g in store.graph_names() if g.startswith(ns)]


def iri(ns: str, local: str) -> NamedNode:
    return NamedNode(ns + local)


def triples(ns: str, subject: str, *objects: str) -> list[Triple]:
    return [Triple(iri(ns, subject), iri(ns, "p"), Literal(o)) for o in objects]


def values(solutions: object, var: str = "o") -> set[str]:
    assert isinstance(solutions, QuerySolutions)
    return {str(row[var]) for row in solutions}


def number(term: object) -> int:
    assert isinstance(term, Literal)
    return int(term.value)


def canonical(found: Iterable[Triple]) -> set[Quad]:
    """The triples with blank nodes renamed canonically, to compare graphs with blank nodes."""
    dataset = Dataset([Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in found])
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


# --- commit ----------------------------------------------------------------------------------


def test_commit_writes_and_replaces_a_graph(store: Store, ns: str) -> None:
    g, other = ns + "g", ns + "other"
    store.commit(
        [GraphChange(g, triples(ns, "s", "a", "b")), GraphChange(other, triples(ns, "t", "x"))]
    )
    assert store.graph_triples(g) == set(triples(ns, "s", "a", "b"))

    store.commit([GraphChange(g, triples(ns, "s", "c"))])

    assert store.graph_triples(g) == set(triples(ns, "s", "c"))
    assert store.graph_triples(other) == set(triples(ns, "t", "x"))


def test_commit_drops_graphs(store: Store, ns: str) -> None:
    a, b, c = ns + "a", ns + "b", ns + "c"
    store.commit([GraphChange(g, triples(ns, "s", g)) for g in (a, b, c)])

    store.commit([GraphChange(a, None), GraphChange(b, []), GraphChange(ns + "never", None)])

    assert ours(store, ns) == [c]
    assert store.graph_triples(a) == set()


def test_commit_of_nothing_is_a_no_op(store: Store, ns: str) -> None:
    before = store.count()
    store.commit([])
    assert store.count() == before


def test_later_change_of_the_same_graph_wins(store: Store, ns: str) -> None:
    g = ns + "g"
    store.commit(
        [GraphChange(g, triples(ns, "s", "first")), GraphChange(g, triples(ns, "s", "second"))]
    )
    assert store.graph_triples(g) == set(triples(ns, "s", "second"))


def test_readers_never_see_half_a_commit(store: Store, ns: str) -> None:
    """While commits replace two graphs, a reader always sees both whole and in one version."""
    a, b = ns + "a", ns + "b"
    size = 200

    def version(k: int) -> list[GraphChange]:
        return [
            GraphChange(
                g, [Triple(iri(ns, f"s{i}"), iri(ns, "p"), Literal(f"v{k}")) for i in range(size)]
            )
            for g in (a, b)
        ]

    store.commit(version(0))
    check = (
        f"SELECT ?g ?o (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{ns}p> ?o }} "
        f"VALUES ?g {{ <{a}> <{b}> }} }} GROUP BY ?g ?o"
    )
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for k in range(1, 13):
                store.commit(version(k))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen: set[str] = set()
    try:
        while not done.is_set():
            result = store.query(check)
            assert isinstance(result, QuerySolutions)
            rows = [(str(r["g"]), str(r["o"]), number(r["n"])) for r in result]
            assert len(rows) == 2, rows  # one version per graph, both graphs present
            assert rows[0][1] == rows[1][1], rows  # the same version in both
            assert all(n == size for _, _, n in rows), rows  # and whole
            seen.add(rows[0][1])
    finally:
        writer.join()
    assert not errors, errors
    assert seen  # the reader did read


# --- graph_names, graph_triples, quads, count -------------------------------------------------


def test_graph_names_are_sorted_and_hide_staging_graphs(store: Store, ns: str) -> None:
    graphs = [ns + "b", ns + "c", ns + "a"]
    store.commit([GraphChange(g, triples(ns, "s", g)) for g in graphs])

    names = store.graph_names()

    assert names == sorted(names)
    assert ours(store, ns) == sorted(graphs)
    assert not [g for g in names if g.startswith(STAGING_PREFIX)]


def test_graph_triples_of_a_missing_graph_is_empty(store: Store, ns: str) -> None:
    assert store.graph_triples(ns + "nothing") == set()


def test_empty_graphs_names_the_graphs_that_hold_nothing(store: Store, ns: str) -> None:
    store.commit([GraphChange(ns + "full", triples(ns, "s", "a"))])
    assert store.empty_graphs([ns + "full", ns + "missing"]) == {ns + "missing"}
    assert store.empty_graphs([]) == set()


def test_quads_stream_every_graph(store: Store, ns: str) -> None:
    a, b = ns + "a", ns + "b"
    store.commit(
        [GraphChange(a, triples(ns, "s", "1", "2")), GraphChange(b, triples(ns, "t", "3"))]
    )

    stream = store.quads()
    assert iter(stream) is stream  # an iterator, not a list built up front
    mine = {q for q in stream if q.graph_name in (NamedNode(a), NamedNode(b))}

    expected = {
        Quad(t.subject, t.predicate, t.object, NamedNode(a)) for t in triples(ns, "s", "1", "2")
    }
    expected |= {
        Quad(t.subject, t.predicate, t.object, NamedNode(b)) for t in triples(ns, "t", "3")
    }
    assert mine == expected
    assert set(store.quads(b)) == {q for q in expected if q.graph_name == NamedNode(b)}
    assert list(store.quads(ns + "nothing")) == []


def test_count_counts_quads(store: Store, ns: str) -> None:
    before = store.count()
    store.commit(
        [
            GraphChange(ns + "a", triples(ns, "s", "1", "2", "3")),
            GraphChange(ns + "b", triples(ns, "s", "1")),
        ]
    )
    assert store.count() == before + 4
    store.commit([GraphChange(ns + "a", None)])
    assert store.count() == before + 1


def test_count_at_most_is_the_count_up_to_its_limit(store: Store, ns: str) -> None:
    store.commit([GraphChange(ns + "a", triples(ns, "s", "1", "2", "3"))])
    total = store.count()
    assert store.count_at_most(total) == store.count_at_most(total + 5) == total
    assert store.count_at_most(total - 1) is None


def test_a_flush_keeps_every_committed_quad_and_takes_more_writes(store: Store, ns: str) -> None:
    store.commit([GraphChange(ns + "a", triples(ns, "s", "1", "2"))])
    before = set(store.quads(ns + "a"))
    store.flush()
    assert set(store.quads(ns + "a")) == before
    store.commit([GraphChange(ns + "a", triples(ns, "s", "1", "2", "3"))])
    assert len(set(store.quads(ns + "a"))) == 3


def test_a_compaction_keeps_every_committed_quad_and_takes_more_writes(
    store: Store, ns: str
) -> None:
    store.commit([GraphChange(ns + "a", triples(ns, "s", "1", "2"))])
    store.commit([GraphChange(ns + "b", triples(ns, "s", "3"))])
    store.commit([GraphChange(ns + "b", None)])  # deleted data, which compaction drops
    before = set(store.quads(ns + "a"))
    store.compact()
    assert set(store.quads(ns + "a")) == before and not set(store.quads(ns + "b"))
    store.commit([GraphChange(ns + "a", triples(ns, "s", "1", "2", "3"))])
    assert len(set(store.quads(ns + "a"))) == 3


# --- query -----------------------------------------------------------------------------------


@pytest.fixture
def two_graphs(store: Store, ns: str) -> tuple[str, str]:
    """<s> <p> "a" in graph a, <s> <p> "b" and <s> a <T> in graph b."""
    a, b = ns + "a", ns + "b"
    typed = Triple(iri(ns, "s"), NamedNode(RDF + "type"), iri(ns, "T"))
    store.commit(
        [GraphChange(a, triples(ns, "s", "a")), GraphChange(b, [*triples(ns, "s", "b"), typed])]
    )
    return a, b


def test_select_sees_the_union_of_named_graphs(
    store: Store, ns: str, two_graphs: tuple[str, str]
) -> None:
    result = store.query(f"SELECT ?o WHERE {{ <{ns}s> <{ns}p> ?o }}")
    assert values(result) == {'"a"', '"b"'}


def test_select_with_a_default_graph_sees_only_it(
    store: Store, ns: str, two_graphs: tuple[str, str]
) -> None:
    a, b = two_graphs
    assert values(store.query(f"SELECT ?o WHERE {{ <{ns}s> <{ns}p> ?o }}", default_graph=[a])) == {
        '"a"'
    }
    assert values(
        store.query(f"SELECT ?o WHERE {{ <{ns}s> <{ns}p> ?o }}", default_graph=[a, b])
    ) == {'"a"', '"b"'}


def test_graph_patterns_see_named_graphs(
    store: Store, ns: str, two_graphs: tuple[str, str]
) -> None:
    a, b = two_graphs
    query = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{ns}s> <{ns}p> ?o }} }}"
    assert values(store.query(query), "g") == {f"<{a}>", f"<{b}>"}
    assert values(store.query(query, default_graph=[a], named_graphs=[b]), "g") == {f"<{b}>"}


def test_ask(store: Store, ns: str, two_graphs: tuple[str, str]) -> None:
    a, _ = two_graphs
    ask = f'ASK {{ <{ns}s> <{ns}p> "b" }}'
    everywhere, in_a = store.query(ask), store.query(ask, default_graph=[a])
    assert isinstance(everywhere, QueryBoolean)
    assert isinstance(in_a, QueryBoolean)
    assert bool(everywhere) is True
    assert bool(in_a) is False


def test_construct(store: Store, ns: str, two_graphs: tuple[str, str]) -> None:
    a, _ = two_graphs
    construct = f"CONSTRUCT {{ <{ns}s> ?p ?o }} WHERE {{ <{ns}s> ?p ?o }}"
    everything = store.query(construct)
    assert not isinstance(everything, QuerySolutions | QueryBoolean)
    assert set(everything) == {
        *triples(ns, "s", "a", "b"),
        Triple(iri(ns, "s"), NamedNode(RDF + "type"), iri(ns, "T")),
    }
    only_a = store.query(construct, default_graph=[a])
    assert not isinstance(only_a, QuerySolutions | QueryBoolean)
    assert set(only_a) == set(triples(ns, "s", "a"))


def test_types_of_looks_in_every_graph(store: Store, ns: str, two_graphs: tuple[str, str]) -> None:
    found = set(store.types_of([ns + "s", ns + "unknown"]))
    assert found == {Triple(iri(ns, "s"), NamedNode(RDF + "type"), iri(ns, "T"))}


@pytest.mark.parametrize(
    "text",
    ["SELEC ?s WHERE { ?s ?p ?o }", "SELECT ?s WHERE { ?s ?p ?o", "ASK { ?s ?p }"],
)
def test_a_malformed_query_raises_query_syntax_error(store: Store, text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        store.query(text)


def test_a_malformed_update_raises_query_syntax_error(store: Store, ns: str) -> None:
    with pytest.raises(QuerySyntaxError):
        store.update(f"INSERT DATA {{ GRAPH <{ns}g> {{ <{ns}s> <{ns}p> 1 }}")


def test_update_runs(store: Store, ns: str) -> None:
    store.update(f'INSERT DATA {{ GRAPH <{ns}g> {{ <{ns}s> <{ns}p> "1" }} }}')
    assert store.graph_triples(ns + "g") == set(triples(ns, "s", "1"))


# --- terms round-trip exactly ----------------------------------------------------------------

#: Literals every store must give back exactly as written. Numbers, dates and booleans are in
#: canonical form: Virtuoso keeps values, not lexical forms (see test_store_remote.py).
LITERALS = [
    Literal(""),
    Literal("plain"),
    Literal("double \"quotes\" and 'single'"),
    Literal("line one\nline two\r\nwindows\ttab"),
    Literal("back\\slash, \\n not a newline, \\u00e9 not an e-acute"),
    Literal("é ü ß — “curly” 中文 العربية עברית"),
    Literal("astral 😀 𝔘 \U0001f3f3\ufe0f\u200d\U0001f308"),
    Literal("controls \x01 \x1f \x7f and separators \u2028 \u2029 and bom \ufeff"),
    Literal("  leading and trailing spaces  "),
    Literal("a long one " + "x" * 5000),
    Literal("hello", language="en"),
    Literal("bonjour", language="fr-ca"),
    Literal("中文", language="zh-hant-tw"),
    Literal("explicit string", datatype=NamedNode(XSD + "string")),
    Literal("42", datatype=NamedNode(XSD + "integer")),
    Literal("-7", datatype=NamedNode(XSD + "integer")),
    Literal("1.5", datatype=NamedNode(XSD + "decimal")),
    Literal("true", datatype=NamedNode(XSD + "boolean")),
    Literal("false", datatype=NamedNode(XSD + "boolean")),
    Literal("2024-03-01", datatype=NamedNode(XSD + "date")),
    Literal("2024-03-01T10:00:00Z", datatype=NamedNode(XSD + "dateTime")),
    Literal("2024", datatype=NamedNode(XSD + "gYear")),
    Literal("2024-03", datatype=NamedNode(XSD + "gYearMonth")),
    Literal("custom value", datatype=NamedNode("http://example.org/datatype")),
    Literal("<b>bold</b>", datatype=NamedNode(RDF + "HTML")),
]


def test_literals_round_trip_exactly(store: Store, ns: str) -> None:
    g = ns + "g"
    written = {Triple(iri(ns, f"s{i}"), iri(ns, "p"), lit) for i, lit in enumerate(LITERALS)}
    written.add(Triple(iri(ns, "é/😀"), iri(ns, "p"), iri(ns, "ü?q=1#frag")))
    store.commit([GraphChange(g, sorted(written, key=str))])

    assert store.graph_triples(g) == written
    assert {q.triple for q in store.quads(g)} == written
    select = store.query(f"SELECT ?s ?o WHERE {{ ?s <{ns}p> ?o }}", default_graph=[g])
    assert isinstance(select, QuerySolutions)
    assert {Triple(r["s"], iri(ns, "p"), r["o"]) for r in select} == written
    construct = store.query("CONSTRUCT WHERE { ?s ?p ?o }", default_graph=[g])
    assert not isinstance(construct, QuerySolutions | QueryBoolean)
    assert set(construct) == written
    for i, lit in enumerate(LITERALS):  # and each one is found by its exact value
        ask = store.query(f"ASK {{ <{ns}s{i}> <{ns}p> {lit} }}", default_graph=[g])
        assert bool(ask), lit


def test_blank_nodes_keep_their_shape(store: Store, ns: str) -> None:
    """Blank node labels change (they are the store's); the structure they make does not."""
    g, p = ns + "g", iri(ns, "p")
    restriction, members = BlankNode(), [BlankNode() for _ in range(30)]
    written = [
        Triple(iri(ns, "Class"), p, restriction),
        Triple(restriction, p, Literal("onProperty")),
    ]
    written += [Triple(restriction, iri(ns, "member"), m) for m in members]
    written += [Triple(m, p, Literal(str(i))) for i, m in enumerate(members)]
    store.commit([GraphChange(g, written)])

    assert canonical(store.graph_triples(g)) == canonical(written)
    construct = store.query("CONSTRUCT WHERE { ?s ?p ?o }", default_graph=[g])
    assert not isinstance(construct, QuerySolutions | QueryBoolean)
    assert canonical(construct) == canonical(written)
