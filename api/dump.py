"""The whole store (or one named graph) as a dump at ``GET /dump``, streamed.

The dump is written by :func:`diplograph.loader.dump.write_dump` on a thread of its own and
handed to the response chunk by chunk (:data:`DumpStream`, a
:class:`~diplograph.api.streaming.WriterStream`), so memory stays bounded however big
the store is. The format is negotiated (TriG by default); ``compress=gzip`` gives a ``.gz``
file, and without it ``Accept-Encoding: gzip`` compresses in transit.
"""

from __future__ import annotations

import functools
import re
from typing import IO, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pyoxigraph import NamedNode

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.formats import Format, accepts_encoding
from diplograph.api.negotiation import choose_format
from diplograph.api.store_reads import in_thread, select
from diplograph.api.streaming import WriterStream
from diplograph.loader.errors import NotFoundError, UnsupportedFormatError

__all__ = [
    "DUMP_BUFFER_CHUNKS",
    "DUMP_CHUNK_BYTES",
    "DUMP_STALL_SECONDS",
    "DumpStream",
    "router",
]

# No HEAD twin for /dump (unlike the other linked-data routes): answering HEAD would start
# writing a whole dump only to throw it away.
router = APIRouter(tags=["linked data"])

#: Bytes per chunk of a streamed dump, and how many chunks may wait for a slow client.
DUMP_CHUNK_BYTES = 64 * 1024
DUMP_BUFFER_CHUNKS = 8
#: A client that takes no chunk for this long is dropped.
DUMP_STALL_SECONDS = 300.0


#: A dump written on a thread of its own and streamed (memory stays bounded; a client that goes
#: away stops the writer, one that takes nothing for DUMP_STALL_SECONDS gets an aborted stream).
DumpStream = functools.partial(
    WriterStream,
    what="the dump",
    thread_name="diplograph-dump",
    chunk_bytes=DUMP_CHUNK_BYTES,
    buffer_chunks=DUMP_BUFFER_CHUNKS,
    stall_seconds=DUMP_STALL_SECONDS,
)


DumpFormatParam = Annotated[
    str | None,
    Query(
        alias="format",
        description="turtle, trig, nquads, ntriples or jsonld (default: by Accept, else trig)",
    ),
]


@router.get("/dump", summary="The whole store (or one graph) as a dump, streamed")
async def get_dump(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    format: DumpFormatParam = None,
    graph: Annotated[str | None, Query(description="Dump only this named graph")] = None,
    compress: Annotated[
        str | None,
        Query(description="gzip: a .gz file; none: never compressed; default: Accept-Encoding"),
    ] = None,
) -> Response:
    from diplograph.loader.dump import FORMATS as DUMP_FORMATS
    from diplograph.loader.dump import write_dump

    offered = [
        Format(f.name, f.name, f.media_type, text=False)
        for f in sorted(DUMP_FORMATS.values(), key=lambda f: f.name != "trig")
    ]
    chosen = choose_format(request.headers.get("accept"), offered, override=format, what="a dump")
    dump_format = DUMP_FORMATS[chosen.name]
    if compress not in (None, "gzip", "none"):
        raise UnsupportedFormatError(f"compress={compress!r}: use gzip or none")
    if graph is not None:
        try:
            NamedNode(graph)
        except ValueError:
            raise NotFoundError(f"graph={graph!r} is not an IRI") from None
        exists = await in_thread(
            settings,
            lambda: bool(
                select(store, f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT 1")
            ),
            "looking up the graph",
        )
        if not exists:
            raise NotFoundError(f"no named graph <{graph}> in the store")
    file_gzip = compress == "gzip"
    encoding_gzip = compress is None and accepts_encoding(request.headers.get("accept-encoding"))
    gzip = file_gzip or encoding_gzip

    def write(output: IO[bytes]) -> None:
        write_dump(
            store, output, dump_format.name, graph=graph, gzip=gzip, base_iri=settings.base_iri
        )

    stream = DumpStream(write)
    await stream.start()
    name = "diplograph"
    if graph is not None:
        name += "-" + (
            re.sub(r"[^A-Za-z0-9._-]+", "-", graph.rstrip("/").rsplit("/", 1)[-1]) or "graph"
        )
    filename = f"{name}.{dump_format.extension}" + (".gz" if file_gzip else "")
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Vary": "Accept, Accept-Encoding",
    }
    media_type = dump_format.media_type
    if file_gzip:
        media_type = "application/gzip"
    elif encoding_gzip:
        headers["Content-Encoding"] = "gzip"
    if dump_format.media_type.startswith("text/") and not file_gzip:
        media_type += "; charset=utf-8"
    return StreamingResponse(stream.chunks(), media_type=media_type, headers=headers)
