"""The summary keys of an event, in Python and in SPARQL.

An event (a node typed ``dip:Event``) has a key

* per pair of its participants ``a``, ``b`` with ``STR(a) < STR(b)``: its interaction count
  (:meth:`~loader.iris.IriMinter.interaction_count`);
* per type ``t`` and start date ``d`` of it: the count of events of type ``t`` in the month
  ``SUBSTR(STR(d), 1, 7)`` (:meth:`~loader.iris.IriMinter.events_by_month`).

:func:`event_keys` computes them from an event's facts (the additive upkeep);
:func:`pair_keys` and :func:`month_keys` are their SPARQL twins (the rebuild and the general
upkeep). tests/test_summary.py checks that both give the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode, Triple

from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP, RDF
from diplograph.loader.store.base import Store

__all__ = ["TOUCHING", "EventFacts", "event_keys", "month_keys", "pair_keys"]

#: Predicates whose triples can change a count (the touched events are their subjects).
TOUCHING = (f"{RDF}type", f"{DIP}hasParticipant", f"{DIP}startDate")

_EVENT = NamedNode(f"{DIP}Event")
_TYPE, _PARTICIPANT, _START = (NamedNode(p) for p in TOUCHING)


@dataclass
class EventFacts:
    """What decides a node's summary keys: its types, participants and start dates."""

    types: set[object] = field(default_factory=set)
    participants: set[object] = field(default_factory=set)
    dates: set[object] = field(default_factory=set)

    def add(self, triple: Triple) -> None:
        """Record ``triple`` (one of the :data:`TOUCHING` predicates)."""
        predicate = triple.predicate
        target = (
            self.types
            if predicate == _TYPE
            else self.participants
            if predicate == _PARTICIPANT
            else self.dates
        )
        target.add(triple.object)

    def merged(self, other: EventFacts) -> EventFacts:
        """The facts of both."""
        return EventFacts(
            self.types | other.types,
            self.participants | other.participants,
            self.dates | other.dates,
        )


def event_keys(facts: EventFacts, minter: IriMinter) -> dict[str, str]:
    """The summary keys of an event with ``facts``: node IRI -> its description (N-Triples),
    as :func:`pair_keys` and :func:`month_keys` compute them in SPARQL."""
    if _EVENT not in facts.types:
        return {}
    keys: dict[str, str] = {}
    named = {(v, a) for a in facts.participants if (v := _str(a)) is not None}
    actors = sorted(named, key=lambda pair: pair[0])
    for i, (first, a) in enumerate(actors):
        for second, b in actors[i + 1 :]:
            if not first < second:
                continue
            node = minter.interaction_count(first, second)
            keys[node] = (
                f"<{node}> <{RDF}type> <{DIP}InteractionCount> . "
                f"<{node}> <{DIP}firstActor> {a} . <{node}> <{DIP}secondActor> {b} ."
            )
    for date in facts.dates:
        text = _str(date)
        if text is None:
            continue
        month = text[:7]
        for kind in facts.types:
            name = _str(kind)
            if name is None:
                continue
            node = minter.events_by_month(month, name)
            keys[node] = (
                f"<{node}> <{RDF}type> <{DIP}EventCountByMonth> . "
                f"<{node}> <{DIP}month> {RdfLiteral(month)} . "
                f"<{node}> <{DIP}eventType> {kind} ."
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


def _str(term: object) -> str | None:
    """SPARQL's ``STR``: an IRI's or a literal's text; None (an error) for a blank node."""
    if isinstance(term, NamedNode | RdfLiteral):
        return term.value
    return None
