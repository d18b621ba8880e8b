"""The mapping, case by case: each folder of tests/data/mapping/ holds a facts document
(``facts.json``) and the quads the loader must make of it (``expected.trig``).

Each expected file was written once from the mapping and then read against docs/mapping.md, so
it states the documented rules for one kind of fact or entity: meetings, phone calls with
participations, statements and the stances they express, appeals, stances, backing, attacks,
posts held, agreements and mediation, sources and evidence, dates of every precision and their
bounds, confidence, links between facts, every entity kind, and the sample story. A failure
lists the quads that are missing and those that are extra. How to add a case, and how to
regenerate an expected file on purpose: tests/data/mapping/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from diplograph.loader.config import load_settings
from diplograph.loader.facts import EntityType, FactType, read_path
from diplograph.loader.pipeline import Loader
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import STORY_FILE
from tests.support.golden_mapping import (
    EXPECTED,
    FACTS,
    case_dirs,
    compare,
    expected_quads,
    map_case,
)

CASES = case_dirs()


def _ids(cases: list[Path]) -> list[str]:
    return [case.name for case in cases]


@pytest.fixture(scope="module")
def loader() -> Iterator[Loader]:
    """A loader over an empty store, for dry runs (validation without writing)."""
    store = EmbeddedStore(None)
    yield Loader(store, load_settings(store="memory"))
    store.close()


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_the_mapping_makes_exactly_the_expected_quads(case: Path) -> None:
    graph, made = map_case(case)
    difference = compare(graph, made, expected_quads(case))
    assert not difference, (
        f"the mapping of {case.name}/{FACTS} differs from {case.name}/{EXPECTED}:\n"
        f"{difference.report()}\n"
        "If the mapping changed on purpose, regenerate the file (tests/data/mapping/README.md)."
    )


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_every_case_is_a_document_the_loader_accepts(case: Path, loader: Loader) -> None:
    # A golden file of a document the loader rejects would describe triples no store holds.
    report = loader.load(read_path(case / FACTS), dry_run=True)
    assert report.documents_loaded == 1, report.to_dict()


def test_the_cases_cover_every_fact_type_and_entity_type() -> None:
    facts: set[str] = set()
    entities: set[str] = set()
    for case in CASES:
        document = json.loads((case / FACTS).read_text(encoding="utf-8"))
        facts.update(f["type"] for f in document["facts"])
        entities.update(e["type"] for e in document["entities"])
    assert {t.value for t in FactType} - facts == set()
    assert {t.value for t in EntityType} - entities == set()


def test_the_story_case_is_the_sample_story() -> None:
    story = json.loads((case_named("story") / FACTS).read_text(encoding="utf-8"))
    assert story == json.loads(STORY_FILE.read_text(encoding="utf-8")), (
        "examples/story.json changed: copy it to tests/data/mapping/story/facts.json and "
        "regenerate that case (tests/data/mapping/README.md)"
    )


def test_a_difference_names_the_missing_and_the_extra_quads() -> None:
    graph, made = map_case(case_named("meeting"))
    dropped = made[0]
    added = Quad(
        NamedNode(graph),
        NamedNode("http://purl.org/dc/terms/title"),
        Literal("x"),
        dropped.graph_name,
    )
    difference = compare(graph, [*made[1:], added], made)
    assert difference.missing == [dropped] and difference.extra == [added]
    report = difference.report()
    assert "1 quad(s) expected but not made by the mapping:" in report
    assert "1 quad(s) made by the mapping but not expected:" in report
    assert 'doc:wire-meeting dcterms:title "x" .  # in doc:wire-meeting' in report
    assert not compare(graph, made, list(reversed(made)))


def case_named(name: str) -> Path:
    [case] = [c for c in CASES if c.name == name]
    return case
