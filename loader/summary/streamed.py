"""The interaction and corroboration counts of the rebuild in steps, counted here from
streamed rows.

As one SPARQL update each (``GROUP BY`` and ``COUNT(DISTINCT …)``), Oxigraph holds every group
and every write in memory until the update commits: at 100k documents the interaction counts
peaked at 885 MB and the corroboration counts at 831 MB, each alone in a fresh process, and
they set the peak of a whole bulk load (docs/benchmarks.md). The same patterns read without a
``GROUP BY`` stream: counting their rows here, in a fresh process, peaked at 91 MB (54,743
pairs) and 254 MB (65,716 of 289,648 events corroborated), most of it Oxigraph's own, and the
count nodes are written :data:`WRITE_CHUNK` a transaction. The whole rebuild's peak went from
906 to 417 MB. The month counts, 183 MB as an update, stay one (loader/summary/rebuild.py).

The rows are the solutions of the rebuild's own patterns (:func:`~loader.summary.keys.pair_keys`,
:func:`~loader.summary.keys.source_pattern`), each distinct: counting a pair's rows is counting
its distinct events, and an event's rows its distinct documents, as ``COUNT(DISTINCT …)`` does.
tests/test_summary_rebuild_steps.py checks that the summary is the one a single transaction
writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from diplograph.loader.namespaces import DIP
from diplograph.loader.summary.graph import SummaryGraph, integer
from diplograph.loader.summary.keys import pair_keys, source_pattern

__all__ = ["WRITE_CHUNK", "count_writes"]

#: Count nodes written per transaction (four triples each, in the graph and in the union).
WRITE_CHUNK = 5000

_Term = NamedNode | RdfLiteral


def count_writes(summary: SummaryGraph) -> Iterator[str]:
    """``INSERT DATA`` operations that write the interaction counts, then the corroboration
    counts, :data:`WRITE_CHUNK` nodes each. Each kind is counted when its first operation is
    asked for, so only one is held at a time."""
    minter = summary.minter
    # Full IRIs, not ``dip:`` names: a participant's literal could hold "dip:" itself.
    yield from _inserts(
        summary,
        (
            f"<{minter.interaction_count(a.value, b.value)}> a <{DIP}InteractionCount> ; "
            f"<{DIP}firstActor> {a} ; <{DIP}secondActor> {b} ; "
            f"<{DIP}eventCount> {integer(count)} ."
            for (a, b), count in _interaction_counts(summary).items()
        ),
    )
    yield from _inserts(
        summary,
        (
            f"<{minter.corroboration_count(event.value)}> a <{DIP}CorroborationCount> ; "
            f"<{DIP}countedEvent> {event} ; <{DIP}documentCount> {integer(count)} ."
            for event, count in _corroboration_counts(summary).items()
        ),
    )


def _interaction_counts(summary: SummaryGraph) -> Counter[tuple[_Term, _Term]]:
    """The number of events of each pair of participants ``a`` < ``b`` (``STR`` order)."""
    _, where = pair_keys(summary.store, summary.minter)
    # About 1,200 participants make 171k rows at 100k documents: one term object each.
    terms: dict[_Term, _Term] = {}
    counts: Counter[tuple[_Term, _Term]] = Counter()
    for row in summary.select(f"SELECT ?a ?b WHERE {{ {where} }}", union=True):
        a, b = row["a"], row["b"]
        assert isinstance(a, NamedNode | RdfLiteral) and isinstance(b, NamedNode | RdfLiteral)
        counts[terms.setdefault(a, a), terms.setdefault(b, b)] += 1
    return counts


def _corroboration_counts(summary: SummaryGraph) -> dict[NamedNode, int]:
    """The number of documents of each event derived from two or more."""
    counts: Counter[NamedNode] = Counter()
    select = f"SELECT ?e WHERE {{ {source_pattern(summary.store)} }}"
    for row in summary.select(select, union=True):
        event = row["e"]
        # A blank node (written around the loader) has no count node: its IRI is made of
        # ``STR(?e)``, an error for it, so the update's template skips it too.
        if isinstance(event, NamedNode):
            counts[event] += 1
    return {event: count for event, count in counts.items() if count > 1}


def _inserts(summary: SummaryGraph, nodes: Iterable[str]) -> Iterator[str]:
    """The triples of ``nodes`` written :data:`WRITE_CHUNK` nodes an operation."""
    left = iter(nodes)
    while chunk := list(islice(left, WRITE_CHUNK)):
        yield "INSERT DATA { " + summary.write(" ".join(chunk)) + " }"
