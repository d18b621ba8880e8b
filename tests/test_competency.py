"""The competency questions (ontology/queries/*.rq) answer as expected over the story.

Each query's expected answer is in tests/data/competency/<name>.json: a list of rows, each a
mapping from variable to the value's lexical form. Rows compare as a list when the query has
ORDER BY, else as a multiset. The story is loaded once per module (``story_store`` in
tests/conftest.py). A question that needs more than the story names the facts files it is asked
over besides it in ``# data: <path under tests/data/competency/>`` header lines (a question about
posts over time needs a document that dates a holding); each such set is loaded once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import QuerySolutions

from diplograph.loader.store import Store
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA, ROOT, load_story

QUERIES = sorted((ROOT / "ontology" / "queries").glob("*.rq"))
EXPECTED = DATA / "competency"
_DATA_HEADER = re.compile(r"^# data: (.+)$", re.MULTILINE)


def answer(store: Store, query: Path) -> list[dict[str, str]]:
    result = store.query(query.read_text(encoding="utf-8"))
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def data_files(query: Path) -> tuple[Path, ...]:
    """The facts files a question is asked over besides the story (its ``# data:`` lines)."""
    text = query.read_text(encoding="utf-8")
    return tuple(EXPECTED / name.strip() for name in _DATA_HEADER.findall(text))


@pytest.fixture(scope="module")
def stores(story_store: Store) -> Iterator[dict[tuple[Path, ...], Store]]:
    """The store of the story alone, and one per set of extra files, made when first asked."""
    made: dict[tuple[Path, ...], Store] = {(): story_store}
    yield made
    for files, store in made.items():
        if files:
            store.close()


def store_for(stores: dict[tuple[Path, ...], Store], files: tuple[Path, ...]) -> Store:
    if files not in stores:
        store = EmbeddedStore(None)
        load_story(store, *files)
        stores[files] = store
    return stores[files]


def test_there_are_at_least_fifteen_competency_questions() -> None:
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_competency_question_has_title_question_and_expected_answer(
    query: Path, stores: dict[tuple[Path, ...], Store]
) -> None:
    text = query.read_text(encoding="utf-8")
    assert text.startswith("# title: ")
    assert "\n# question: " in text
    files = data_files(query)
    assert all(f.is_file() for f in files), files
    expected = json.loads((EXPECTED / f"{query.stem}.json").read_text(encoding="utf-8"))
    got = answer(store_for(stores, files), query)
    assert got, "every competency question has an answer over the story"
    if "ORDER BY" in text:
        assert got == expected
    else:
        assert Counter(json.dumps(r, sort_keys=True) for r in got) == Counter(
            json.dumps(r, sort_keys=True) for r in expected
        )
