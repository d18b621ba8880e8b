"""The format table (loader/formats.py), the prefix sets (loader/namespaces.py) and content
negotiation (api/formats.py)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, NamedNode, Quad, QueryResultsFormat, RdfFormat, parse

from diplograph.api.formats import accepts_encoding, negotiate, parse_accept
from diplograph.loader.dump import FORMATS, format_for_path, write_dump
from diplograph.loader.errors import UnsupportedFormatError
from diplograph.loader.formats import (
    DATASET_FORMATS,
    DUMP_FORMATS,
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    format_by_name,
)
from diplograph.loader.namespaces import (
    DSH,
    PREFIXES,
    SH,
    SHAPE_PREFIXES,
    TERM_PREFIXES,
    VOID_PREFIXES,
    data_prefixes,
    output_prefixes,
)
from diplograph.loader.store.embedded import EmbeddedStore

ALL = (*RESULT_FORMATS, *GRAPH_FORMATS, *DATASET_FORMATS)


# --- the table -----------------------------------------------------------------------------------


def test_every_format_has_a_unique_name_an_iri_and_an_extension() -> None:
    names = [f.name for f in ALL]
    assert len(names) == len(set(names))
    assert all(f.iri.startswith("http://www.w3.org/ns/formats/") for f in ALL)
    assert all(f.extension for f in ALL)


def test_media_types_and_extensions_agree_with_pyoxigraph() -> None:
    for fmt in RESULT_FORMATS:
        assert fmt.results is not None and fmt.rdf is None
        assert fmt.results.media_type.split(";")[0] == fmt.media_type
        assert fmt.results.file_extension == fmt.extension
    for fmt in (*GRAPH_FORMATS, *DATASET_FORMATS):
        assert fmt.rdf is not None and fmt.results is None
        assert fmt.rdf.media_type == fmt.media_type
        assert fmt.rdf.file_extension == fmt.extension


def test_only_dataset_formats_keep_named_graphs() -> None:
    assert all(f.quads for f in DATASET_FORMATS)
    assert not any(f.quads for f in (*GRAPH_FORMATS, *RESULT_FORMATS))


def test_text_formats_carry_a_charset_and_json_ld_does_not() -> None:
    turtle = format_by_name("turtle", GRAPH_FORMATS)
    jsonld = format_by_name("jsonld", GRAPH_FORMATS)
    assert turtle is not None and turtle.content_type == "text/turtle; charset=utf-8"
    assert jsonld is not None and jsonld.content_type == "application/ld+json"


def test_a_format_is_found_by_short_name_other_name_or_media_type() -> None:
    assert format_by_name("ttl", GRAPH_FORMATS) is GRAPH_FORMATS[0]
    assert format_by_name(" Application/N-Triples ", GRAPH_FORMATS) is GRAPH_FORMATS[1]
    assert format_by_name("xml", RESULT_FORMATS) is RESULT_FORMATS[1]
    xml_graph = format_by_name("xml", GRAPH_FORMATS)
    assert xml_graph is not None and xml_graph.rdf == RdfFormat.RDF_XML
    assert format_by_name("csv", GRAPH_FORMATS) is None


def test_dump_formats_come_from_the_table_in_their_listed_order() -> None:
    assert [f.name for f in DUMP_FORMATS] == ["turtle", "trig", "nquads", "ntriples", "jsonld"]
    assert list(FORMATS) == [f.name for f in DUMP_FORMATS]
    assert all(f in (*GRAPH_FORMATS, *DATASET_FORMATS) for f in DUMP_FORMATS)


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("out.ttl", "turtle"),
        ("out.trig.gz", "trig"),
        ("out.nq", "nquads"),
        ("out.nt", "ntriples"),
        ("out.jsonld", "jsonld"),
        ("out.json", "jsonld"),
    ],
)
def test_the_dump_format_follows_the_file_extension(file_name: str, expected: str) -> None:
    assert format_for_path(Path(file_name)).name == expected


def test_an_unknown_dump_extension_is_refused() -> None:
    with pytest.raises(UnsupportedFormatError, match="--format"):
        format_for_path(Path("out.csv"))


def test_result_formats_map_to_pyoxigraph_result_formats() -> None:
    assert [f.results for f in RESULT_FORMATS] == [
        QueryResultsFormat.JSON,
        QueryResultsFormat.XML,
        QueryResultsFormat.CSV,
        QueryResultsFormat.TSV,
    ]


# --- prefix sets ---------------------------------------------------------------------------------


def test_the_prefix_sets_extend_the_standard_prefixes() -> None:
    for extended in (SHAPE_PREFIXES, TERM_PREFIXES, VOID_PREFIXES):
        assert PREFIXES.items() <= extended.items()
    assert SHAPE_PREFIXES["sh"] == SH and SHAPE_PREFIXES["dsh"] == DSH


def test_output_prefixes_add_the_data_prefixes_only_with_a_base() -> None:
    base = "https://example.org/"
    assert output_prefixes(base) == {**PREFIXES, **data_prefixes(base)}
    assert output_prefixes(None) == PREFIXES
    assert output_prefixes("") == PREFIXES


# --- negotiation ---------------------------------------------------------------------------------


def test_accept_ranges_are_parsed_with_clamped_qualities() -> None:
    ranges = parse_accept("text/turtle;q=0.5, application/*;q=7, bogus, */*;q=x")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "turtle", 0.5),
        ("application", "*", 1.0),
        ("*", "*", 1.0),
    ]
    assert [(r.type, r.subtype) for r in parse_accept("  ")] == [("*", "*")]


def test_equal_qualities_go_to_the_earlier_format_unless_specific_ranges_are_preferred() -> None:
    html = Format("html", "HTML", "text/html")
    offered = (*GRAPH_FORMATS, html)
    assert negotiate("text/html, */*", offered) is GRAPH_FORMATS[0]
    assert negotiate("text/html, */*", offered, prefer_specific=True) is html
    assert negotiate("text/html;q=0.5, */*", offered, prefer_specific=True) is GRAPH_FORMATS[0]


def test_a_higher_quality_wins_and_zero_refuses() -> None:
    assert negotiate("text/csv;q=0.9, text/tab-separated-values", RESULT_FORMATS).name == "tsv"
    with pytest.raises(UnsupportedFormatError, match="available"):
        negotiate("text/csv;q=0", RESULT_FORMATS[2:3])


def test_the_format_parameter_overrides_accept() -> None:
    assert negotiate("text/csv", RESULT_FORMATS, override="srx").name == "xml"
    with pytest.raises(UnsupportedFormatError, match="format='turtle'"):
        negotiate(None, RESULT_FORMATS, override="turtle")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", True),
        ("gzip;q=0, *", False),
        ("*", True),
        ("identity", False),
        (None, False),
        ("br;q=1.0, gzip;q=0.5", True),
        ("x-gzip", True),
        ("*;q=0", False),
    ],
)
def test_accept_encoding_decides_gzip(header: str | None, expected: bool) -> None:
    assert accepts_encoding(header) is expected


def test_a_json_ld_dump_holds_the_union_without_graph_names() -> None:
    store = EmbeddedStore(None)
    s, p, o = NamedNode("urn:x:s"), NamedNode("urn:x:p"), NamedNode("urn:x:o")
    store.update(f"INSERT DATA {{ GRAPH <urn:x:g> {{ {s} {p} {o} }} }}")
    out = BytesIO()
    write_dump(store, out, "jsonld")
    assert list(parse(out.getvalue(), format=RdfFormat.JSON_LD)) == [Quad(s, p, o, DefaultGraph())]
