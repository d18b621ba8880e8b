"""Dumps for linked-data consumers: Turtle, TriG, N-Quads, N-Triples and JSON-LD, streamed.

Quads are read from the store and written by pyoxigraph's serializers as they come, so a store
larger than memory still dumps. Triple formats (Turtle, N-Triples, JSON-LD) hold the union of
all named graphs; a triple asserted by several documents may appear once per document, which is
the same RDF graph. Quad formats (TriG, N-Quads) keep each document's named graph.
"""

from __future__ import annotations

import gzip as gzip_module
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pyoxigraph import Triple, serialize

from diplograph.loader.errors import UnsupportedFormatError
from diplograph.loader.formats import DUMP_FORMATS, Format
from diplograph.loader.namespaces import output_prefixes
from diplograph.loader.store import Store

__all__ = ["FORMATS", "DumpFormat", "dump_to_path", "format_for", "format_for_path", "write_dump"]

#: A dump format is a format of the shared table (:mod:`diplograph.loader.formats`).
DumpFormat = Format

#: The dump formats by name, in the order they are offered.
FORMATS: dict[str, Format] = {f.name: f for f in DUMP_FORMATS}


def format_for(name: str) -> DumpFormat:
    """The :class:`DumpFormat` called ``name``; an unknown name raises UnsupportedFormatError."""
    try:
        return FORMATS[name]
    except KeyError:
        choices = ", ".join(FORMATS)
        raise UnsupportedFormatError(
            f"unknown dump format {name!r}; choose one of {choices}"
        ) from None


def format_for_path(path: Path) -> DumpFormat:
    """Guess the format from a file name (``.gz`` is looked through)."""
    suffixes = [s.lstrip(".") for s in path.suffixes if s != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    for fmt in FORMATS.values():
        if ext in fmt.extensions:
            return fmt
    raise UnsupportedFormatError(
        f"cannot tell the dump format from {path.name!r}; use --format with one of "
        + ", ".join(FORMATS)
    )


def write_dump(
    store: Store,
    output: IO[bytes],
    fmt: str,
    *,
    graph: str | None = None,
    gzip: bool = False,
    base_iri: str | None = None,
) -> None:
    """Write the store (or one named graph) to ``output`` in format ``fmt``, streaming.

    ``gzip`` compresses the stream; ``base_iri`` adds the per-kind data prefixes to Turtle/TriG.
    """
    dump_format = format_for(fmt)
    rdf_format = dump_format.rdf
    assert rdf_format is not None  # every dump format is an RDF format
    prefixes = output_prefixes(base_iri)
    sink: IO[bytes] = output
    compressor = None
    if gzip:
        compressor = gzip_module.GzipFile(fileobj=output, mode="wb", mtime=0)
        sink = compressor  # type: ignore[assignment]
    try:
        quads = store.quads(graph)
        if dump_format.quads:
            serialize(quads, sink, rdf_format, prefixes=prefixes)
        else:
            serialize(_triples(q.triple for q in quads), sink, rdf_format, prefixes=prefixes)
    finally:
        if compressor is not None:
            compressor.close()


def _triples(triples: Iterator[Triple]) -> Iterator[Triple]:
    # Consecutive duplicates (the same triple in adjacent graphs) are dropped cheaply; the rest
    # stay, which is still the same RDF graph.
    previous = None
    for triple in triples:
        if triple != previous:
            yield triple
        previous = triple


def dump_to_path(
    store: Store,
    path: Path,
    fmt: str | None = None,
    *,
    graph: str | None = None,
    base_iri: str | None = None,
) -> DumpFormat:
    """Dump to a file; the format comes from ``fmt`` or the file name, gzip when it ends in .gz."""
    dump_format = format_for(fmt) if fmt else format_for_path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as out:
        write_dump(
            store, out, dump_format.name, graph=graph, gzip=path.suffix == ".gz", base_iri=base_iri
        )
    tmp.replace(path)  # a reader never sees a half-written dump under the final name
    return dump_format
