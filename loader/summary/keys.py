"""The summary keys of an event, in Python and in SPARQL.

An event (a node typed ``dip:Event``) has a key

* per pair of its participants ``a``, ``b`` with ``STR(a) < STR(b)``: its interaction count
  (:meth:`~loader.iris.IriMinter.interaction_count`);
* per type ``t`` and start date ``d`` of it: the count of events of type ``t`` in the month
  ``SUBSTR(STR(d), 1, 7)`` (:meth:`~loader.iris.IriMinter.events_by_month`).

:func:`event_keys` computes them from an event's facts (the additive upkeep);
:func:`pair_keys` and :func:`month_keys` are their SPARQL twins (the rebuild and the general
upkeep). tests/test_summary.py checks that both give the same keys.

An event reported by more than one document also has a **source count**, the number of distinct
documents it is ``prov:wasDerivedFrom`` (:func:`source_count`, :func:`source_node`; in SPARQL
:func:`source_counts`). It is the event's own count, not a count of events sharing a key, so the
upkeep recounts it for each touched event instead of adding and subtracting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode, Triple

from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP, PROV, RDF
from diplograph.loader.store.base import Store

__all__ = [
    "SOURCE",
    "TOUCHING",
    "EventFacts",
    "Key",
    "event_keys",
    "month_keys",
    "pair_keys",
    "source_count",
    "source_counts",
    "source_node",
    "source_pattern",
]

#: The predicate whose objects are an event's source documents.
SOURCE = f"{PROV}wasDerivedFrom"
#: Predicates whose triples can change a count (the touched events are their subjects).
TOUCHING = (f"{RDF}type", f"{DIP}hasParticipant", f"{DIP}startDate", SOURCE)

_EVENT = NamedNode(f"{DIP}Event")
_TYPE, _PARTICIPANT, _START, _SOURCE = (NamedNode(p) for p in TOUCHING)


@dataclass
class EventFacts:
    """What decides a node's summary keys: its types, participants, start dates and sources."""

    types: set[object] = field(default_factory=set)
    participants: set[object] = field(default_factory=set)
    dates: set[object] = field(default_factory=set)
    sources: set[object] = field(default_factory=set)

    def add(self, triple: Triple) -> None:
        """Record ``triple`` (one of the :data:`TOUCHING` predicates)."""
        predicate = triple.predicate
        target = (
            self.types
            if predicate == _TYPE
            else self.participants
            if predicate == _PARTICIPANT
            else self.sources
            if predicate == _SOURCE
            else self.dates
        )
        target.add(triple.object)

    def merged(self, other: EventFacts) -> EventFacts:
        """The facts of both."""
        return EventFacts(
            self.types | other.types,
            self.participants | other.participants,
            self.dates | other.dates,
            self.sources | other.sources,
        )

    @property
    def is_event(self) -> bool:
        """Whether the node is typed ``dip:Event``."""
        return _EVENT in self.types


class Key(NamedTuple):
    """A summary key: its node's description (N-Triples), the text of the terms that order
    it in its question (a pair's two actors; a month and a type) and, for a month's count, its
    event type (which loader/summary/type_ranks.py ranks)."""

    description: str
    order: tuple[str, ...]
    event_type: NamedNode | RdfLiteral | None = None


def event_keys(facts: EventFacts, minter: IriMinter) -> dict[str, Key]:
    """The summary keys of an event with ``facts``: node IRI -> its :class:`Key`, as
    :func:`pair_keys` and :func:`month_keys` compute them in SPARQL."""
    if _EVENT not in facts.types:
        return {}
    keys: dict[str, Key] = {}
    named = {(v, a) for a in facts.participants if (v := _str(a)) is not None}
    actors = sorted(named, key=lambda pair: pair[0])
    for i, (first, a) in enumerate(actors):
        for second, b in actors[i + 1 :]:
            if not first < second:
                continue
            node = minter.interaction_count(first, second)
            keys[node] = Key(
                f"<{node}> <{RDF}type> <{DIP}InteractionCount> . "
                f"<{node}> <{DIP}firstActor> {a} . <{node}> <{DIP}secondActor> {b} .",
                (first, second),
            )
    for date in facts.dates:
        text = _str(date)
        if text is None:
            continue
        month = text[:7]
        for kind in facts.types:
            if not isinstance(kind, NamedNode | RdfLiteral):
                continue
            node = minter.events_by_month(month, kind.value)
            keys[node] = Key(
                f"<{node}> <{RDF}type> <{DIP}EventCountByMonth> . "
                f"<{node}> <{DIP}month> {RdfLiteral(month)} . "
                f"<{node}> <{DIP}eventType> {kind} .",
                (month, kind.value),
                kind,
            )
    return keys


def pair_keys(store: Store, minter: IriMinter, touched: str = "") -> tuple[str, str]:
    """(the BIND of a pair's node IRI ``?n``, the pattern of an event ``?e`` with two
    participants ``?a`` < ``?b``); ``touched`` limits the events (a pattern binding ``?e``)."""
    node = f"BIND ({minter.interaction_count_sparql('STR(?a)', 'STR(?b)')} AS ?n)"
    where = (
        store.data_pattern("?e", "?e a dip:Event", within=touched)
        + store.data_pattern("?e ?a", "?e dip:hasParticipant ?a", within=touched)
        + store.data_pattern("?e ?b", "?e dip:hasParticipant ?b", within=touched)
        + "FILTER (STR(?a) < STR(?b))"
    )
    return node, where


def month_keys(store: Store, minter: IriMinter, touched: str = "") -> tuple[str, str]:
    """(the BIND of a (month ``?m``, type ``?t``) node IRI ``?n``, the pattern of a typed,
    dated event ``?e``); ``touched`` as for :func:`pair_keys`."""
    node = f"BIND ({minter.events_by_month_sparql('?m', 'STR(?t)')} AS ?n)"
    where = (
        store.data_pattern("?e", "?e a dip:Event", within=touched)
        + store.data_pattern("?e ?t", "?e a ?t", within=touched)
        + store.data_pattern(
            "?e ?m",
            "?e dip:startDate ?d",
            within=touched,
            extra="BIND (SUBSTR(STR(?d), 1, 7) AS ?m)",
        )
    )
    return node, where


def source_count(facts: EventFacts) -> int:
    """The number of distinct documents an event with ``facts`` is derived from (0 for a node
    that is not a ``dip:Event``); the summary keeps it when it is 2 or more."""
    return len(facts.sources) if facts.is_event else 0


def source_node(minter: IriMinter, event: str) -> str:
    """The IRI of the source count of ``event``: under the summary's nodes, the first 32 hex
    digits of SHA-256 over the event's IRI (as the other count nodes, loader/iris.py)."""
    return minter.corroboration_count(event)


def source_counts(store: Store, minter: IriMinter, touched: str = "") -> str:
    """The rows ``?n ?e ?count`` of every event ``?e`` derived from two or more documents, its
    source count node ``?n`` (:func:`source_node`); ``touched`` as for :func:`pair_keys`."""
    node = minter.corroboration_count_sparql("STR(?e)")
    return (
        "{ SELECT ?e (COUNT(DISTINCT ?doc) AS ?count) WHERE { "
        + source_pattern(store, touched)
        + "} GROUP BY ?e HAVING (COUNT(DISTINCT ?doc) > 1) } "
        f"BIND ({node} AS ?n) "
    )


def source_pattern(store: Store, touched: str = "") -> str:
    """The pattern of an event ``?e`` derived from a document ``?doc``, each pair once;
    ``touched`` as for :func:`pair_keys`."""
    return store.data_pattern("?e", "?e a dip:Event", within=touched) + store.data_pattern(
        "?e ?doc", f"?e <{SOURCE}> ?doc", within=touched
    )


def _str(term: object) -> str | None:
    """SPARQL's ``STR``: an IRI's or a literal's text; None (an error) for a blank node."""
    if isinstance(term, NamedNode | RdfLiteral):
        return term.value
    return None
