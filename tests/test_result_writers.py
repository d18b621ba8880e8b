"""The SELECT result writers (:func:`diplograph.api.formats.write_solutions`): the bytes of every
format, pinned by golden files (written by the writers before SPARQL JSON became compact, the
JSON file since then Oxigraph's own output), the ``tick`` they call once per row before the row
goes out (the deadline and the row cap), and the JSON that Oxigraph writes for a :class:`Sink`
(the query worker processes): the same bytes, the same ticks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QuerySolutions, RdfFormat, Store

from diplograph.api.formats import RESULT_FORMATS, Format, Sink, write_solutions

CASE = Path(__file__).resolve().parent / "data" / "result_writers"
EXTENSIONS = {"json": "srj", "xml": "srx", "csv": "csv", "tsv": "tsv"}
JSON = RESULT_FORMATS[0]
#: How many rows the golden query gives.
ROWS = 14


@pytest.fixture(scope="module")
def store() -> Store:
    """IRIs, a blank node, literals of every kind (language, direction, datatypes, characters
    each format escapes), a triple term and an unbound variable."""
    store = Store()
    store.load(path=str(CASE / "terms.trig"), format=RdfFormat.TRIG)
    # A blank node with a fixed label (a parser would mint a fresh one per load).
    store.add(
        Quad(
            BlankNode("node1"),
            NamedNode("https://example.org/p"),
            NamedNode("https://example.org/a"),
            NamedNode("https://example.org/g"),
        )
    )
    return store


@pytest.fixture(scope="module")
def large() -> Store:
    """Rows enough for many blocks of Oxigraph's output, with line breaks and tabs in literals."""
    store = Store()
    p = NamedNode("urn:x:p")
    for i in range(3000):
        text = f"row {i}\twith a tab" if i % 3 else f'row {i}\nwith a line break, "quoted"'
        store.add(
            Quad(NamedNode(f"urn:x:s{i}"), p, Literal(text, language="en" if i % 2 else None))
        )
    return store


LARGE = "SELECT ?s ?text WHERE { ?s <urn:x:p> ?text } ORDER BY ?s"


def select(store: Store, query: str | None = None) -> QuerySolutions:
    """The golden query's solutions (or ``query``'s)."""
    result = store.query(query or (CASE / "query.rq").read_text())
    assert isinstance(result, QuerySolutions)
    return result


def expected(fmt: Format) -> bytes:
    return (CASE / f"expected.{EXTENSIONS[fmt.name]}").read_bytes()


class Collecting(Sink):
    """A sink that keeps what it is given and counts its ticks; ``refuse`` raises at that row."""

    def __init__(self, refuse: int | None = None) -> None:
        self.pieces: list[bytes] = []
        self.ticks = 0
        self.refuse = refuse

    def __call__(self) -> None:
        if self.ticks + 1 == self.refuse:
            raise TimeoutError
        self.ticks += 1

    def push(self, piece: bytes) -> None:
        self.pieces.append(piece)

    def run(self, solutions: QuerySolutions) -> bytes:
        """The writer's output: what it yields and what it pushes, in the order given."""
        for piece in write_solutions(JSON, solutions, self):
            self.pieces.append(piece)
        return b"".join(self.pieces)


def yielded(fmt: Format, solutions: QuerySolutions, tick: Callable[[], None]) -> list[bytes]:
    pieces = []
    for piece in write_solutions(fmt, solutions, tick):
        pieces.append(piece)
    return pieces


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_each_format_is_written_byte_for_byte_as_pinned(fmt: Format, store: Store) -> None:
    assert b"".join(yielded(fmt, select(store), lambda: None)) == expected(fmt)


def test_json_is_what_oxigraph_itself_writes(store: Store) -> None:
    assert expected(JSON) == select(store).serialize(format=JSON.results)


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_tick_is_called_once_per_row(fmt: Format, store: Store) -> None:
    calls = []
    yielded(fmt, select(store), lambda: calls.append(1))
    assert len(calls) == ROWS


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_a_tick_that_raises_stops_the_writer_before_its_row(fmt: Format, store: Store) -> None:
    """The row cap and the deadline raise from ``tick``: the rows before are out, not that one."""
    sink = Collecting(refuse=3)
    pieces: list[bytes] = []
    with pytest.raises(TimeoutError):
        for piece in write_solutions(fmt, select(store), sink.__call__):
            pieces.append(piece)
    assert len(pieces) == 1 + 2  # the head, then two rows
    assert expected(fmt).startswith(b"".join(pieces))


def test_a_term_in_two_columns_is_written_under_each_name() -> None:
    solutions = select(Store(), "SELECT ?a ?b WHERE { BIND (<urn:x> AS ?a) BIND (<urn:x> AS ?b) }")
    body = b"".join(yielded(JSON, solutions, lambda: None))
    assert b'{"a":{"type":"uri","value":"urn:x"},"b":{"type":"uri","value":"urn:x"}}' in body


# --- JSON pushed to a sink: Oxigraph writes the rows ------------------------------------------


def test_a_sink_gets_the_same_bytes_and_ticks(store: Store) -> None:
    sink = Collecting()
    assert sink.run(select(store)) == expected(JSON)
    assert sink.ticks == ROWS


def test_a_sink_gets_the_same_bytes_over_many_blocks(large: Store) -> None:
    sink = Collecting()
    body = sink.run(select(large, LARGE))
    assert body == b"".join(yielded(JSON, select(large, LARGE), lambda: None))
    assert sink.ticks == 3000
    assert len(sink.pieces) > 10  # pushed block by block, not as one


def test_a_sink_gets_the_rows_before_the_one_refused_even_deep_in_a_block(large: Store) -> None:
    sink = Collecting(refuse=1234)
    with pytest.raises(TimeoutError):
        sink.run(select(large, LARGE))
    yielding = Collecting(refuse=1234)  # its tick alone: the writer that yields row by row
    before: list[bytes] = []
    with pytest.raises(TimeoutError):
        for piece in write_solutions(JSON, select(large, LARGE), yielding.__call__):
            before.append(piece)
    assert b"".join(sink.pieces) == b"".join(before)
    assert sink.ticks == 1233


def test_an_empty_result_pushes_nothing(store: Store) -> None:
    sink = Collecting()
    body = sink.run(select(store, "SELECT ?x WHERE { ?x <urn:none> ?y }"))
    assert body == b'{"head":{"vars":["x"]},"results":{"bindings":[]}}'
    assert sink.pieces[1:-1] == [] and sink.ticks == 0


def test_a_sink_gets_the_same_bytes_for_literals_tsv_writes_in_short_form() -> None:
    """Oxigraph's TSV writes numbers and booleans bare (``42``): read back, each literal keeps
    its lexical form and datatype, the odd ones too (``01``, ``1.``, ``TRUE``, ``abc`` as an
    integer), and so do control and separator characters."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    typed = [
        ("01", "integer"),
        ("+5", "integer"),
        ("abc", "integer"),
        ("1.", "decimal"),
        (".5", "decimal"),
        ("-0.0", "decimal"),
        ("1.0E0", "double"),
        ("1e5", "double"),
        ("NaN", "double"),
        ("INF", "double"),
        ("true", "boolean"),
        ("TRUE", "boolean"),
    ]
    terms = [Literal(value, datatype=NamedNode(xsd + name)) for value, name in typed]
    terms += [Literal("a\\b"), Literal("\u0000 \u2028 é"), BlankNode("b1"), NamedNode("urn:x:é")]
    store = Store()
    for i, term in enumerate(terms):
        store.add(Quad(NamedNode(f"urn:x:s{i:02d}"), NamedNode("urn:x:p"), term))
    query = "SELECT ?s ?o WHERE { ?s <urn:x:p> ?o } ORDER BY ?s"
    pushed = Collecting().run(select(store, query))
    assert pushed == b"".join(yielded(JSON, select(store, query), lambda: None))
