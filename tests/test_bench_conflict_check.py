"""The conflict check bench (bench/conflict_check.py) times each check of a load's nodes and
names its findings by a digest, on a store the documents were loaded into."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.conflict_check import main
from diplograph.graph import open_graph
from tests.test_conflicts import meeting_report


def test_each_check_is_timed_with_the_digest_of_its_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = [
        meeting_report("fifteenth", {"start": "2023-11-15"}),
        meeting_report("twentieth", {"start": "2023-11-20"}),
        meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
    ]
    store = tmp_path / "store"
    with open_graph(store) as graph:
        graph.load(docs)
    lines = tmp_path / "docs.jsonl"
    lines.write_text("".join(json.dumps(doc) + "\n" for doc in docs[:1]))

    assert main(["--store", str(store), "--docs", str(lines), "--repeat", "2"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1 documents, ")
    timed = {line.split(":")[0]: line for line in out[1:]}
    assert list(timed) == [
        "values and fatalities",
        "holders",
        "candidate duplicates",
        "candidate same events",
    ]
    assert "1 findings, 3 values, digest " in timed["candidate same events"]
