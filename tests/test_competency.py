"""The competency questions (ontology/queries/*.rq) answer as expected over the story.

Each query's expected answer is in tests/data/competency/<name>.json: a list of rows, each a
mapping from variable to the value's lexical form. Rows compare as a list when the query has
ORDER BY, else as a multiset. The story is loaded once per module (``story_store`` in
tests/conftest.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pyoxigraph import QuerySolutions

from diplograph.loader.store import Store
from tests.conftest import DATA, ROOT

QUERIES = sorted((ROOT / "ontology" / "queries").glob("*.rq"))
EXPECTED = DATA / "competency"


def answer(store: Store, query: Path) -> list[dict[str, str]]:
    result = store.query(query.read_text(encoding="utf-8"))
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def test_there_are_at_least_fifteen_competency_questions() -> None:
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_competency_question_has_title_question_and_expected_answer(
    query: Path, story_store: Store
) -> None:
    text = query.read_text(encoding="utf-8")
    assert text.startswith("# title: ")
    assert "\n# question: " in text
    expected = json.loads((EXPECTED / f"{query.stem}.json").read_text(encoding="utf-8"))
    got = answer(story_store, query)
    assert got, "every competency question has an answer over the story"
    if "ORDER BY" in text:
        assert got == expected
    else:
        assert Counter(json.dumps(r, sort_keys=True) for r in got) == Counter(
            json.dumps(r, sort_keys=True) for r in expected
        )
