"""The competency questions about coherence across documents (ontology/queries/coherence/)
answer as expected over the story plus the example documents of tests/data/conflicts/.

They ask what loader/conflicts/ checks, in plain SPARQL: which documents disagree, with their
confidence. Expected answers are in tests/data/competency/<name>.json, laid out as for the
other competency questions (tests/test_competency.py); these questions have no answer over the
story alone, which holds no conflict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA, ROOT, load_story
from tests.test_competency import answer

QUERIES = sorted((ROOT / "ontology" / "queries" / "coherence").glob("*.rq"))
EXPECTED = DATA / "competency"


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    the_store = EmbeddedStore(None)
    load_story(the_store, *sorted((DATA / "conflicts").glob("*.json")))
    yield the_store
    the_store.close()


def test_there_are_coherence_questions() -> None:
    assert len(QUERIES) >= 3


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_coherence_question_answers_as_expected(query: Path, store: EmbeddedStore) -> None:
    text = query.read_text(encoding="utf-8")
    assert text.startswith("# title: ")
    assert "\n# question: " in text
    assert "ORDER BY" in text
    expected = json.loads((EXPECTED / f"{query.stem}.json").read_text(encoding="utf-8"))
    got = answer(store, query)
    assert got, "every coherence question has an answer over the examples"
    assert got == expected


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_coherence_question_has_no_answer_over_the_story_alone(
    query: Path, story_store: EmbeddedStore
) -> None:
    assert answer(story_store, query) == []
