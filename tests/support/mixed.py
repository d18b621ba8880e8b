"""Generated documents with invalid ones among them, loaded with one or several validators
(tests/test_batch_validation.py, tests/test_cluster.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from pyoxigraph import CanonicalizationAlgorithm, Dataset

from bench.generate import generate
from diplograph.graph import Graph
from diplograph.loader.config import load_settings
from diplograph.loader.facts import SourceRecord, parse_document
from tests.conftest import DATA

# Small generated documents (deterministic), with an invalid one (a phone call of one
# participant: tests/data/facts/three.jsonl's doc-2) after every fifth.
GENERATED: list[dict[str, Any]] = list(generate(24, seed=7))
INVALID: dict[str, Any] = json.loads(
    (DATA / "facts" / "three.jsonl").read_text(encoding="utf-8").splitlines()[1]
)


def _records() -> Iterator[SourceRecord]:
    docs: list[dict[str, Any]] = []
    for index, doc in enumerate(GENERATED):
        docs.append(doc)
        if index % 5 == 2:
            bad = copy.deepcopy(INVALID)
            bad["document"]["id"] = f"invalid-{index}"
            docs.append(bad)
    for line, doc in enumerate(docs, start=1):
        yield parse_document(doc, source="mixed.jsonl", line=line)


#: A store's quads (canonical) and the report of the load that wrote them.
Loaded = tuple[Dataset, dict[str, Any]]


def load_mixed(workers: int = 1, cluster: str | None = None) -> Loaded:
    """Load the mixed documents in batches of 8, chunks of 3, on ``workers`` processes (or a
    Dask ``cluster``): the store's quads (canonical) and the report."""
    settings = load_settings(
        store="memory", batch_size=8, validation_chunk=3, load_workers=workers, cluster=cluster
    )
    with Graph(settings) as graph:
        report = graph.load_records(_records())
        dataset = Dataset(graph.store.quads())
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset, report.to_dict()
