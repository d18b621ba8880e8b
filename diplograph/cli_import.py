"""``diplograph import gdelt|acled|polecat FILE…``: event datasets through the normal load.

The importer (loader/importers/) turns the export's rows into facts documents; they are
validated and loaded exactly as ``diplograph load`` loads facts files, with the same rejects file
and exit codes. ``--dry-run`` writes the documents as JSON Lines instead, for people to inspect
or edit and load later with ``diplograph load``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from diplograph.cli_options import (
    EXIT_REJECTED,
    allow_bulk_writes,
    bulk_writes_option,
    cluster_option,
    load_workers,
    settings,
    store_options,
    text_or_json,
    workers_option,
)
from diplograph.cli_progress import Progress
from diplograph.graph import Graph
from diplograph.loader.errors import InputError, StoreError
from diplograph.loader.importers import SOURCES, ImportNotes, import_records
from diplograph.loader.importers.readahead import read_ahead, worth_reading_ahead
from diplograph.loader.report import Rejection, rejection_from_error
from diplograph.loader.steps import Steps

__all__ = ["import_"]


def _count_lines(paths: tuple[Path, ...]) -> int:
    total = 0
    for path in paths:
        if str(path) == "-" or not path.exists() or path.suffix in {".gz", ".zip"}:
            return 0  # not known without reading it all
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                total += chunk.count(b"\n")
    return total


class _Rejects:
    """Writes each rejection to the rejects file and, for people, to standard error."""

    def __init__(self, path: Path | None, output_format: str) -> None:
        self.count = 0
        self.output_format = output_format
        # backslashreplace: a rejected row may hold bytes that are not UTF-8
        self.stream: IO[str] | None = (
            open(path, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
            if path is not None
            else None
        )

    def __call__(self, rejection: Rejection) -> None:
        self.count += 1
        if self.stream is not None:
            self.stream.write(json.dumps(rejection.to_dict(with_raw=True), ensure_ascii=False))
            self.stream.write("\n")
        if self.output_format == "text":
            for v in rejection.violations:
                field = f", field {v['field']!r}" if v.get("field") else ""
                click.echo(
                    f"rejected {rejection.source}:{rejection.line}, record {rejection.record!r}"
                    f"{field}: {v['message']}",
                    err=True,
                )

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


@click.command(name="import")
@click.argument("source", type=click.Choice(SOURCES))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write the facts documents (JSON Lines) instead of loading them; rows that break a "
    "rule are still reported.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --dry-run: write the documents to this file (default: standard output).",
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write rejected rows and documents (JSON Lines: source, line, violations) here.",
)
@click.option("--strict", is_flag=True, help="Stop at the first invalid document.")
@text_or_json
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar of the lines read (default: when stderr is a terminal).",
)
@click.option(
    "--allow-rejects",
    is_flag=True,
    help="Exit 0 even when some rows or documents were rejected (they are still reported).",
)
@click.option("--batch-size", type=int, help="Documents identified and committed together.")
@click.option(
    "--read-ahead/--no-read-ahead",
    "read_ahead_rows",
    default=None,
    help="Convert the rows in a second process while the documents load (default: for files "
    "of 4 MiB or more; never for standard input).",
)
@workers_option
@cluster_option
@bulk_writes_option
@store_options
def import_(
    source: str,
    paths: tuple[Path, ...],
    dry_run: bool,
    output: Path | None,
    rejects: Path | None,
    strict: bool,
    output_format: str,
    progress: bool | None,
    allow_rejects: bool,
    batch_size: int | None,
    read_ahead_rows: bool | None,
    workers: int | None,
    cluster: str | None,
    bulk_writes: bool,
    **store_flags: Any,
) -> None:
    """Import GDELT 2.0 events, ACLED or POLECAT files into the store.

    SOURCE is the dataset (gdelt: the tab-separated event export; acled: the CSV export;
    polecat: the tab-separated records), PATHS its files or - for standard input. The rows
    become facts documents that load as `diplograph load` loads facts files; a row that breaks
    a rule (column count, date, unknown code) is rejected alone with its file, line and column.
    Exits 1 when any row or document was rejected.
    """
    if not paths:
        raise InputError(f"give at least one {source} file, or - for standard input")
    if output is not None and not dry_run:
        raise InputError("--output goes with --dry-run (a load writes to the store)")
    on_reject = _Rejects(rejects, output_format)
    store_flags = {**store_flags, **load_workers(workers, cluster)}  # the settings the flags give
    notes = ImportNotes()
    show_bar = sys.stderr.isatty() if progress is None else progress
    if read_ahead_rows is None:
        read_ahead_rows = worth_reading_ahead(paths)
    elif read_ahead_rows and "-" in map(str, paths):
        raise InputError("--read-ahead needs files: standard input is read in this process")
    convert = read_ahead if read_ahead_rows else import_records
    try:
        length = _count_lines(paths) if show_bar else None
        with Progress(show_bar, label="lines", length=length) as shown:
            records = convert(source, paths, notes=notes, on_line=shown.update)
            result = _run(
                records,
                dry_run,
                output,
                strict,
                on_reject,
                batch_size,
                bulk_writes,
                store_flags,
                shown.step,
            )
    finally:
        on_reject.close()
    for line in [*result.get("warnings", []), *notes.lines()]:
        click.echo(f"warning: {line}", err=True)
    result["import"] = {
        "rows": notes.rows,
        "events": notes.events,
        "documents": notes.documents,
        "left_out": dict(notes.counts),
    }
    if output_format == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(
            f"read {notes.rows} row(s): {notes.events} event(s) in {notes.documents} "
            f"document(s); " + str(result["summary"])
        )
        if rejects is not None and on_reject.count:
            click.echo(f"rejected rows and documents written to {rejects}")
    if on_reject.count and not allow_rejects:
        sys.exit(EXIT_REJECTED)


def _run(
    records: Any,
    dry_run: bool,
    output: Path | None,
    strict: bool,
    on_reject: _Rejects,
    batch_size: int | None,
    bulk_writes: bool,
    store_flags: dict[str, Any],
    steps: Steps,
) -> dict[str, Any]:
    if dry_run:
        return _write_documents(records, output, on_reject)
    with Graph(settings(batch_size=batch_size, **store_flags)) as graph:
        allow_bulk_writes(graph.store, bulk_writes)
        try:
            report = graph.load_records(records, strict=strict, on_reject=on_reject, steps=steps)
        except StoreError as exc:
            raise type(exc)(
                f"{exc.message}; the import stopped there: once that is fixed, run the same "
                "command again to import the rest (documents already loaded count as unchanged)"
            ) from None
    out = report.to_dict()
    out["summary"] = report.summary()
    return out


def _write_documents(records: Any, output: Path | None, on_reject: _Rejects) -> dict[str, Any]:
    """--dry-run: each valid document as one JSON line; each rejected one reported."""
    stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    written = rejected = 0
    try:
        for record in records:
            if record.error is not None:
                rejected += 1
                on_reject(rejection_from_error(record, record.error))
                continue
            stream.write(json.dumps(record.raw, ensure_ascii=False) + "\n")
            written += 1
    finally:
        if output:
            stream.close()
    return {
        "dry_run": True,
        "documents": {"written": written, "rejected": rejected},
        "summary": f"wrote {written} document(s), {rejected} rejected",
    }
