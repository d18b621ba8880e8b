"""Candidate duplicates: two nodes that may be one person, organization or state.

Nodes of one class (:data:`CANDIDATE_CLASSES`; the loader types every Government, Militia …
an Organization too) whose labels have the same lookup key (case, accents, punctuation and a
leading "the" aside: loader/gazetteer/normalize.py) are candidates unless identifiers settle the
question: both carry ``owl:sameAs`` identifiers, which either share one (the same entity, said
by the identifiers) or share none (two entities that share a name). So a candidate is a pair in
which at least one node has no identifier and no curator has settled (loader/curation.py).
Candidates are reported, never merged: two people can share a name.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from diplograph.loader.conflicts.model import CANDIDATE, Conflict, Source, Value
from diplograph.loader.conflicts.reads import DOCUMENT, chunks, iri_list, select
from diplograph.loader.curation import settled_pairs
from diplograph.loader.gazetteer.normalize import lookup_key
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = ["CANDIDATE_CLASSES", "candidate_duplicates"]

#: The classes whose nodes are compared by name.
CANDIDATE_CLASSES: tuple[str, ...] = (DIP + "Person", DIP + "Organization", DIP + "State")

# Each name read once (Store.data_pattern): where the default graph is every graph's quads,
# the plain patterns gave k^3 rows for a node k documents name, past a million at 1k documents
# on Virtuoso.
_NAMED = """SELECT ?n ?class ?label ?same WHERE {{
  {named}
  OPTIONAL {{ {same} }}
}}"""

_DESCRIBED_IN = """SELECT DISTINCT ?n ?g WHERE {{
  VALUES ?n {{ {nodes} }}
  GRAPH ?g {{ ?n rdfs:label ?label . {document} }}
}}"""


def candidate_duplicates(store: Store, nodes: Iterable[str] | None = None) -> list[Conflict]:
    """Groups of nodes that may be duplicates (all, or those with one of ``nodes``), each node
    with the documents that name it."""
    wanted = None if nodes is None else set(nodes)
    if wanted is not None and not _any_named(store, wanted):
        return []  # the scan below reads every name: not for a page about an event
    groups: dict[tuple[str, str], dict[str, str]] = {}  # (class, key) -> node -> label
    identifiers: dict[str, set[str]] = {}
    named = store.data_pattern(
        "?n ?class ?label",
        "?n a ?class ; rdfs:label ?label .",
        within=f"VALUES ?class {{ {iri_list(CANDIDATE_CLASSES)} }} ",
    )
    same = store.data_pattern("?n ?same", "?n owl:sameAs ?same .")
    for row in select(store, _NAMED.format(named=named, same=same)):
        key = lookup_key(row["label"])
        if key:
            groups.setdefault((row["class"], key), {}).setdefault(row["n"], row["label"])
        ids = identifiers.setdefault(row["n"], set())
        if "same" in row:
            ids.add(row["same"])
    found: list[tuple[str, str, dict[str, str]]] = []
    shared = [m for m in groups.values() if len(m) > 1]
    settled = settled_pairs(store, {n for members in shared for n in members})
    for (cls, _), members in sorted(groups.items()):
        if len(members) < 2 or (wanted is not None and not wanted & members.keys()):
            continue
        involved = {
            n
            for a, b in combinations(sorted(members), 2)
            if not (identifiers[a] and identifiers[b]) and frozenset((a, b)) not in settled
            for n in (a, b)
        }
        if involved:
            found.append((cls, min(involved), {n: members[n] for n in sorted(involved)}))
    documents = _documents(store, {n for _, _, members in found for n in members})
    return [
        Conflict(
            CANDIDATE,
            first,
            cls,
            tuple(
                Value(n, tuple(Source(g) for g in sorted(documents.get(n, ()))), label=label)
                for n, label in members.items()
            ),
            label=members[first],
        )
        for cls, first, members in found
    ]


def _any_named(store: Store, nodes: set[str]) -> bool:
    classes = iri_list(CANDIDATE_CLASSES)
    for part in chunks(nodes):
        query = f"SELECT ?n WHERE {{ VALUES ?n {{ {iri_list(part)} }} VALUES ?c {{ {classes} }}"
        if select(store, query + " ?n a ?c } LIMIT 1"):
            return True
    return False


def _documents(store: Store, nodes: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for part in chunks(nodes):
        query = _DESCRIBED_IN.format(nodes=iri_list(part), document=DOCUMENT)
        for row in select(store, query):
            found.setdefault(row["n"], set()).add(row["g"])
    return found
