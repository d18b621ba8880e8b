"""Fatality counts that documents disagree on.

A measure is one source's statement, written on that document's attestation of the event
(docs/mapping.md), so the event node never holds two values of its own. Most measures differ
between sources by their nature (a tone or a count of mentions describes the coverage, a
Goldstein score the code, which :mod:`.values` compares), but the number of people killed is a
fact about the world: two documents that give one event different counts cannot both be right.
They are reported as ``conflicting-values`` of ``dip:fatalities`` on the event, each count with
the documents giving it and their confidence; both stay in the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from diplograph.loader.conflicts.model import VALUES, Conflict, Source, Value
from diplograph.loader.conflicts.reads import DOCUMENT, chunks, confidence, iri_list, select
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = ["FATALITIES", "conflicting_fatalities"]

FATALITIES = DIP + "fatalities"

# The events with two counts that differ first (a subquery), then each count with its document.
# Events alone: a state or a place named in thousands of documents has as many attestations,
# each asked for a count (0.5 s for 1,000 nodes at 30k documents, 0.01 s so).
_COUNTS = """SELECT DISTINCT ?node ?n ?g ?c WHERE {{
  {{ SELECT DISTINCT ?node WHERE {{
       {nodes}
       ?node a dip:Event .
       ?node dip:attestedBy/dip:fatalities ?x , ?y . FILTER(?x < ?y) }} }}
  GRAPH ?g {{ ?node dip:attestedBy ?att . ?att dip:fatalities ?n . {document}
             OPTIONAL {{ ?att dip:confidence ?c }} }}
}}"""


def conflicting_fatalities(store: Store, nodes: Iterable[str] | None = None) -> list[Conflict]:
    """The events (all, or those of ``nodes``) that documents give different fatality counts."""
    clauses = (
        [""]
        if nodes is None
        else [f"VALUES ?node {{ {iri_list(part)} }}" for part in chunks(nodes)]
    )
    found: dict[str, dict[str, set[Source]]] = {}
    for clause in clauses:
        for row in select(store, _COUNTS.format(nodes=clause, document=DOCUMENT)):
            counts = found.setdefault(row["node"], {})
            counts.setdefault(row["n"], set()).add(Source(row["g"], confidence(row.get("c"))))
    return [
        Conflict(
            VALUES,
            node,
            FATALITIES,
            tuple(Value(n, tuple(sorted(s))) for n, s in sorted(counts.items(), key=_number)),
        )
        for node, counts in sorted(found.items())
        if len(counts) > 1
    ]


def _number(item: tuple[str, set[Source]]) -> int:
    return int(item[0]) if item[0].isdigit() else -1
