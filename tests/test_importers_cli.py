"""``diplograph import``, driven in-process: the load, the rejects file, --dry-run and the exit
codes, the same as ``diplograph load``'s."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from diplograph.cli import main
from diplograph.loader.steps import CONFLICTS_OF_RUN, IDENTITIES
from tests.conftest import DATA
from tests.support.consistency import canonical_dataset, dataset_difference

IMPORTERS = DATA / "importers"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_import_loads_and_exits_1_when_rows_were_rejected(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    result = run(
        "import", "gdelt", IMPORTERS / "gdelt-events.tsv", "--store-path", tmp_path / "store",
        "--rejects", rejects, "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "loaded 5 document(s)" in result.output
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["violations"][0]["field"]) for r in lines] == [
        (12, "SQLDATE (column 2)"),
        (13, "EventCode (column 27)"),
        (14, None),  # a row of 60 columns: no column to name
    ]
    assert lines[0]["record_data"]["SQLDATE"] == "20231345"  # the row, to fix and import again


def test_allow_rejects_exits_0_and_the_store_answers_queries(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run(
        "import", "acled", IMPORTERS / "acled-events.csv", "--store-path", store,
        "--allow-rejects", "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    query = run(
        "query", "--store-path", store, "--format", "json",
        "SELECT (COUNT(?m) AS ?n) WHERE { ?m a dip:Militia }",
    )  # fmt: skip
    assert query.exit_code == 0, query.output
    bindings = json.loads(query.stdout)["results"]["bindings"]
    assert bindings[0]["n"]["value"] == "2"  # Fulani Ethnic Militia, Rapid Support Forces


def test_dry_run_writes_json_lines_documents_and_loads_nothing(tmp_path: Path) -> None:
    out = tmp_path / "docs.jsonl"
    result = run(
        "import", "polecat", IMPORTERS / "polecat-events.tsv", "--dry-run", "-o", out,
        "--allow-rejects", "--no-progress", "--store-path", tmp_path / "store",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["document"]["id"] for d in docs][:2] == [
        "polecat-20231014-0001",
        "polecat-20231014-0002",
    ]
    assert not (tmp_path / "store").exists()
    load = run("load", out, "--store-path", tmp_path / "store", "--no-progress")
    assert load.exit_code == 0, load.output


def test_json_report_counts_rows_events_documents_and_what_was_left_out(tmp_path: Path) -> None:
    result = run(
        "import", "gdelt", IMPORTERS / "gdelt-events.tsv", "--store-path", tmp_path / "store",
        "--format", "json", "--allow-rejects", "--no-progress",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["import"]["rows"] == 16
    assert report["import"]["documents"] == report["documents"]["loaded"] == 5
    assert report["documents"]["rejected"] == 3
    assert not any("dip:Event" in reason for reason in report["import"]["left_out"])


def test_a_file_of_another_format_names_the_missing_columns(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["import", "acled", str(IMPORTERS / "polecat-events.tsv"), "--store-path",
         str(tmp_path / "s"), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "the header has no column 'event_id_cnty'" in result.output


def test_the_progress_bar_counts_lines_and_the_report_follows(tmp_path: Path) -> None:
    result = run(
        "import", "polecat", IMPORTERS / "polecat-events.tsv", "--store-path", tmp_path / "s",
        "--progress", "--allow-rejects",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "lines" in result.stderr and "loaded 6 document(s)" in result.stdout


def test_the_import_progress_says_the_steps_outside_its_lines_and_their_times(
    tmp_path: Path,
) -> None:
    result = run(
        "import", "polecat", IMPORTERS / "polecat-events.tsv", "--store-path", tmp_path / "s",
        "--progress", "--allow-rejects",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    steps = re.findall(r"^(.*)… \d+\.\d s$", result.stderr, re.MULTILINE)
    assert steps == [IDENTITIES, CONFLICTS_OF_RUN]
    assert result.stderr.index(IDENTITIES) < result.stderr.index("lines")
    assert result.stderr.index("lines") < result.stderr.index(CONFLICTS_OF_RUN)


def test_read_ahead_loads_the_same_store_and_report_as_converting_in_process(
    tmp_path: Path,
) -> None:
    outputs = {}
    for flag in ("--read-ahead", "--no-read-ahead"):
        store = tmp_path / flag
        result = run(
            "import", "gdelt", IMPORTERS / "gdelt-events.tsv", "--store-path", store,
            "--format", "json", "--allow-rejects", "--no-progress", flag,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        outputs[flag] = (report["documents"], report["import"], canonical_dataset(store))
    ahead, here = outputs["--read-ahead"], outputs["--no-read-ahead"]
    assert ahead[:2] == here[:2]
    assert set(ahead[2]) == set(here[2]), dataset_difference(ahead[2], here[2])


def test_read_ahead_refuses_standard_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["import", "gdelt", "-", "--read-ahead", "--store-path", str(tmp_path / "s")],
        input="",
    )
    assert result.exit_code == 2
    assert "--read-ahead needs files" in result.output
