"""Single-valued properties that documents disagree on.

A node has one start date, one end date, one duration and one place, whatever the number of
documents that report it. :data:`SINGLE_VALUED` lists these properties (the one list; the
ontology does not mark them yet) with how their values compare. Two values **conflict when no
single real value can satisfy both**:

* times (``dip:startDate``, ``dip:endDate``, ``dip:earliestStart``, ``dip:latestStart``) are
  written at the precision the text gives (a year, a month, a day, an instant in UTC), and each
  denotes the span it covers: 2023-03 and 2023-03-10 are compatible (the day lies in the month),
  2023-10-14 and 2023-10-14T09:30:00Z too, 2023-03-10 and 2023-03-12 are not. In the lexical
  forms the loader writes, this is "neither is a prefix of the other";
* places (``dip:atPlace``): the same place, or one located in the other (``dip:locatedIn``, at
  any depth): Riyadh and Saudi Arabia are compatible, Riyadh and Beijing are not;
* durations (``dip:duration``): equal values (the store keeps them canonical: PT60M is PT1H);
* CAMEO codes (``dip:cameoCode``): the same code or one under the other (``04`` and ``041``:
  the codes are hierarchical, a longer code refines its prefix), so 041 and 043 conflict;
  PLOVER types (``dip:ploverType``): equal values. Two documents coding one event differently
  happen once vague and precise reports are one node (loader/coreference.py), and across
  datasets.

Both values stay in the store; the check only reports them, each with the documents that
assert it and the confidence each gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations

from pyoxigraph import NamedNode

from diplograph.loader.conflicts.model import VALUES, Conflict, Source, Value
from diplograph.loader.conflicts.reads import DOCUMENT, chunks, confidence, iri_list, select
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = ["SINGLE_VALUED", "compatible", "conflicting_values"]

TIME, PLACE, EQUAL, CODE = "time", "place", "equal", "code"

#: The single-valued properties of a node, and how their values compare (see the module).
SINGLE_VALUED: Mapping[str, str] = {
    DIP + "startDate": TIME,
    DIP + "endDate": TIME,
    DIP + "earliestStart": TIME,
    DIP + "latestStart": TIME,
    DIP + "duration": EQUAL,
    DIP + "atPlace": PLACE,
    DIP + "cameoCode": CODE,
    DIP + "ploverType": EQUAL,
}

_PROPERTIES = [NamedNode(p) for p in SINGLE_VALUED]

# Each value read once (Store.data_pattern): where the default graph is every graph's quads,
# ``?node ?p ?a , ?b`` matched k^2 times for a value k documents state.
_SUSPECTS = """SELECT DISTINCT ?node ?p WHERE {{
  {a} {b}
  FILTER(STR(?a) < STR(?b))
}}"""

# Given nodes, each property is a pattern of its own: bound, it is a lookup of (node, property)
# for each node, where ``?node ?p ?a`` read every triple of the node to FILTER its property
# (and a second VALUES for the properties made Oxigraph join by a scan of every triple). The
# values are counted rather than paired (two values differ by their terms, not only by their
# text: :func:`compatible` then tells the values read). For the 10,080 nodes of 1k documents
# loaded into the 100k store: 0.45 s against 1.10 s (docs/benchmarks.md).
_BOUND_VALUES = " UNION ".join(f"{{ ?node {p} ?a BIND({p} AS ?p) }}" for p in _PROPERTIES)
_SUSPECTS_OF_NODES = """SELECT ?node ?p WHERE {{
  {values}
}} GROUP BY ?node ?p HAVING (COUNT(DISTINCT ?a) > 1)"""

# One row per value a document asserts, with the confidence it gives: a participation's own,
# else the fact's attestation (else the attestation of the event a participation belongs to,
# read apart: _EVENT_CONFIDENCES).
_SOURCES = """SELECT ?node ?p ?v ?g ?own ?fact WHERE {{
  VALUES (?node ?p) {{ {pairs} }}
  GRAPH ?g {{ ?node ?p ?v . {document} }}
  OPTIONAL {{ GRAPH ?g {{ ?node dip:confidence ?own }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node dip:attestedBy ?att . ?att dip:confidence ?fact }} }}
}}"""

# The confidence of the event a participation belongs to, for the values without one of their
# own, read apart: as a third OPTIONAL above, Oxigraph matched its three patterns over the whole
# store (1 s for 20 values at 10k documents, against a few milliseconds so).
_EVENT_CONFIDENCES = """SELECT ?node ?g ?event WHERE {{
  VALUES (?node ?g) {{ {pairs} }}
  GRAPH ?g {{ ?node dip:participationIn ?e . ?e dip:attestedBy ?ea . ?ea dip:confidence ?event }}
}}"""

# Ancestors are walked a step at a time, each step one distinct read (Store.data_pattern), not
# by ``dip:locatedIn+``: on Virtuoso, whose default graph repeats a triple for each document
# stating it, the path gave over a million rows for two places at 10k documents (and refuses a
# path whose start VALUES binds).
_PARENTS = "SELECT ?place ?up WHERE {{ {parents} }}"


def compatible(how: str, a: str, b: str, ancestors: Mapping[str, set[str]]) -> bool:
    """Whether one real value can satisfy both ``a`` and ``b`` (see the module's rules)."""
    if a == b:
        return True
    if how in (TIME, CODE):
        return a.startswith(b) or b.startswith(a)
    if how == PLACE:
        return b in ancestors.get(a, set()) or a in ancestors.get(b, set())
    return False


def conflicting_values(store: Store, nodes: Iterable[str] | None = None) -> list[Conflict]:
    """The nodes (all, or those of ``nodes``) whose single-valued properties have values that
    conflict, each value with the documents asserting it."""
    suspects: set[tuple[str, str]] = set()
    for node_clause in _node_clauses(nodes):
        if node_clause:
            pattern = store.data_pattern("?node ?p ?a", _BOUND_VALUES, within=node_clause)
            query = _SUSPECTS_OF_NODES.format(values=pattern)
        else:
            within = f"VALUES ?p {{ {iri_list(SINGLE_VALUED)} }} "
            query = _SUSPECTS.format(
                a=store.data_pattern("?node ?p ?a", "?node ?p ?a .", within=within),
                b=store.data_pattern("?node ?p ?b", "?node ?p ?b .", within=within),
            )
        suspects.update((r["node"], r["p"]) for r in select(store, query))
    if not suspects:
        return []
    found: dict[tuple[str, str], dict[str, set[Source]]] = {}
    for part in _pair_chunks(sorted(suspects)):
        pairs = " ".join(f"({iri_list([n])} {iri_list([p])})" for n, p in part)
        rows = select(store, _SOURCES.format(pairs=pairs, document=DOCUMENT))
        events = _event_confidences(
            store, {(r["node"], r["g"]) for r in rows if not (r.get("own") or r.get("fact"))}
        )
        for row in rows:
            level = row.get("own") or row.get("fact")
            levels = [level] if level else events.get((row["node"], row["g"]), [None])
            values = found.setdefault((row["node"], row["p"]), {})
            values.setdefault(row["v"], set()).update(
                Source(row["g"], confidence(each)) for each in levels
            )
    places = {v for (_, p), vs in found.items() if SINGLE_VALUED[p] == PLACE for v in vs}
    ancestors = _ancestors(store, places)
    conflicts = []
    for (node, prop), values in sorted(found.items()):
        how = SINGLE_VALUED[prop]
        if all(compatible(how, a, b, ancestors) for a, b in combinations(values, 2)):
            continue
        conflicts.append(
            Conflict(
                VALUES,
                node,
                prop,
                tuple(Value(v, tuple(sorted(s))) for v, s in sorted(values.items())),
            )
        )
    return conflicts


def _node_clauses(nodes: Iterable[str] | None) -> Iterable[str]:
    if nodes is None:
        return [""]
    return [f"VALUES ?node {{ {iri_list(part)} }} " for part in chunks(nodes)]


def _pair_chunks(pairs: list[tuple[str, str]]) -> Iterable[list[tuple[str, str]]]:
    for start in range(0, len(pairs), 500):
        yield pairs[start : start + 500]


def _event_confidences(
    store: Store, rated: set[tuple[str, str]]
) -> dict[tuple[str, str], list[str | None]]:
    """For each (participation, document graph) of ``rated``: the confidences the document
    gives the event the participation belongs to."""
    found: dict[tuple[str, str], list[str | None]] = {}
    for part in _pair_chunks(sorted(rated)):
        pairs = " ".join(f"({iri_list([n])} {iri_list([g])})" for n, g in part)
        for row in select(store, _EVENT_CONFIDENCES.format(pairs=pairs)):
            found.setdefault((row["node"], row["g"]), []).append(row["event"])
    return found


def _ancestors(store: Store, places: set[str]) -> dict[str, set[str]]:
    """Every place each of ``places`` lies in, directly or through others."""
    parents: dict[str, set[str]] = {}
    asked: set[str] = set()
    frontier = set(places)
    while frontier:
        asked |= frontier
        for part in chunks(frontier):
            within = f"VALUES ?place {{ {iri_list(part)} }} "
            step = store.data_pattern("?place ?up", "?place dip:locatedIn ?up .", within=within)
            for row in select(store, _PARENTS.format(parents=step)):
                parents.setdefault(row["place"], set()).add(row["up"])
        frontier = {up for place in frontier for up in parents.get(place, ())} - asked
    found: dict[str, set[str]] = {}
    for place in places:
        ups: set[str] = set()
        todo = list(parents.get(place, ()))
        while todo:
            up = todo.pop()
            if up not in ups:
                ups.add(up)
                todo.extend(parents.get(up, ()))
        if ups:
            found[place] = ups
    return found
