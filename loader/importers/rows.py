"""Rows of an event dataset's export: reading them with file and line, rejecting one alone.

A :class:`Row` is one record of a delimited file, with the file, the line it starts on and its
values by column name. A row that breaks a rule (wrong column count, a bad date, an unknown code)
raises :class:`RowError`, which names the file, line, column and rule; :func:`rejected` turns it
into a :class:`~diplograph.loader.facts.SourceRecord` that the load path rejects alone, with the
row in the rejects file, while the rest of the file loads.

Reading streams: one row at a time, so memory stays flat in the file's size.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from diplograph.loader.errors import FactsError, InputError, Location
from diplograph.loader.facts import SourceRecord, parse_document
from diplograph.loader.importers.documents import ImportNotes

__all__ = [
    "Row",
    "RowError",
    "parse_date",
    "read_delimited",
    "read_tabular",
    "rejected",
]

# Fields can be long (ACLED notes); the csv module's default limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Row:
    """One record of an export file: where it is and its values by column name."""

    source: str
    line: int
    values: dict[str, str]
    #: the columns in file order (their 1-based position names a column in errors)
    columns: tuple[str, ...]

    def get(self, column: str) -> str:
        """The value of ``column``, stripped; ``""`` when the column is absent or empty."""
        return self.values.get(column, "").strip()

    def error(self, column: str | None, rule: str, record: str | None = None) -> RowError:
        """A :class:`RowError` for this row, at ``column`` (by name) when given."""
        return RowError(self.source, self.line, column, self.position(column), rule, record)

    def position(self, column: str | None) -> int | None:
        """The 1-based position of ``column`` in the file, or None."""
        if column is None or column not in self.columns:
            return None
        return self.columns.index(column) + 1


class RowError(Exception):
    """A row that breaks a rule: names the file, line, column (name and position) and rule."""

    def __init__(
        self,
        source: str,
        line: int,
        column: str | None,
        position: int | None,
        rule: str,
        record: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.position = position
        self.rule = rule
        self.record = record
        super().__init__(str(self.location) + f": {rule}")

    @property
    def field(self) -> str | None:
        """The column as the report names it: ``EventCode (column 27)``."""
        if self.column is None:
            return None
        return f"{self.column} (column {self.position})" if self.position else self.column

    @property
    def location(self) -> Location:
        return Location(source=self.source, line=self.line, record=self.record, field=self.field)


def rejected(error: RowError, raw: object) -> SourceRecord:
    """The record the load path rejects for this row: its error, and the row as raw data."""
    facts_error = FactsError(error.rule, error.location)
    return SourceRecord(error.source, error.line, raw, None, facts_error)


def _open(path: Path | str) -> tuple[str, IO[str]]:
    """The source name and a text stream of ``path``: ``-`` is standard input, a ``.gz`` file
    is read through gzip, a ``.zip`` file of one member (as GDELT publishes its exports) through
    that member."""
    if str(path) == "-":
        return "<stdin>", sys.stdin
    if not Path(path).exists():
        raise InputError(f"{path}: no such file")
    # surrogateescape: a byte that is not UTF-8 is kept, and the row that holds it is rejected
    # alone (see _check_text), not the whole file
    encoding, errors = "utf-8", "surrogateescape"
    name = str(path)
    if name.endswith(".gz"):
        return name, gzip.open(path, "rt", encoding=encoding, errors=errors, newline="")
    if name.endswith(".zip"):
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            archive.close()
            raise InputError(
                f"{path}: a zip archive to import must hold one file, it holds {len(members)}"
            )
        member = archive.open(members[0])
        stream = io.TextIOWrapper(member, encoding=encoding, errors=errors, newline="")
        return f"{name}:{members[0]}", stream
    return name, open(path, encoding=encoding, errors=errors, newline="")


_SURROGATE = re.compile("[\udc80-\udcff]")


def _check_text(row: Row) -> None:
    for column, value in row.values.items():
        if _SURROGATE.search(value):
            raise row.error(column, "not UTF-8 text (a byte sequence that is not UTF-8)")


def read_tabular(
    path: Path | str,
    columns: Sequence[str],
    *,
    delimiter: str = "\t",
    on_line: Callable[[int], None] | None = None,
) -> Iterator[Row | RowError]:
    """Rows of a headerless, unquoted delimited file whose columns are ``columns`` (GDELT).

    A line with another number of fields is a :class:`RowError` (yielded, not raised), and so
    is a line that is not UTF-8; blank lines are skipped. ``on_line`` is called once per line.
    """
    source, stream = _open(path)
    names = tuple(columns)
    try:
        for number, text in enumerate(stream, start=1):
            if on_line is not None:
                on_line(1)
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            values = text.split(delimiter)
            if len(values) != len(names):
                yield RowError(
                    source,
                    number,
                    None,
                    None,
                    f"expected {len(names)} {_name(delimiter)}-separated columns, found "
                    f"{len(values)}",
                    # the first column is the record's id when it looks like one
                    values[0] if values[0].isdigit() else None,
                )
                continue
            row = Row(source, number, dict(zip(names, values, strict=True)), names)
            if _SURROGATE.search(text):  # one search a line; the column only when one is bad
                try:
                    _check_text(row)
                except RowError as exc:
                    yield exc
                    continue
            yield row
    finally:
        if stream is not sys.stdin:
            stream.close()


def read_delimited(
    path: Path | str,
    *,
    delimiter: str,
    required: Sequence[str],
    on_line: Callable[[int], None] | None = None,
) -> Iterator[Row | RowError]:
    """Rows of a delimited file with a header line (ACLED's CSV, POLECAT's tab-separated
    files), quoted fields allowed. The header must name every column of ``required``; a row
    with more fields than the header is a :class:`RowError`, missing trailing fields are empty.
    """
    source, stream = _open(path)
    try:
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            header = tuple(h.strip().lstrip("\ufeff") for h in next(reader))
        except StopIteration:
            return
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(
                f"{source}:1: the header has no column {', '.join(map(repr, missing))}: is "
                "this the right export format?"
            )
        previous = reader.line_num
        for fields in reader:
            line, previous = previous + 1, reader.line_num
            if on_line is not None:
                on_line(1)
            if not any(f.strip() for f in fields):
                continue
            if len(fields) > len(header):
                yield RowError(
                    source,
                    line,
                    None,
                    None,
                    f"expected at most {len(header)} {_name(delimiter)}-separated columns (as "
                    f"in the header), found {len(fields)}",
                )
                continue
            values = dict(zip(header, fields, strict=False))
            row = Row(source, line, values, header)
            try:
                _check_text(row)
            except RowError as exc:
                yield exc
                continue
            yield row
    except csv.Error as exc:
        yield RowError(source, previous + 1, None, None, f"not valid CSV: {exc}")
    finally:
        if stream is not sys.stdin:
            stream.close()


def _name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon"}.get(delimiter, repr(delimiter))


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d %B %Y", "%d-%B-%Y", "%m/%d/%Y")


def parse_date(
    row: Row, column: str, formats: Sequence[str] = _DATE_FORMATS, record: str | None = None
) -> str:
    """The date in ``column`` as ``YYYY-MM-DD``; a missing or unreal date is a RowError (of
    the record ``record``)."""
    text = row.get(column)
    if not text:
        raise row.error(column, "required date is missing", record)
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise row.error(column, f"{text!r} is not a real date (expected e.g. 2023-10-14)", record)


def one_document_per_row(
    paths: Iterable[Path | str],
    delimiter: str,
    required: Sequence[str],
    document: Callable[[Row, ImportNotes], dict[str, Any] | None],
    notes: ImportNotes,
    on_line: Callable[[int], None] | None,
) -> Iterator[SourceRecord]:
    """The facts records of exports with one event a row (ACLED, POLECAT): each row's
    ``document`` (None for a row whose event is left out, as ``notes`` count), and one
    rejected record per row that breaks a rule."""
    for path in paths:
        for item in read_delimited(path, delimiter=delimiter, required=required, on_line=on_line):
            notes.rows += 1
            if isinstance(item, RowError):
                yield rejected(item, None)
                continue
            try:
                made = document(item, notes)
            except RowError as exc:
                yield rejected(exc, item.values)
                continue
            if made is not None:
                notes.documents += 1
                notes.events += 1
                yield parse_document(made, source=item.source, line=item.line)
