"""The benchmark data generator: deterministic, and every document it writes is valid."""

from __future__ import annotations

import io
from collections import Counter

from bench.generate import ANCHOR_DIPLOMAT, ANCHOR_STATE, generate, parse_count, write_jsonl
from diplograph.loader.facts import parse_document
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import map_document
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.ontology import superclass_closure


def _jsonl(n: int, seed: int, after: int = 0) -> bytes:
    out = io.StringIO()
    write_jsonl(n, seed, out, after=after)
    return out.getvalue().encode()


def test_same_seed_same_bytes() -> None:
    assert _jsonl(40, seed=7) == _jsonl(40, seed=7)
    assert _jsonl(40, seed=7) != _jsonl(40, seed=8)
    assert _jsonl(5, seed=7, after=40) == _jsonl(5, seed=7, after=40)


def test_documents_parse_and_map() -> None:
    minter = IriMinter(DEFAULT_BASE_IRI)
    superclasses = superclass_closure()
    fact_counts = []
    kinds: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for doc in [*generate(120, seed=3), *generate(10, seed=3, after=120)]:
        record = parse_document(doc)
        assert record.error is None, record.error
        assert record.document is not None
        fact_counts.append(len(doc["facts"]))
        kinds.update(f["type"] for f in doc["facts"])
        mapped = map_document(record.document, minter, superclasses)
        events.update(
            t.subject.value
            for t in mapped.triples
            if t.subject.value.startswith(minter.base + "id/event/")
            and t.predicate.value.endswith("#type")
        )
    assert min(fact_counts) >= 5 and max(fact_counts) <= 15
    for kind in ("PostHolding", "Backing", "Statement", "Appeal", "PhoneCall", "Attack"):
        assert kinds[kind] > 0, kind
    # some events are reported by more than one document (same node minted twice)
    assert sum(1 for n in events.values() if n > 1) > 0


def test_anchors_are_frequent() -> None:
    docs = list(generate(200, seed=1))
    states = Counter(e["name"] for d in docs for e in d["entities"] if e["type"] == "State")
    people = Counter(e["name"] for d in docs for e in d["entities"] if e["type"] == "Person")
    assert states.most_common(1)[0][0] == ANCHOR_STATE
    assert people[ANCHOR_DIPLOMAT] > 0


def test_parse_count() -> None:
    assert parse_count("10k") == 10_000
    assert parse_count("1M") == 1_000_000
    assert parse_count("250") == 250
