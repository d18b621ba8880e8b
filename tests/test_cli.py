"""The diplograph command, driven in-process: outputs, files written and exit codes."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pyoxigraph import Dataset, RdfFormat, parse

from diplograph.cli import main
from diplograph.loader.steps import (
    CLAIMS_FILE,
    COMPACTING,
    CONFLICTS_OF_RUN,
    CONFLICTS_OF_STORE,
    IDENTITIES,
    SUMMARY,
)
from tests.conftest import DATA, EXAMPLES
from tests.support.children import WatchedLoad, child_env

FACTS = DATA / "facts"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


def run(*args: str | Path, store: Path | None = None, input: str | None = None) -> Result:
    argv = [str(a) for a in args]
    if store is not None:
        argv += ["--store-path", str(store)]
    return CliRunner().invoke(main, argv, input=input, catch_exceptions=False)


@pytest.fixture
def loaded(store_path: Path) -> Path:
    result = run("load", EXAMPLES / "story.json", "--no-progress", store=store_path)
    assert result.exit_code == 0, result.output
    return store_path


def test_every_command_has_help() -> None:
    for command in main.list_commands(None):  # type: ignore[arg-type]
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_python_dash_m_diplograph_runs_the_command_with_validation_workers(
    store_path: Path,
) -> None:
    # The command as a module, for environments without the script on PATH; its validation
    # workers (forkserver) must start from it as they do from the script.
    command = ["load", "--no-progress", "--workers", "2", "--store-path", str(store_path)]
    result = subprocess.run(
        [sys.executable, "-m", "diplograph", *command, str(EXAMPLES / "story.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "loaded 1 document(s)" in result.stdout


def test_load_reports_a_summary_and_exits_0(store_path: Path) -> None:
    result = run("load", EXAMPLES / "story.json", "--no-progress", store=store_path)
    assert result.exit_code == 0
    assert "loaded 1 document(s)" in result.output
    assert "0 rejected" in result.output


def test_load_with_rejects_exits_1_and_writes_the_rejects_file(
    store_path: Path, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.jsonl"
    result = run(
        "load", FACTS / "three.jsonl", "--rejects", rejects, "--no-progress", store=store_path
    )
    assert result.exit_code == 1
    assert "loaded 2 document(s)" in result.output
    [line] = rejects.read_text().splitlines()
    entry = json.loads(line)
    assert (entry["line"], entry["record"]) == (2, "doc-2")
    assert entry["record_data"]["document"]["id"] == "doc-2"
    assert entry["violations"][0]["message"]
    assert "record 'doc-2'" in result.stderr


def test_a_rejected_record_with_a_lone_surrogate_is_written_to_the_rejects_file_as_its_escape(
    store_path: Path, tmp_path: Path
) -> None:
    story = json.loads((EXAMPLES / "story.json").read_text())
    story["document"]["title"] = "x\ud800"
    facts = tmp_path / "surrogate.jsonl"
    facts.write_text(json.dumps(story) + "\n")  # ASCII JSON: the title is "x\\ud800"
    rejects = tmp_path / "rejects.jsonl"
    result = run("load", facts, "--rejects", rejects, "--no-progress", store=store_path)
    assert result.exit_code == 1
    [entry] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert entry["record_data"]["document"]["title"] == "x\ud800"
    assert entry["violations"][0]["field"] == "document.title"


def test_allow_rejects_exits_0(store_path: Path) -> None:
    result = run(
        "load", FACTS / "three.jsonl", "--allow-rejects", "--no-progress", store=store_path
    )
    assert result.exit_code == 0


def test_load_report_as_json(store_path: Path) -> None:
    result = run(
        "load", FACTS / "three.jsonl", "--format", "json", "--no-progress", store=store_path
    )
    report = json.loads(result.stdout)
    assert report["documents"] == {
        "seen": 3,
        "loaded": 2,
        "unchanged": 0,
        "rejected": 1,
        "remapped": 0,
    }


def said(stderr: str) -> list[str]:
    """The lines of a run's standard error, each step's time (in seconds) written "(s)"."""
    return [re.sub(r"… \d+\.\d s$", "… (s)", line) for line in stderr.splitlines()]


def test_load_with_progress_says_each_step_outside_the_documents_and_its_time(
    store_path: Path,
) -> None:
    result = run("load", EXAMPLES / "story.json", "--progress", store=store_path)
    assert result.exit_code == 0, result.output
    # Not a terminal: the bar is its label alone.
    assert said(result.stderr) == [f"{IDENTITIES}… (s)", "documents", f"{CONFLICTS_OF_RUN}… (s)"]
    assert "loaded 1 document(s)" in result.stdout


def test_a_bulk_load_with_progress_says_how_long_its_end_took(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 2)
    result = run("load", FACTS / "three.jsonl", "--progress", "--allow-rejects", store=store_path)
    assert result.exit_code == 0, result.output
    lines = said(result.stderr)
    ending = [CLAIMS_FILE, SUMMARY, COMPACTING, CONFLICTS_OF_STORE]
    assert lines[lines.index("documents") + 1 :] == [f"{step}… (s)" for step in ending]


def on_a_terminal(*args: object) -> str:
    """What ``diplograph load --progress ARGS…`` wrote to its terminal (stderr on a pty), once
    it exited with 0."""
    load = WatchedLoad([str(a) for a in args], child_env())
    try:
        assert load.wait(120) == 0, load.text()
    finally:
        load.close()
    return load.text()


def test_on_a_terminal_the_bar_ends_its_line_before_the_steps_that_end_the_run(
    store_path: Path,
) -> None:
    text = on_a_terminal(FACTS / "three.jsonl", "--allow-rejects", "--store-path", store_path)
    bar = text.rindex("3/3")
    assert text.index(IDENTITIES) < text.index("documents") < bar
    assert re.match(r"[^\n]*\n" + re.escape(CONFLICTS_OF_RUN) + r"… \d+\.\d s", text[bar:])


def test_on_a_terminal_a_file_of_unknown_length_counts_its_documents_without_a_total(
    store_path: Path,
) -> None:
    # A pretty-printed JSON document is not counted before the load (loader/stats.py).
    text = on_a_terminal(EXAMPLES / "story.json", "--store-path", store_path)
    assert re.search(r"documents +\[[^\]]*\] +1(?![/\d])", text), text
    assert "/0" not in text


def test_load_without_progress_says_no_step(store_path: Path) -> None:
    result = run("load", EXAMPLES / "story.json", "--no-progress", store=store_path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_load_from_stdin(store_path: Path) -> None:
    text = (FACTS / "minimal.json").read_text()
    result = run("load", "-", "--no-progress", store=store_path, input=text)
    assert result.exit_code == 0, result.output
    assert "loaded 1 document(s)" in result.output


def test_a_missing_file_is_a_usage_error(store_path: Path) -> None:
    result = run("load", "no-such-file.jsonl", "--no-progress", store=store_path)
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_validate_writes_nothing(store_path: Path) -> None:
    result = run("validate", FACTS / "three.jsonl", "--no-progress", store=store_path)
    assert result.exit_code == 1
    assert "would load 2 document(s)" in result.output
    stats = json.loads(run("stats", "--format", "json", store=store_path).stdout)
    assert stats["triples"] == 0


def test_query_prints_a_table_by_default(loaded: Path) -> None:
    result = run(
        "query",
        "SELECT ?n WHERE { ?p a dip:Diplomat ; rdfs:label ?n } ORDER BY ?n",
        store=loaded,
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2:4] == ["Antony Blinken", "Wang Yi"]
    assert "(2 rows)" in result.stdout


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [("json", '"bindings"'), ("csv", "n\n"), ("tsv", "?n\n"), ("xml", "<sparql")],
)
def test_query_result_formats(loaded: Path, fmt: str, marker: str) -> None:
    result = run(
        "query",
        "SELECT ?n WHERE { ?p a dip:Diplomat ; rdfs:label ?n }",
        "--format",
        fmt,
        store=loaded,
    )
    assert result.exit_code == 0
    assert marker in result.stdout


def test_construct_prints_turtle(loaded: Path) -> None:
    result = run("query", "CONSTRUCT WHERE { ?s dip:backs ?o }", store=loaded)
    assert result.exit_code == 0
    graph = list(parse(result.stdout_bytes, format=RdfFormat.TURTLE))
    assert len(graph) == 1


def test_a_malformed_query_exits_2_with_the_parser_message(loaded: Path) -> None:
    result = run("query", "SELECT ?x WHERE { ?x ", store=loaded)
    assert result.exit_code == 2
    assert "malformed SPARQL query" in result.stderr


@pytest.mark.parametrize("name", ["dump.nq", "dump.trig"])
def test_quad_dumps_round_trip_to_the_same_dataset(loaded: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert run("dump", path, store=loaded).exit_code == 0
    reference = tmp_path / "reference.nq"
    run("dump", reference, store=loaded)
    fmt = RdfFormat.N_QUADS if name.endswith(".nq") else RdfFormat.TRIG
    assert Dataset(parse(path=str(path), format=fmt)) == Dataset(
        parse(path=str(reference), format=RdfFormat.N_QUADS)
    )


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("dump.ttl", RdfFormat.TURTLE),
        ("dump.nt", RdfFormat.N_TRIPLES),
        ("dump.jsonld", RdfFormat.JSON_LD),
        ("dump.ttl.gz", RdfFormat.TURTLE),
    ],
)
def test_triple_dumps_hold_the_union_graph(
    loaded: Path, tmp_path: Path, name: str, fmt: RdfFormat
) -> None:
    path = tmp_path / name
    assert run("dump", path, store=loaded).exit_code == 0
    data = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    triples = {q.triple for q in parse(data, format=fmt)}
    reference = tmp_path / "reference.nq"
    run("dump", reference, store=loaded)
    assert triples == {q.triple for q in parse(path=str(reference), format=RdfFormat.N_QUADS)}


STORY_ID = "bloomberg-2023-10-14-blinken-wang-call"
STORY_GRAPH = f"https://w3id.org/diplograph/id/doc/{STORY_ID}"


@pytest.mark.parametrize("graph", [STORY_ID, STORY_GRAPH])
def test_dump_of_one_graph_by_its_document_id_or_its_iri(
    loaded: Path, tmp_path: Path, graph: str
) -> None:
    path = tmp_path / "one.nq"
    result = run("dump", path, "--graph", graph, store=loaded)
    assert result.exit_code == 0, result.output
    quads = list(parse(path=str(path), format=RdfFormat.N_QUADS))
    assert len(quads) > 700
    assert {q.graph_name.value for q in quads} == {STORY_GRAPH}  # type: ignore[union-attr]


@pytest.mark.parametrize("graph", ["https://example.org/no-such-graph", "no-such-document"])
@pytest.mark.parametrize("output", ["out.nq", "-"])
def test_dump_of_a_graph_the_store_lacks_exits_2_and_writes_nothing(
    loaded: Path, tmp_path: Path, graph: str, output: str
) -> None:
    target = tmp_path / "dumps"
    target.mkdir()
    result = run(
        "dump", output if output == "-" else target / output, "--graph", graph, store=loaded
    )
    assert result.exit_code == 2
    assert graph in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert list(target.iterdir()) == []


def test_schema_prints_the_json_schema() -> None:
    result = run("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "diplograph facts document"


def test_stats_counts_documents_and_classes(loaded: Path) -> None:
    stats = json.loads(run("stats", "--format", "json", store=loaded).stdout)
    assert stats["documents"] == 1
    assert stats["classes"]["dip:PhoneCall"] == 1
    assert stats["classes"]["dip:Event"] > 10


def test_retract_removes_a_document(loaded: Path) -> None:
    result = run("retract", "bloomberg-2023-10-14-blinken-wang-call", store=loaded)
    assert result.exit_code == 0
    assert json.loads(run("stats", "--format", "json", store=loaded).stdout)["documents"] == 0
    again = run("retract", "bloomberg-2023-10-14-blinken-wang-call", store=loaded)
    assert again.exit_code == 2


def test_backup_and_restore_bring_back_the_data(loaded: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    assert run("backup", backup, store=loaded).exit_code == 0
    run("retract", "bloomberg-2023-10-14-blinken-wang-call", store=loaded)
    refused = run("restore", backup, store=loaded)
    assert refused.exit_code == 2
    assert run("restore", backup, "--force", store=loaded).exit_code == 0
    assert json.loads(run("stats", "--format", "json", store=loaded).stdout)["documents"] == 1


def test_an_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLOGRAPH_BATCH_SIZE", "0")
    result = run("load", EXAMPLES / "story.json", "--no-progress")
    assert result.exit_code == 2
    assert "DIPLOGRAPH_BATCH_SIZE" in result.stderr


@pytest.mark.external
@pytest.mark.parametrize(
    ("name", "syntax"),
    [("dump.ttl", "turtle"), ("dump.nt", "ntriples"), ("dump.nq", "nquads"), ("dump.trig", "trig")],
)
def test_dumps_parse_with_an_independent_parser(
    loaded: Path, tmp_path: Path, name: str, syntax: str
) -> None:
    import subprocess

    from tests.support.external import require_program

    rapper = require_program("rapper")
    path = tmp_path / name
    assert run("dump", path, store=loaded).exit_code == 0
    counted = subprocess.run(
        [rapper, "-i", syntax, "-c", str(path)], capture_output=True, text=True, check=False
    )
    assert counted.returncode == 0, counted.stderr
    # rapper counts the statements as written; both parsers must read the same number
    written = len(list(parse(path=str(path), format=_FORMATS[syntax])))
    assert written > 700
    assert f"returned {written} " in counted.stderr
    assert "error" not in counted.stderr.lower()


_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
}
