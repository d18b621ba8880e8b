"""The bench job's generated GDELT rows (bench/importers.py): same seed, same bytes, and every
row is a row the importer accepts, so the measured rate is the rate of good input."""

from __future__ import annotations

import time
from pathlib import Path

from bench.importers import _deadline, generate_gdelt, table
from diplograph.loader.importers import ImportNotes, import_records


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a = generate_gdelt(300, 7, tmp_path / "a.tsv").read_bytes()
    b = generate_gdelt(300, 7, tmp_path / "b.tsv").read_bytes()
    assert a == b and a != generate_gdelt(300, 8, tmp_path / "c.tsv").read_bytes()
    assert a.count(b"\n") == 300


def test_every_generated_row_is_accepted_and_articles_group_rows(tmp_path: Path) -> None:
    path = generate_gdelt(500, 1, tmp_path / "rows.tsv")
    notes = ImportNotes()
    records = list(import_records("gdelt", [path], notes=notes))
    assert [r.error for r in records if r.error is not None] == []
    assert notes.rows == 500 and len(records) == notes.documents
    assert notes.events > notes.documents  # articles of several events


def test_the_table_gives_rows_and_documents_per_second() -> None:
    results = {
        "rows": 1000,
        "steps": [
            {"step": "import", "seconds": 10.0, "documents": 400, "peak_mb": 300},
            {"step": "convert", "seconds": 0.5, "documents": 400, "peak_mb": 90},
            {"step": "load", "seconds": 9.0, "documents": 400, "peak_mb": 310},
        ],
    }
    rows = table(results).splitlines()
    assert rows[2].split(" | ")[3:5] == ["100", "40.0"]
    assert rows[4].split(" | ")[3:5] == ["–", "44.4"]


def test_until_is_the_next_such_time_of_day_utc() -> None:
    now = time.time()
    for hh_mm in ("00:00", "12:30", time.strftime("%H:%M", time.gmtime(now + 120))):
        deadline = _deadline(hh_mm)
        assert now < deadline <= now + 86400
        assert time.strftime("%H:%M", time.gmtime(deadline)) == hh_mm
