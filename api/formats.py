"""Content negotiation and the streaming writers for query results.

The formats themselves (names, media types, pyoxigraph formats) are one table in
:mod:`diplograph.loader.formats`; its families are re-exported here. Routes call
:func:`negotiate` with a family and then the writers:

* :data:`RESULT_FORMATS` – SELECT and ASK results: SPARQL JSON, XML, CSV, TSV.
* :data:`GRAPH_FORMATS` – CONSTRUCT/DESCRIBE results and graphs: Turtle, N-Triples, RDF/XML,
  JSON-LD.
* :data:`DATASET_FORMATS` – whole datasets (the Graph Store without ``?graph``): TriG, N-Quads.

The first format of a family is the default (for a missing ``Accept`` or ``*/*``). A client may
override ``Accept`` with the ``format`` parameter (a short name such as ``json``, ``csv``,
``turtle``, or a media type).

Writers yield bytes row by row and call ``tick()`` once per solution or triple, so the caller can
enforce a deadline and a row cap while streaming (see :mod:`diplograph.api.execution`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    serialize,
)

from diplograph.api.execution import Tick
from diplograph.api.pushed_results import Sink, pushed_json
from diplograph.loader.errors import UnsupportedFormatError
from diplograph.loader.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS, Format

__all__ = [
    "DATASET_FORMATS",
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
    "Format",
    "MediaRange",
    "Sink",
    "accepts_encoding",
    "negotiate",
    "parse_accept",
    "rdf_format_for_content_type",
    "write_boolean",
    "write_quads",
    "write_solutions",
    "write_triples",
]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


# --- negotiation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRange:
    """One media range of an ``Accept`` header (``text/*;q=0.5``)."""

    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        """0 for ``*/*``, 1 for ``text/*``, 2 for ``text/turtle``."""
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, media_type: str) -> bool:
        """Whether this range covers ``media_type``."""
        kind, _, sub = media_type.partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)


def _header_items(header: str) -> Iterator[tuple[str, float]]:
    """The items of a comma-separated header with quality values (``Accept``,
    ``Accept-Encoding``): each item's value and its ``q``.

    Parameters other than ``q`` are ignored; an unparsable ``q`` counts as 1, and ``q`` is
    clamped to [0, 1].
    """
    for part in header.split(","):
        value, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, number = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(number.strip()), 0.0), 1.0)
                except ValueError:
                    q = 1.0
        yield value, q


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header (``*/*`` when missing or empty).

    Parameters other than ``q`` are ignored; an unparsable ``q`` counts as 1, a malformed range
    is skipped.
    """
    if header is None or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges = []
    for media, q in _header_items(header):
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        ranges.append(MediaRange(kind, sub, q))
    return ranges


def accepts_encoding(header: str | None, coding: str = "gzip") -> bool:
    """Whether an ``Accept-Encoding`` header accepts ``coding`` (gzip: also as ``x-gzip``).

    The coding is accepted when named with a q above 0, or, when not named, when ``*`` is.
    Without the header nothing but the identity is accepted.
    """
    qualities = {value.lower(): q for value, q in _header_items(header or "") if value}
    names = (coding, "x-gzip", "*") if coding == "gzip" else (coding, "*")
    for name in names:
        if name in qualities:
            return qualities[name] > 0
    return False


def _match(fmt: Format, ranges: Sequence[MediaRange]) -> MediaRange | None:
    """The range that decides the client's quality for ``fmt``: the most specific match."""
    best: tuple[int, MediaRange] | None = None
    for media_type in fmt.all_media_types:
        for media_range in ranges:
            if media_range.matches(media_type):
                # An exact match on the canonical type beats one through an alias.
                rank = media_range.specificity * 2 + (media_type == fmt.media_type)
                if best is None or rank > best[0]:
                    best = (rank, media_range)
    return None if best is None else best[1]


def negotiate(
    accept: str | None,
    offered: Sequence[Format],
    *,
    override: str | None = None,
    what: str = "this result",
    prefer_specific: bool = False,
) -> Format:
    """Pick the format of ``offered`` the client prefers.

    ``override`` (the ``format`` parameter) wins over ``Accept``. Among formats of equal
    quality the earlier in ``offered`` wins; with ``prefer_specific`` one named by a specific
    media range wins first (``Accept: text/html, */*`` picks HTML even when it is offered last).
    Raises :class:`UnsupportedFormatError` (406) naming what can be served.

    For the three families the choice is kept per ``Accept`` (the last 512 headers up to 512
    characters): clients send the same few headers again and again.
    """
    family = next((f for f in _FAMILIES if f is offered), None)
    if family is None or len(accept or "") > 512 or len(override or "") > 512:
        return _negotiate(accept, offered, override, what, prefer_specific)
    key = (accept, override, id(family), what, prefer_specific)
    chosen = _chosen.get(key)
    if chosen is None:
        chosen = _negotiate(accept, family, override, what, prefer_specific)
        if len(_chosen) >= 512:
            _chosen.clear()
        _chosen[key] = chosen
    return chosen


_FAMILIES = (RESULT_FORMATS, GRAPH_FORMATS, DATASET_FORMATS)
_chosen: dict[tuple[str | None, str | None, int, str, bool], Format] = {}


def _negotiate(
    accept: str | None,
    offered: Sequence[Format],
    override: str | None,
    what: str,
    prefer_specific: bool,
) -> Format:
    if override:
        for fmt in offered:
            if fmt.matches_name(override):
                return fmt
        raise UnsupportedFormatError(
            f"format={override!r} is not available for {what}; {_available(offered)}"
        )
    ranges = parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, fmt in enumerate(offered):
        media_range = _match(fmt, ranges)
        if media_range is None or media_range.q <= 0:
            continue
        specificity = media_range.specificity if prefer_specific else 0
        score = (media_range.q, specificity, -index)
        if best is None or score > best:
            best, chosen = score, fmt
    if chosen is None:
        raise UnsupportedFormatError(
            f"none of the media types in 'Accept: {accept}' can be produced for {what}; "
            f"{_available(offered)}"
        )
    return chosen


def _available(offered: Sequence[Format]) -> str:
    types = ", ".join(fmt.media_type for fmt in offered)
    names = "|".join(fmt.name for fmt in offered)
    return f"available: {types} (or ?format={names})"


def rdf_format_for_content_type(
    content_type: str | None, accepted: Sequence[Format]
) -> Format | None:
    """The format of ``accepted`` a request body's ``Content-Type`` names, if any."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    for fmt in accepted:
        if media in fmt.all_media_types:
            return fmt
    return None


# --- result writers: SELECT and ASK ------------------------------------------------------------

Term = NamedNode | BlankNode | Literal | Triple


def write_boolean(fmt: Format, value: QueryBoolean | bool) -> bytes:
    """An ASK result in ``fmt`` (CSV and TSV carry ``true``/``false`` alone, as Oxigraph does)."""
    truth = bool(value)
    if fmt.results == QueryResultsFormat.JSON:
        return b'{"head":{},"boolean":%s}' % (b"true" if truth else b"false")
    if fmt.results == QueryResultsFormat.XML:
        return (
            b'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            b"<head></head><boolean>%s</boolean></sparql>\n" % (b"true" if truth else b"false")
        )
    return b"true\n" if truth else b"false\n"


def write_solutions(fmt: Format, solutions: QuerySolutions, tick: Tick) -> Iterator[bytes]:
    """A SELECT result in ``fmt``, one row at a time (see :class:`Sink` for the other way)."""
    names = [v.value for v in solutions.variables]
    if fmt.results == QueryResultsFormat.JSON:
        if isinstance(tick, Sink) and names:
            return pushed_json(names, solutions, tick)
        return _json_solutions(names, solutions, tick)
    if fmt.results == QueryResultsFormat.XML:
        return _xml_solutions(names, solutions, tick)
    if fmt.results == QueryResultsFormat.CSV:
        return _csv_solutions(names, solutions, tick)
    return _tsv_solutions(names, solutions, tick)


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if term.direction is not None:
                out["its:dir"] = term.direction.value
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


#: A JSON string literal (quotes and escapes; non-ASCII kept): the C function ``json`` itself
#: uses with ``ensure_ascii=False``.
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def _json_term_text(term: Term) -> str:
    """:func:`_json_term` as compact JSON text, byte for byte what ``json`` would write, without
    building the object first (a cheap lookup's result is mostly this)."""
    if isinstance(term, NamedNode):
        return '{"type":"uri","value":' + _json_string(term.value) + "}"
    if isinstance(term, BlankNode):
        return '{"type":"bnode","value":' + _json_string(term.value) + "}"
    if isinstance(term, Literal):
        text = '{"type":"literal","value":' + _json_string(term.value)
        if term.language:
            text += ',"xml:lang":' + _json_string(term.language)
            if term.direction is not None:
                text += ',"its:dir":' + _json_string(term.direction.value)
        elif term.datatype.value != XSD_STRING:
            text += ',"datatype":' + _json_string(term.datatype.value)
        return text + "}"
    return _JSON_DUMPS(_json_term(term))


_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json_solutions(names: list[str], rows: QuerySolutions, tick: Tick) -> Iterator[bytes]:
    """SPARQL JSON as Oxigraph writes it (compact, no line breaks), so that both ways of writing
    a result (this and :func:`~diplograph.api.pushed_results.pushed_json`) give the same bytes."""
    dumps = _JSON_DUMPS
    yield ('{"head":{"vars":' + dumps(names) + '},"results":{"bindings":[').encode()
    keys = [dumps(name) + ":" for name in names]
    encoded = _TermText(_json_term_text)

    sep = "{"
    for row in rows:
        tick()
        fields = [
            key + encoded(term) for key, term in zip(keys, row, strict=True) if term is not None
        ]
        yield (sep + ",".join(fields) + "}").encode()
        sep = ",{"
    yield b"]}}"


class _TermText:
    """A term's text in a result format, computed once per term: results repeat their terms
    (the same IRIs and labels row after row), and this halves the cost of writing them."""

    def __init__(self, write: Callable[[Term], str], limit: int = 100_000) -> None:
        self._write = write
        self._limit = limit
        self._seen: dict[Term, str] = {}

    def __call__(self, term: Term) -> str:
        text = self._seen.get(term)
        if text is None:
            text = self._write(term)
            if len(self._seen) < self._limit:
                self._seen[term] = text
        return text


def _xml_term(term: Term) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        attrs = ""
        if term.language:
            attrs = f" xml:lang={quoteattr(term.language)}"
            if term.direction is not None:
                attrs += f" its:dir={quoteattr(term.direction.value)}"
        elif term.datatype.value != XSD_STRING:
            attrs = f" datatype={quoteattr(term.datatype.value)}"
        return f"<literal{attrs}>{xml_escape(term.value)}</literal>"
    return (
        f"<triple><subject>{_xml_term(term.subject)}</subject>"
        f"<predicate>{_xml_term(term.predicate)}</predicate>"
        f"<object>{_xml_term(term.object)}</object></triple>"
    )


def _xml_solutions(names: list[str], rows: QuerySolutions, tick: Tick) -> Iterator[bytes]:
    head = "".join(f"<variable name={quoteattr(n)}/>" for n in names)
    yield (
        '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#" '
        f'xmlns:its="http://www.w3.org/2005/11/its">\n<head>{head}</head>\n<results>\n'
    ).encode()
    opening = [f"<binding name={quoteattr(name)}>" for name in names]
    encoded = _TermText(_xml_term)

    for row in rows:
        tick()
        cells = [
            start + encoded(term) + "</binding>"
            for start, term in zip(opening, row, strict=True)
            if term is not None
        ]
        yield ("<result>" + "".join(cells) + "</result>\n").encode()
    yield b"</results>\n</sparql>\n"


def _csv_field(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode | Literal):
        text = term.value
    elif isinstance(term, BlankNode):
        text = "_:" + term.value
    else:
        text = str(term)
    if any(c in text for c in '",\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_solutions(names: list[str], rows: QuerySolutions, tick: Tick) -> Iterator[bytes]:
    yield (",".join(_csv_field(Literal(n)) for n in names) + "\r\n").encode()
    for row in rows:
        tick()
        yield (",".join(_csv_field(term) for term in row) + "\r\n").encode()


def _tsv_solutions(names: list[str], rows: QuerySolutions, tick: Tick) -> Iterator[bytes]:
    yield ("\t".join("?" + n for n in names) + "\n").encode()
    for row in rows:
        tick()
        # str(term) is the N-Triples/Turtle form the TSV format asks for, with \t and \n escaped.
        yield ("\t".join("" if term is None else str(term) for term in row) + "\n").encode()


# --- graph and dataset writers -----------------------------------------------------------------


def write_triples(
    fmt: Format,
    triples: Iterable[Triple],
    tick: Tick,
    *,
    prefixes: dict[str, str] | None = None,
    batch: int = 2000,
) -> Iterator[bytes]:
    """Triples in ``fmt``, serialized by Oxigraph in batches of ``batch`` triples.

    Each batch is a complete document; the writer keeps the first batch's header (prefixes, the
    ``rdf:RDF`` element, the JSON-LD array) and drops the repeats, so the output is one document.
    """
    assert fmt.rdf is not None
    yield from _batched(fmt.rdf, triples, tick, prefixes or {}, batch)


def write_quads(
    fmt: Format, quads: Iterable[Quad], tick: Tick, *, batch: int = 2000
) -> Iterator[bytes]:
    """Quads in TriG or N-Quads, in batches (each batch is valid on its own, so they concatenate).

    TriG batches repeat a graph's ``GRAPH { }`` block where it spans batches; that is valid TriG.
    """
    assert fmt.rdf is not None
    yield from _batched(fmt.rdf, quads, tick, {}, batch)


def _batched(
    rdf: RdfFormat,
    items: Iterable[Triple] | Iterable[Quad],
    tick: Tick,
    prefixes: dict[str, str],
    size: int,
) -> Iterator[bytes]:
    framing = _Framing(rdf, prefixes)
    pending: list[Triple | Quad] = []
    first = True
    for item in items:
        tick()
        pending.append(item)
        if len(pending) >= size:
            yield framing.body(pending, first)
            pending.clear()
            first = False
    if pending:
        yield framing.body(pending, first)
        first = False
    yield framing.end(first)


class _FramingError(Exception):
    """Oxigraph's output no longer has the shape the batch framing expects (a server bug)."""


_PROBE = Triple(NamedNode("urn:x:s"), NamedNode("urn:x:p"), NamedNode("urn:x:o"))


class _Framing:
    """How to concatenate Oxigraph's serializations of batches into one document."""

    def __init__(self, rdf: RdfFormat, prefixes: dict[str, str]) -> None:
        self.rdf = rdf
        self.prefixes = prefixes
        self.header = b""
        self.footer = b""
        if rdf == RdfFormat.RDF_XML:
            empty = self._serialize([])
            cut = empty.index(b">\n", empty.index(b"<rdf:RDF")) + 2
            self.header, self.footer = empty[:cut], empty[cut:]
        elif rdf == RdfFormat.JSON_LD:
            self.header, self.footer = b"[", b"]"
        elif rdf == RdfFormat.TURTLE and prefixes:
            # Oxigraph writes every given prefix, one per line, in an order of its own.
            self.header = self._serialize([_PROBE]).split(b"\n<", 1)[0] + b"\n"

    def _serialize(self, items: Sequence[Triple | Quad]) -> bytes:
        try:
            out = serialize(items, format=self.rdf, prefixes=self.prefixes or None)  # type: ignore[arg-type]
        # ValueError: e.g. a quoted triple in RDF/XML; OSError: pyoxigraph's JSON-LD writer
        # reports that it cannot write RDF 1.2 triple terms as an I/O error
        except (ValueError, OSError) as exc:
            raise UnsupportedFormatError(
                f"{self.rdf.name} cannot hold this result ({exc}); ask for Turtle or N-Triples"
            ) from None
        assert out is not None
        return out

    def body(self, items: Sequence[Triple | Quad], first: bool) -> bytes:
        out = self._serialize(items)
        if self.rdf == RdfFormat.RDF_XML or self.rdf == RdfFormat.JSON_LD:
            inner = out[len(self.header) : len(out) - len(self.footer)]
            if not (out.startswith(self.header) and out.endswith(self.footer)):
                raise _FramingError(f"unexpected {self.rdf.name} framing from the serializer")
            if self.rdf == RdfFormat.JSON_LD:
                return (self.header if first else b",") + inner
            return (self.header if first else b"") + inner
        if self.rdf == RdfFormat.TURTLE and self.prefixes and not first:
            # Drop the repeated prefix lines (Oxigraph's order of them may vary per call).
            rest = out
            for _ in self.prefixes:
                line, _, rest = rest.partition(b"\n")
                if not line.startswith(b"@prefix "):
                    raise _FramingError("unexpected Turtle prefix block from the serializer")
            return rest
        return out

    def end(self, empty: bool) -> bytes:
        """What closes the document (``empty``: no batch was written)."""
        if self.rdf == RdfFormat.RDF_XML or self.rdf == RdfFormat.JSON_LD:
            return (self.header if empty else b"") + self.footer
        if self.rdf == RdfFormat.TURTLE and empty:
            return self.header
        return b""
