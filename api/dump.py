"""The whole store (or one named graph) as a dump at ``GET /dump``, streamed.

The dump is written by :func:`diplograph.loader.dump.write_dump` on a thread of its own and
handed to the response chunk by chunk (:class:`DumpStream`), so memory stays bounded however big
the store is. The format is negotiated (TriG by default); ``compress=gzip`` gives a ``.gz``
file, and without it ``Accept-Encoding: gzip`` compresses in transit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from typing import IO, Annotated, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pyoxigraph import NamedNode

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.formats import Format
from diplograph.api.negotiation import choose_format
from diplograph.api.store_reads import in_thread, select
from diplograph.loader.errors import (
    DiplographError,
    NotFoundError,
    StoreError,
    UnsupportedFormatError,
)

__all__ = ["DUMP_BUFFER_CHUNKS", "DUMP_CHUNK_BYTES", "DumpStream", "router"]

log = logging.getLogger(__name__)

# No HEAD twin for /dump (unlike the other linked-data routes): answering HEAD would start
# writing a whole dump only to throw it away.
router = APIRouter(tags=["linked data"])

#: Bytes per chunk of a streamed dump, and how many chunks may wait for a slow client.
DUMP_CHUNK_BYTES = 64 * 1024
DUMP_BUFFER_CHUNKS = 8
#: A client that takes no chunk for this long is dropped.
DUMP_STALL_SECONDS = 300.0


class _Stop(Exception):
    """The client went away: stop writing the dump."""


class _ChunkWriter:
    """A binary file-like object that hands fixed-size chunks to ``emit``."""

    def __init__(self, emit: Callable[[bytes], None], size: int = DUMP_CHUNK_BYTES) -> None:
        self._emit = emit
        self._size = size
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= self._size:
            self._emit(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        """Hand over what is left in the buffer."""
        if self._buffer:
            self._emit(bytes(self._buffer))
            self._buffer.clear()


class DumpStream:
    """A dump written on its own thread and handed to the response chunk by chunk.

    The thread blocks when :data:`DUMP_BUFFER_CHUNKS` chunks wait for the client (so memory stays
    bounded) and stops when the client goes away. :meth:`start` waits for the first chunk, so an
    error that happens before any output is answered with its proper status.
    """

    def __init__(self, write: Callable[[IO[bytes]], None]) -> None:
        self._write = write
        self._queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self._slots = threading.Semaphore(DUMP_BUFFER_CHUNKS)
        self._stopped = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._first = b""
        self._ended = False

    def _put(self, item: bytes | BaseException | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone (server shutdown)
            self._stopped.set()

    def _emit(self, chunk: bytes) -> None:
        waited = 0.0
        while not self._slots.acquire(timeout=1.0):
            waited += 1.0
            if self._stopped.is_set() or waited >= DUMP_STALL_SECONDS:
                raise _Stop
        if self._stopped.is_set():
            raise _Stop
        self._put(chunk)

    def _run(self) -> None:
        writer = _ChunkWriter(self._emit)
        try:
            self._write(cast(IO[bytes], writer))
            writer.finish()
        except _Stop:
            return
        except BaseException as exc:  # handed to the response
            exc.__traceback__ = None
            self._put(
                exc if isinstance(exc, DiplographError) else StoreError(f"the dump failed: {exc}")
            )
            return
        self._put(None)

    async def start(self) -> None:
        """Start the writer thread and wait for its first chunk (or its error, raised here)."""
        threading.Thread(target=self._run, name="diplograph-dump", daemon=True).start()
        try:
            first = await self._queue.get()
        except BaseException:  # the request was cancelled: stop the writer
            self._stopped.set()
            raise
        if isinstance(first, BaseException):
            raise first
        if first is None:
            self._ended = True
        else:
            self._first = first
            self._slots.release()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The dump's chunks for the response; closing it early stops the writer."""
        try:
            if self._first:
                yield self._first
            if self._ended:
                return
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    log.warning("dump stopped mid-stream: %s", item)
                    raise item
                self._slots.release()
                yield item
        finally:
            self._stopped.set()


def _wants_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` accepts gzip (by name, or by ``*`` when gzip is not named)."""
    qualities: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 1.0
        if coding:
            qualities[coding.lower()] = q
    for name in ("gzip", "x-gzip", "*"):
        if name in qualities:
            return qualities[name] > 0
    return False


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
    encoding_gzip = compress is None and _wants_gzip(request.headers.get("accept-encoding"))
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
