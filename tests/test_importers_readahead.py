"""Reading an import ahead in a child process gives exactly what converting in the loading
process gives: the same records in the same order, the same rejections, the same notes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from bench.importers import generate_gdelt
from diplograph.loader.errors import InputError
from diplograph.loader.importers import ImportNotes, import_records, readahead
from diplograph.loader.importers.readahead import read_ahead, worth_reading_ahead

DATA = Path(__file__).parent / "data" / "importers"
FIXTURES = [
    ("gdelt", DATA / "gdelt-events.tsv"),
    ("acled", DATA / "acled-events.csv"),
    ("polecat", DATA / "polecat-events.tsv"),
]


def _summary(records: list) -> list[tuple]:
    return [
        (r.source, r.line, r.document, str(r.error) if r.error else None, r.warnings, r.raw)
        for r in records
    ]


@pytest.mark.parametrize(("source", "path"), FIXTURES, ids=[s for s, _ in FIXTURES])
def test_read_ahead_gives_the_records_and_notes_of_the_import(source: str, path: Path) -> None:
    here_notes, ahead_notes = ImportNotes(), ImportNotes()
    here = list(import_records(source, [path], notes=here_notes))
    ahead = list(read_ahead(source, [path], notes=ahead_notes))
    assert _summary(ahead) == _summary(here)
    assert any(r.error is not None for r in ahead)  # the fixtures' bad rows crossed too
    assert ahead_notes == here_notes


def test_read_ahead_reports_every_line_read() -> None:
    lines: list[int] = []
    list(read_ahead("gdelt", [DATA / "gdelt-events.tsv"], on_line=lines.append))
    assert sum(lines) == len((DATA / "gdelt-events.tsv").read_text().splitlines())


@pytest.mark.timeout(60)
def test_a_load_that_stops_reading_ends_the_child(tmp_path: Path) -> None:
    # Enough rows that the child is still converting, blocked on a full pipe, when the load
    # stops: it has to be ended, not waited for.
    big = generate_gdelt(3000, 1, tmp_path / "big.tsv")
    records = read_ahead("gdelt", [big])
    next(records)
    assert len(multiprocessing.active_children()) == 1
    records.close()
    assert multiprocessing.active_children() == []


def test_a_conversion_error_is_raised_in_the_loading_process(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tsv"
    with pytest.raises(InputError, match=r"missing\.tsv"):
        list(import_records("gdelt", [missing]))
    with pytest.raises(InputError, match=r"missing\.tsv"):
        list(read_ahead("gdelt", [missing]))


def test_only_large_files_are_worth_reading_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = DATA / "gdelt-events.tsv"
    assert not worth_reading_ahead([path])
    assert not worth_reading_ahead(["-"])
    assert not worth_reading_ahead([tmp_path / "missing.tsv"])
    monkeypatch.setattr(readahead, "READ_AHEAD_MIN_BYTES", path.stat().st_size)
    assert worth_reading_ahead([path])
    assert not worth_reading_ahead([path, "-"])
