"""SELECT results written by Oxigraph and pushed to a sink, for the query worker processes.

:func:`diplograph.api.formats.write_solutions` writes SPARQL JSON this way when its ``tick`` is a
:class:`Sink`; the bytes are those of the writer that yields row by row, made a few times faster
(Oxigraph writes the terms; Python only counts the rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pyoxigraph import QueryResultsFormat, QuerySolutions, parse_query_results

__all__ = ["Sink", "pushed_json"]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Sink:
    """A ``tick`` (called once per row) that also takes a result's bytes as they are made.

    Given one, the JSON writer lets Oxigraph write the rows – a few times faster than writing
    them term by term in Python – and hands them to :meth:`push` a block at a time instead of
    yielding them: Oxigraph writes the whole result in one call, which a generator cannot
    interrupt, so the bytes must go somewhere as they come. The query worker processes pass one
    (their pipe takes the bytes). The rows are still ticked one by one, each block's before it is
    pushed (a block: what Oxigraph writes at a time, 8 KiB), so the row cap holds to the row;
    the deadline is seen when the block that passes it arrives.
    """

    def __call__(self) -> None:
        raise NotImplementedError

    def push(self, piece: bytes) -> None:
        """Take the next bytes of the result."""
        raise NotImplementedError


def pushed_json(names: list[str], rows: QuerySolutions, sink: Sink) -> Iterator[bytes]:
    """SPARQL JSON written by Oxigraph and pushed to ``sink``: the head is yielded, the rows are
    pushed (the caller takes both in that order), the end is yielded.

    Oxigraph writes TSV, where a row is a line (TSV escapes line breaks in terms), so the rows of
    each block are counted and ticked exactly; each block is then rewritten as JSON by Oxigraph
    (parsed from the TSV and serialized again) and pushed without its head and end.
    """
    yield ('{"head":{"vars":' + _dumps(names) + '},"results":{"bindings":[').encode()
    blocks = _TsvBlocks(sink)
    rows.serialize(output=blocks, format=QueryResultsFormat.TSV)  # type: ignore[arg-type]
    blocks.finish()
    yield b"]}}"


class _TsvBlocks:
    """The file Oxigraph writes a result's TSV to: each complete line is a row (see
    :func:`pushed_json`)."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._header = b""  # the variables' line, in front of every block
        self._rest = b""  # a row not yet complete
        self._first = True

    def write(self, data: bytes) -> int:
        text = self._rest + bytes(data)
        if not self._header:
            end = text.find(b"\n")
            if end < 0:
                self._rest = text
                return len(data)
            self._header, text = text[: end + 1], text[end + 1 :]
        cut = text.rfind(b"\n") + 1
        self._rest = text[cut:]
        if cut:
            self._rows(text[:cut])
        return len(data)

    def flush(self) -> None:
        """Nothing: blocks go out as Oxigraph hands them over."""

    def finish(self) -> None:
        if self._rest:
            raise ValueError("the TSV of a result ended inside a row")

    def _rows(self, block: bytes) -> None:
        count = block.count(b"\n")
        ticked = 0
        try:
            for _ in range(count):
                self._sink()
                ticked += 1
        except BaseException:
            if ticked:  # the rows before the one refused go out, as the yielding writer's do
                end = 0
                for _ in range(ticked):
                    end = block.index(b"\n", end) + 1
                self._push(block[:end])
            raise
        self._push(block)

    def _push(self, block: bytes) -> None:
        json = parse_query_results(self._header + block, format=QueryResultsFormat.TSV).serialize(
            format=QueryResultsFormat.JSON
        )
        assert json is not None
        start = json.index(b'"bindings":[') + len(b'"bindings":[')
        rows = json[start : len(json) - len(b"]}}")]
        self._sink.push(rows if self._first else b"," + rows)
        self._first = False
