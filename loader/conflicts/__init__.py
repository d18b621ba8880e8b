"""Conflicts between documents, surfaced and never resolved by dropping a value.

Documents are separate named graphs; a node two documents describe gets both descriptions. The
checks read the store with SPARQL (embedded or remote alike) and report, never change, what
they find (docs/mapping.md, "Conflicts and candidates"):

* :func:`conflicting_values` – single-valued properties (:data:`SINGLE_VALUED`: start and end
  dates, duration, place) with values no single real value satisfies (:mod:`.values`);
* :func:`conflicting_fatalities` – an event that documents give different fatality counts
  (on their attestations, :mod:`.fatalities`);
* :func:`overlapping_holders` – a post that admits one holder held by two people at once
  (:data:`SINGLE_HOLDER_POSTS`, :mod:`.holders`);
* :func:`candidate_duplicates` – persons, organizations or states of one name without a shared
  identifier (:mod:`.duplicates`);
* :func:`candidate_same_events` – event nodes of one type and the same participants whose times
  can be one moment: one event reported at other precisions (:mod:`.events`).

:func:`find_conflicts` runs all five; ``nodes`` limits them to what involves those nodes (the
load report passes the nodes its documents touched, the resource page its one node),
``documents`` keeps the findings one of those documents takes part in, and ``listed`` lists only
those documents among each value's sources and counts the others (:func:`listing`: a load
report lists its own).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from diplograph.loader.conflicts.duplicates import CANDIDATE_CLASSES, candidate_duplicates
from diplograph.loader.conflicts.events import candidate_same_events
from diplograph.loader.conflicts.fatalities import FATALITIES, conflicting_fatalities
from diplograph.loader.conflicts.held import (
    HeldEvents,
    events_unchanged_since,
    held_events,
    hold_events,
)
from diplograph.loader.conflicts.holders import SINGLE_HOLDER_POSTS, overlapping_holders
from diplograph.loader.conflicts.model import (
    CANDIDATE,
    HOLDERS,
    KINDS,
    SAME_EVENT,
    VALUES,
    Conflict,
    Source,
    Value,
    listing,
)
from diplograph.loader.conflicts.reads import DOCUMENT, iri_list, labels, select
from diplograph.loader.conflicts.values import SINGLE_VALUED, compatible, conflicting_values
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = [
    "CANDIDATE",
    "CANDIDATE_CLASSES",
    "FATALITIES",
    "HOLDERS",
    "KINDS",
    "SAME_EVENT",
    "SINGLE_HOLDER_POSTS",
    "SINGLE_VALUED",
    "VALUES",
    "Conflict",
    "HeldEvents",
    "Source",
    "Value",
    "candidate_duplicates",
    "candidate_same_events",
    "compatible",
    "conflicting_fatalities",
    "conflicting_values",
    "events_unchanged_since",
    "find_conflicts",
    "held_events",
    "hold_events",
    "listing",
    "nodes_of",
    "overlapping_holders",
]

# The findings whose values are nodes (holders, places, candidates) rather than literals.
_IRI_VALUED = {DIP + "post", DIP + "atPlace", DIP + "Event", *CANDIDATE_CLASSES}

_NODES_OF = """SELECT DISTINCT ?n WHERE {{
  VALUES ?g {{ {graphs} }}
  GRAPH ?g {{ ?n ?p ?o . {document} }}
  FILTER(isIRI(?n) && !STRSTARTS(STR(?n), STR(?g)))
}}"""


def find_conflicts(
    store: Store,
    *,
    nodes: Iterable[str] | None = None,
    documents: Iterable[str] | None = None,
    listed: Collection[str] | None = None,
    held: HeldEvents | None = None,
) -> list[Conflict]:
    """Every conflict and candidate duplicate in ``store``, by kind then node.

    ``nodes`` (IRIs): only findings about those nodes (a post's holders count for the post and
    its holdings). ``documents`` (their graphs' IRIs): only findings one of those documents
    asserts a value of. ``listed`` (graphs' IRIs): each value lists only those of its sources
    and counts the others (:func:`listing`); ``documents`` then looks at the listed ones.
    ``held``: the events the same-event check of ``nodes`` takes from memory
    (:mod:`.held`). Raises ValueError for a node or document that is not an IRI.
    """
    wanted_documents = None if documents is None else set(documents)
    if nodes is None and wanted_documents is not None:
        nodes = nodes_of(store, wanted_documents)
    node_list = None if nodes is None else sorted(set(nodes))
    if node_list is not None and not node_list:
        return []
    found = [
        *sorted(
            [*conflicting_values(store, node_list), *conflicting_fatalities(store, node_list)],
            key=lambda c: (c.node, c.property),
        ),
        # the sources of the holdings of a post can be hundreds of documents each: with
        # ``listed``, those are counted, not read (loader/conflicts/holders.py)
        *overlapping_holders(store, node_list, listed),
        *candidate_duplicates(store, node_list),
        *candidate_same_events(store, node_list, held),
    ]
    if listed is not None:
        found = listing(found, listed)
    if wanted_documents is not None:
        found = [c for c in found if c.documents() & wanted_documents]
    return _labelled(store, found)


def _labelled(store: Store, found: list[Conflict]) -> list[Conflict]:
    """The findings with a label on each node and IRI value that has one."""
    iris = {c.node for c in found} | {
        v.value for c in found for v in c.values if c.property in _IRI_VALUED
    }
    names = labels(store, sorted(iris)) if iris else {}
    return [
        replace(
            c,
            label=c.label or names.get(c.node),
            values=tuple(replace(v, label=v.label or names.get(v.value)) for v in c.values)
            if c.property in _IRI_VALUED
            else c.values,
        )
        for c in found
    ]


def nodes_of(store: Store, graphs: set[str]) -> set[str]:
    """The nodes the documents (their graphs' IRIs) describe, but their attestations, spans
    and run: those a load's report checks."""
    if not graphs:
        return set()
    query = _NODES_OF.format(graphs=iri_list(sorted(graphs)), document=DOCUMENT)
    return {row["n"] for row in select(store, query)}
