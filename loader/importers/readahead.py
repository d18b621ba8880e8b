"""Converting an import's rows in a process of its own, a little ahead of the load.

An import does all a load does (parse each facts document, map, validate, commit) plus the
conversion of dataset rows into facts documents, which a load of the same documents does not
pay for: 0.7 ms a document, measured on the 10k-row GDELT file. That conversion needs nothing
from the store, so :func:`read_ahead` runs it in a child process, on another core, while the
load works on the documents converted before.

What crosses the pipe is each document as the plain values the converter built (pickled
dicts: fast to unpickle), and the load process parses them into records as a load of a JSON
Lines file does. Sending the parsed records instead was measured slower than parsing them
again: unpickling the typed records of 4,097 documents took 3.5 s, parsing their values 1.7 s.

The child sends a chunk of documents at a time and blocks while the pipe is full, so it runs
at most a chunk or two ahead and memory stays flat in the file's size. The child ends with the
load: when the caller stops reading (a strict load stopped at an invalid document, an error, an
interrupt) the child is killed.

The child is started with the *forkserver* method, never forked from the loading process,
whose store holds threads of its own; so, as with any Python multiprocessing, a script that
imports through the Python API with ``read_ahead=True`` needs the
``if __name__ == "__main__":`` guard (docs/importers.md).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from diplograph.loader.errors import InputError
from diplograph.loader.facts import SourceRecord, parse_document
from diplograph.loader.importers.documents import ImportNotes

__all__ = ["READ_AHEAD_MIN_BYTES", "read_ahead", "worth_reading_ahead"]

#: Inputs smaller than this are converted in the loading process: starting the child costs
#: about half a second, more than converting a few thousand rows.
READ_AHEAD_MIN_BYTES = 4 * 1024 * 1024

#: Documents per message from the child.
_CHUNK = 64


def worth_reading_ahead(paths: Sequence[Path | str]) -> bool:
    """Whether ``paths`` are files (not standard input) large enough for :func:`read_ahead`."""
    total = 0
    for path in paths:
        if str(path) == "-":
            return False
        try:
            total += Path(path).stat().st_size
        except OSError:
            return False  # the converter will name the file it cannot read
    return total >= READ_AHEAD_MIN_BYTES


def read_ahead(
    source: str,
    paths: Sequence[Path | str],
    *,
    notes: ImportNotes | None = None,
    on_line: Callable[[int], None] | None = None,
) -> Iterator[SourceRecord]:
    """The records :func:`~diplograph.loader.importers.import_records` gives for ``paths``, with
    the conversion run in a child process; ``notes`` receives what the import left out when the
    last record has been read, ``on_line`` the lines read, a chunk at a time."""
    context = multiprocessing.get_context("forkserver")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_convert,
        args=(sender, source, [str(p) for p in paths]),
        name=f"diplograph-import-{source}",
        daemon=True,
    )
    child.start()
    sender.close()  # the child holds the only writer: its end is our end of file
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                raise InputError(
                    f"the {source} conversion process ended without finishing "
                    f"(exit code {child.exitcode}); run the import again with --no-read-ahead "
                    "to see the error in this process"
                ) from None
            kind = message[0]
            if kind == "records":
                _, items, lines = message
                if on_line is not None and lines:
                    on_line(lines)
                for item in items:
                    if isinstance(item, SourceRecord):
                        yield item  # rejected by the converter: comes whole
                    else:
                        value, where, line = item
                        yield parse_document(value, source=where, line=line)
            elif kind == "end":
                if notes is not None:
                    _merge(notes, message[1])
                return
            else:  # "error": the converter raised; raise it here, where the caller is
                raise message[1]
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()


def _convert(sender: Connection, source: str, paths: list[str]) -> None:
    """The child: convert ``paths`` and send the documents' values, a chunk at a time."""
    from diplograph.loader.importers import import_records

    notes = ImportNotes()
    lines = 0

    def count(n: int) -> None:
        nonlocal lines
        lines += n

    chunk: list[Any] = []
    try:
        for record in import_records(source, paths, notes=notes, on_line=count):
            if record.document is not None and not record.warnings:
                chunk.append((record.raw, record.source, record.line))
            else:
                chunk.append(record)
            if len(chunk) >= _CHUNK:
                sender.send(("records", chunk, lines))
                chunk, lines = [], 0
        sender.send(("records", chunk, lines))
        sender.send(("end", notes))
    except BrokenPipeError:
        pass  # the load stopped reading
    except Exception as exc:
        try:
            sender.send(("error", exc))
        except Exception:
            sender.send(("error", InputError(f"{type(exc).__name__}: {exc}")))
    finally:
        sender.close()


def _merge(notes: ImportNotes, child: ImportNotes) -> None:
    notes.rows += child.rows
    notes.events += child.events
    notes.documents += child.documents
    notes.counts.update(child.counts)
    for reason, where in child.first.items():
        notes.first.setdefault(reason, where)
