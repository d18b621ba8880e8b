"""Reading facts documents: JSON Lines (one document per line), a JSON file (one document or a
list) or standard input, each document yielded as a :class:`SourceRecord` with where it came
from (source and line), as it is read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from diplograph.loader.errors import FactsError, Location
from diplograph.loader.facts.parse import SourceRecord, parse_document

__all__ = ["decode_json", "read_documents", "read_path"]


def read_documents(
    stream: IO[str], *, source: str = "<stdin>", unknown: str = "error"
) -> Iterator[SourceRecord]:
    """Read facts documents from JSON Lines, a JSON document, or a JSON list of documents.

    The format is detected from the first non-blank character: ``[`` is a list, ``{`` followed
    by more than one line of JSON is one pretty-printed document, otherwise JSON Lines. Each
    document is yielded as it is read, so a large JSON Lines file streams.
    """
    first = ""
    buffered: list[str] = []
    for raw_line in stream:
        buffered.append(raw_line)
        if raw_line.strip():
            first = raw_line.lstrip()[0]
            break
    if not first:
        return
    if first == "[" or (first == "{" and not _is_complete_json(buffered[-1])):
        text = "".join(buffered) + stream.read()
        start_line = len(buffered) - len([x for x in buffered if x.strip()]) + 1
        try:
            value = decode_json(text)
        except json.JSONDecodeError as exc:
            yield _json_error(source, exc.lineno, text, f"not valid JSON: {exc.msg}")
            return
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            yield parse_document(
                item,
                source=source + (f"[{index}]" if isinstance(value, list) else ""),
                line=start_line,
                unknown=unknown,
            )
        return
    line_no = 0
    for line_no, raw_line in enumerate(_chain(buffered, stream), start=1):
        if not raw_line.strip():
            continue
        try:
            value = decode_json(raw_line)
        except json.JSONDecodeError as exc:
            yield _json_error(source, line_no, raw_line, f"not valid JSON: {exc.msg}")
            continue
        yield parse_document(value, source=source, line=line_no, unknown=unknown)


def read_path(path: Path | str, *, unknown: str = "error") -> Iterator[SourceRecord]:
    """Read facts documents from a file (``-`` for standard input); see :func:`read_documents`."""
    if str(path) == "-":
        yield from read_documents(sys.stdin, source="<stdin>", unknown=unknown)
        return
    with open(path, encoding="utf-8", errors="strict") as stream:
        try:
            yield from read_documents(stream, source=str(path), unknown=unknown)
        except UnicodeDecodeError as exc:
            yield _json_error(str(path), None, None, f"not UTF-8 text: {exc.reason}")


def _chain(first: list[str], rest: IO[str]) -> Iterator[str]:
    yield from first
    yield from rest


def decode_json(text: str) -> Any:
    """``json.loads`` that fails only with :class:`json.JSONDecodeError`.

    The standard decoder also raises RecursionError for nesting deeper than the interpreter's
    recursion limit and ValueError for an integer longer than ``sys.get_int_max_str_digits()``;
    both are bad input like a syntax error, and must be reported as one, not crash the reader.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    except ValueError:
        raise json.JSONDecodeError(
            f"a number with more than {sys.get_int_max_str_digits()} digits", text, 0
        ) from None


def _is_complete_json(line: str) -> bool:
    try:
        decode_json(line)
    except json.JSONDecodeError:
        return False
    return True


def _json_error(source: str, line: int | None, raw: Any, rule: str) -> SourceRecord:
    error = FactsError(rule, Location(source=source, line=line))
    return SourceRecord(source, line or 0, raw, None, error)
