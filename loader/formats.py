"""The one table of serialization formats: RDF graphs and datasets, and SPARQL results.

Each :class:`Format` names a format once: its short name (``?format=``, ``--format``), its media
types, its file extensions, its W3C format IRI and the pyoxigraph format that reads and writes
it. Three families, the first format of each being its default:

* :data:`RESULT_FORMATS` – SELECT and ASK results: SPARQL JSON, XML, CSV, TSV.
* :data:`GRAPH_FORMATS` – graphs (CONSTRUCT/DESCRIBE results): Turtle, N-Triples, RDF/XML,
  JSON-LD.
* :data:`DATASET_FORMATS` – datasets with named graphs: TriG, N-Quads.

:data:`DUMP_FORMATS` are the formats a dump can be written in. Content negotiation and the
streaming result writers build on this table in :mod:`diplograph.api.formats`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pyoxigraph import QueryResultsFormat, RdfFormat

__all__ = [
    "DATASET_FORMATS",
    "DUMP_FORMATS",
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
    "Format",
    "format_by_name",
]


@dataclass(frozen=True)
class Format:
    """One format: its names, media types, file extensions and W3C format IRI."""

    name: str  #: the short name accepted by ``?format=`` and ``--format``
    label: str  #: the human name
    media_type: str  #: what the Content-Type says
    aliases: tuple[str, ...] = ()  #: other media types in Accept that select it
    names: tuple[str, ...] = ()  #: other short names for ``?format=``
    iri: str = ""  #: the W3C "Unique URIs for file formats" IRI (service description)
    text: bool = True  #: add ``; charset=utf-8`` to the Content-Type
    results: QueryResultsFormat | None = None
    rdf: RdfFormat | None = None
    extensions: tuple[str, ...] = ()  #: file extensions, the usual one first
    #: it keeps named graphs (TriG, N-Quads); JSON-LD could, but is written as one graph here
    quads: bool = False

    @property
    def content_type(self) -> str:
        """The Content-Type header value (with ``charset=utf-8`` for text formats)."""
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type

    @property
    def all_media_types(self) -> tuple[str, ...]:
        """The canonical media type, then its aliases."""
        return (self.media_type, *self.aliases)

    @property
    def extension(self) -> str:
        """The usual file extension (without the dot); empty when the format has none."""
        return self.extensions[0] if self.extensions else ""

    def matches_name(self, name: str) -> bool:
        """Whether ``name`` (a short name or a media type, any case) selects this format."""
        name = name.strip().lower()
        return name == self.name or name in self.names or name in self.all_media_types


_W3C: Final = "http://www.w3.org/ns/formats/"

RESULT_FORMATS: Final[tuple[Format, ...]] = (
    Format(
        "json",
        "SPARQL JSON",
        "application/sparql-results+json",
        aliases=("application/json",),
        names=("srj",),
        iri=_W3C + "SPARQL_Results_JSON",
        results=QueryResultsFormat.JSON,
        extensions=("srj",),
    ),
    Format(
        "xml",
        "SPARQL XML",
        "application/sparql-results+xml",
        aliases=("application/xml", "text/xml"),
        names=("srx",),
        iri=_W3C + "SPARQL_Results_XML",
        results=QueryResultsFormat.XML,
        extensions=("srx",),
    ),
    Format(
        "csv",
        "CSV",
        "text/csv",
        iri=_W3C + "SPARQL_Results_CSV",
        results=QueryResultsFormat.CSV,
        extensions=("csv",),
    ),
    Format(
        "tsv",
        "TSV",
        "text/tab-separated-values",
        iri=_W3C + "SPARQL_Results_TSV",
        results=QueryResultsFormat.TSV,
        extensions=("tsv",),
    ),
)

GRAPH_FORMATS: Final[tuple[Format, ...]] = (
    Format(
        "turtle",
        "Turtle",
        "text/turtle",
        aliases=("application/x-turtle", "text/n3", "text/rdf+n3", "application/n3"),
        names=("ttl", "n3"),
        iri=_W3C + "Turtle",
        rdf=RdfFormat.TURTLE,
        extensions=("ttl",),
    ),
    Format(
        "ntriples",
        "N-Triples",
        "application/n-triples",
        names=("nt", "n-triples"),
        iri=_W3C + "N-Triples",
        rdf=RdfFormat.N_TRIPLES,
        extensions=("nt",),
    ),
    Format(
        "rdfxml",
        "RDF/XML",
        "application/rdf+xml",
        aliases=("application/xml", "text/xml"),
        names=("xml", "rdf", "rdf+xml"),
        iri=_W3C + "RDF_XML",
        rdf=RdfFormat.RDF_XML,
        extensions=("rdf",),
    ),
    Format(
        "jsonld",
        "JSON-LD",
        "application/ld+json",
        aliases=("application/json",),
        names=("json-ld", "json"),
        iri=_W3C + "JSON-LD",
        text=False,
        rdf=RdfFormat.JSON_LD,
        extensions=("jsonld", "json"),
    ),
)

DATASET_FORMATS: Final[tuple[Format, ...]] = (
    Format(
        "trig",
        "TriG",
        "application/trig",
        iri=_W3C + "TriG",
        rdf=RdfFormat.TRIG,
        extensions=("trig",),
        quads=True,
    ),
    Format(
        "nquads",
        "N-Quads",
        "application/n-quads",
        names=("nq", "n-quads"),
        iri=_W3C + "N-Quads",
        rdf=RdfFormat.N_QUADS,
        extensions=("nq",),
        quads=True,
    ),
)

_RDF_BY_NAME: Final = {f.name: f for f in (*GRAPH_FORMATS, *DATASET_FORMATS)}

#: The formats of a dump, in the order they are listed (``--format``, ``/dump``, VoID).
DUMP_FORMATS: Final[tuple[Format, ...]] = tuple(
    _RDF_BY_NAME[name] for name in ("turtle", "trig", "nquads", "ntriples", "jsonld")
)


def format_by_name(name: str, family: Iterable[Format]) -> Format | None:
    """The format of ``family`` that ``name`` (short name, other name or media type) selects."""
    for fmt in family:
        if fmt.matches_name(name):
            return fmt
    return None
