"""The Python API (diplograph.open, Graph): open, load, query to rows and DataFrames, close;
and the example of docs/python.md runs as written."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import diplograph
from diplograph.cli import main
from diplograph.loader.errors import ConfigError, NotFoundError, StoreLockedError
from tests.conftest import DATA, EXAMPLES, ROOT

STORY = json.loads((EXAMPLES / "story.json").read_text(encoding="utf-8"))
STORY_ID = STORY["document"]["id"]
CALLS = """
SELECT ?a ?b ?date WHERE {
  ?e a dip:PhoneCall ; dip:initiator/rdfs:label ?a ; dip:recipient/rdfs:label ?b ;
     dip:startDate ?date
}"""
DIPLOMATS = "SELECT ?n WHERE { ?p a dip:Diplomat ; rdfs:label ?n } ORDER BY ?n"


def _invalid_story() -> dict[str, Any]:
    """The story with a phone call of one participant (the shapes want two)."""
    doc = json.loads(json.dumps(STORY))
    doc["document"]["id"] = "one-sided"
    call = next(f for f in doc["facts"] if f["type"] == "PhoneCall")
    call["participants"] = call["participants"][:1]
    return doc  # type: ignore[no-any-return]


def test_open_load_query_close_in_memory() -> None:
    with diplograph.open() as g:
        report = g.load(STORY)
        assert (report.documents_loaded, report.documents_rejected) == (1, 0)
        assert g.query(DIPLOMATS) == [{"n": "Antony Blinken"}, {"n": "Wang Yi"}]
        assert g.documents() == [f"https://w3id.org/diplograph/id/doc/{STORY_ID}"]
        assert g.stats()["documents"] == 1


def test_rows_hold_python_values() -> None:
    with diplograph.open() as g:
        g.load([STORY])
        [row] = g.query(CALLS)
        assert row == {"a": "Antony Blinken", "b": "Wang Yi", "date": dt.date(2023, 10, 14)}
        [count] = g.query("SELECT (COUNT(*) AS ?n) (1.5 AS ?d) (true AS ?t) WHERE { ?s a ?c }")
        assert isinstance(count["n"], int) and count["n"] > 0
        assert (count["t"], str(count["d"])) == (True, "1.5")
        [unbound] = g.query("SELECT ?x WHERE { OPTIONAL { ?x a dip:NoSuchClass } }")
        assert unbound == {"x": None}
        assert g.query("SELECT ?p WHERE { ?p a dip:Diplomat } LIMIT 1")[0]["p"].startswith(
            "https://w3id.org/diplograph/id/person/"
        )


def test_ask_and_construct_give_rows_too() -> None:
    with diplograph.open() as g:
        g.load(STORY)
        assert g.query("ASK { ?s a dip:PhoneCall }") == [{"ask": True}]
        triples = g.query("CONSTRUCT WHERE { ?s dip:backs ?o }")
        assert len(triples) == 1
        assert set(triples[0]) == {"subject", "predicate", "object"}


def test_rejections_are_listed_in_the_report() -> None:
    with diplograph.open() as g:
        report = g.load([STORY, _invalid_story()])
        assert (report.documents_loaded, report.documents_rejected) == (1, 1)
        [rejection] = report.rejections
        assert rejection.record == "one-sided"
        assert rejection.violations[0]["message"]
        assert g.documents() == [f"https://w3id.org/diplograph/id/doc/{STORY_ID}"]


def test_a_dry_run_writes_nothing() -> None:
    with diplograph.open() as g:
        report = g.load(STORY, dry_run=True)
        assert report.documents_loaded == 1
        assert g.documents() == []


def test_query_frame_is_a_dataframe_with_a_column_per_variable() -> None:
    with diplograph.open() as g:
        g.load_file(EXAMPLES / "story.json")
        frame = g.query_frame(DIPLOMATS)
        assert list(frame.columns) == ["n"]
        assert frame["n"].tolist() == ["Antony Blinken", "Wang Yi"]
        empty = g.query_frame("SELECT ?a ?b WHERE { ?a dip:noSuchProperty ?b }")
        assert list(empty.columns) == ["a", "b"] and len(empty) == 0


def test_query_frame_without_pandas_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with diplograph.open() as g, pytest.raises(ImportError, match=r"diplograph\[dataframe\]"):
        g.query_frame(DIPLOMATS)


def test_an_embedded_store_persists_and_is_locked_while_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with diplograph.open(path) as g:
        g.load_file(EXAMPLES / "story.json", DATA / "api_b" / "call.json")
        with pytest.raises(StoreLockedError):
            diplograph.open(path)
    with diplograph.open(str(path)) as again:
        assert len(again.documents()) == 2
        assert again.retract(STORY_ID) > 0
        with pytest.raises(NotFoundError):
            again.retract(STORY_ID)


def test_settings_and_overrides() -> None:
    g = diplograph.open(settings=diplograph.Settings(store="memory", batch_size=7))
    assert (g.store.kind, g.settings.batch_size) == ("memory", 7)
    g.close()
    with pytest.raises(TypeError):
        diplograph.open(settings=g.settings, batch_size=3)
    with pytest.raises(ConfigError, match="DIPLOGRAPH_BATCH_SIZE"):
        diplograph.open(batch_size=0)


def test_the_api_answers_as_the_command_does(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with diplograph.open(store) as g:
        g.load_file(EXAMPLES / "story.json")
        rows = g.query(DIPLOMATS)
    result = CliRunner().invoke(
        main, ["query", DIPLOMATS, "--format", "json", "--store-path", str(store)]
    )
    assert result.exit_code == 0, result.output
    bindings = json.loads(result.stdout)["results"]["bindings"]
    assert rows == [{"n": b["n"]["value"]} for b in bindings]


def test_the_example_in_docs_python_md_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert example is not None
    code = example.group(1)
    assert len(code.strip().splitlines()) <= 6  # "in five lines" (and the blank one)
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLES / "story.json", tmp_path / "examples" / "story.json")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/python.md", "exec"), namespace)
    assert namespace["report"].documents_loaded == 1
    calls = namespace["calls"]
    assert calls.to_dict("records") == [
        {"a": "Antony Blinken", "b": "Wang Yi", "date": dt.date(2023, 10, 14)}
    ]
    assert (tmp_path / "data" / "store").is_dir()
