"""Facts documents built from dataset records: actors, events with their roles, and the notes
an import keeps about what it left out.

An importer turns each record into an :class:`Event` (the fact and the entities it needs), asks
:func:`plan` which fact type and roles the event can have under the shapes (an attack needs an
attacker and a target, an appeal a recipient …), and adds it to a :class:`DocumentBuilder`, which
gives each entity once and each event once per document. :class:`ImportNotes` counts, per reason,
the events an import left out, so a load reports one line per reason, not one per row.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from diplograph.loader.facts import FactType
from diplograph.loader.facts.vocabulary import EntityType

__all__ = [
    "NOT_A_FACT_TYPE",
    "Actor",
    "DocumentBuilder",
    "Event",
    "ImportNotes",
    "Plan",
    "local_id",
    "plan",
]

_SPEECH = {"Statement", "Condemnation", "Praise"}
#: The reason :func:`plan` gives for an event whose class the facts format cannot name.
NOT_A_FACT_TYPE = "events of class dip:{cls}, which is not a fact type of the facts format"
_TWO_SIDED_CONSULTATIONS = {"PhoneCall", "Meeting"}


@dataclass(frozen=True)
class Actor:
    """A participant to be: its local id, and the entities (dicts in the facts format) it needs
    in the document: itself first, then what it refers to (its state, its government)."""

    id: str
    entities: tuple[dict[str, Any], ...]

    @property
    def is_person(self) -> bool:
        return bool(self.entities) and self.entities[0]["type"] == EntityType.Person.value


@dataclass(frozen=True)
class Plan:
    """The fact type an event gets and its participants as (role, actor) pairs."""

    fact_type: str
    participants: tuple[tuple[str, Actor], ...]


def plan(cls: str, first: Actor | None, second: Actor | None, *, hosts: bool = False) -> Plan | str:
    """The fact type and roles for an event of class ``cls`` (a dip: class local name) whose
    dataset names ``first`` (the source, CAMEO's Actor1) and ``second`` (the target), or the
    reason it cannot be imported (a string).

    ``hosts``: the first actor hosts a visit (CAMEO 043) rather than makes it. An event whose
    class needs sides it does not have falls back to a class that does not (a meeting with one
    side known is a consultation, an appeal without a recipient a statement).
    """
    if first is not None and second is not None and first.id == second.id:
        second = None  # one actor on both sides (USA and USA): the shapes need two
    if cls == "Mediation":
        cls = "Consultation"  # the dataset gives the mediator and one party; a mediation needs two
    if cls in _TWO_SIDED_CONSULTATIONS and (first is None or second is None):
        cls = "Consultation"
    if cls == "Visit":
        visitor, host = (second, first) if hosts else (first, second)
        if visitor is None:
            cls = "Consultation"
        else:
            return Plan("Visit", _pairs(("visitor", visitor), ("host", host)))
    if cls == "Appeal" and (first is None or second is None):
        cls = "Statement"
    if cls not in FactType.__members__:
        return NOT_A_FACT_TYPE.format(cls=cls)
    if cls in _SPEECH:
        if first is None:
            return f"a {cls} needs who said it (the first actor is missing)"
        voice = "speaker" if first.is_person else "issuer"
        return Plan(cls, _pairs((voice, first), ("recipient", second)))
    if cls == "Attack":
        if first is None or second is None:
            return "an attack needs an attacker and a target (an actor is missing)"
        return Plan(cls, _pairs(("attacker", first), ("target", second)))
    if cls in {"Agreement", "ArmedConflict"}:
        if cls == "Agreement" and (first is None or second is None):
            return "an agreement needs two different parties (an actor is missing)"
        return Plan(cls, _pairs(("party", first), ("party", second)))
    return Plan(cls, _pairs(("initiator", first), ("recipient", second)))


def _pairs(*pairs: tuple[str, Actor | None]) -> tuple[tuple[str, Actor], ...]:
    return tuple((role, actor) for role, actor in pairs if actor is not None)


@dataclass
class Event:
    """One record's event, ready for a document: its key in the dataset, the fact (a dict in
    the facts format, without id and participants), its plan and the place entity, if any."""

    key: str
    line: int
    fact: dict[str, Any]
    plan: Plan
    place: dict[str, Any] | None = None
    extra_participants: tuple[tuple[str, Actor], ...] = ()


@dataclass
class ImportNotes:
    """What an import left out, merged or ignored, counted per reason, with the first place it
    occurred; and how many rows, events and documents it read and made."""

    counts: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    events: int = 0
    documents: int = 0

    def note(self, reason: str, where: str) -> None:
        if reason not in self.first and len(self.first) < 1000:
            self.first[reason] = where
        self.counts[reason] += 1

    def left_out(self, code: str, reason: str, where: str) -> None:
        """Note an event left out for ``reason`` (from :func:`plan`); ``code`` names its code
        in the dataset (``CAMEO 043``), kept apart per code unless the reason is its class."""
        self.note(reason if reason.startswith("events of class") else f"{code}: {reason}", where)

    def lines(self) -> list[str]:
        """One line per reason, for the load report's warnings."""
        return [
            f"{reason}: {count} time(s), first at {self.first.get(reason, '?')}"
            for reason, count in self.counts.most_common()
        ]


class DocumentBuilder:
    """Gathers one document's entities and facts, each once."""

    def __init__(self, document: dict[str, Any], extraction: dict[str, Any]) -> None:
        self.document = document
        self.extraction = extraction
        self.entities: dict[str, dict[str, Any]] = {}
        self.facts: list[dict[str, Any]] = []
        self._keys: dict[str, int] = {}
        self._identities: dict[tuple[Any, ...], int] = {}
        self.first_line: int | None = None

    def add(self, event: Event, notes: ImportNotes, where: str) -> None:
        """Add ``event`` unless this document already has it: the same dataset key (a
        duplicated row), or the same fact type, participants and day (the dataset's two codes
        for one event become one fact, as they would become one node)."""
        if event.key in self._keys:
            notes.note("a duplicate row of an event already in its document", where)
            return
        participants = (*event.plan.participants, *event.extra_participants)
        identity = (
            event.plan.fact_type,
            tuple(sorted((role, actor.id) for role, actor in participants)),
            event.fact.get("time", {}).get("start"),
        )
        if identity in self._identities:
            notes.note(
                "the same fact type, participants and day as another event of its document "
                "(kept once, with the first event's code)",
                where,
            )
            return
        self._keys[event.key] = self._identities[identity] = event.line
        if self.first_line is None:
            self.first_line = event.line
        for _, actor in participants:
            self._entities(actor.entities)
        fact = {"id": local_id(f"e-{event.key}"), "type": event.plan.fact_type, **event.fact}
        if event.place is not None:
            self._entities([event.place])
            fact["place"] = event.place["id"]
        fact["participants"] = [{"entity": actor.id, "role": role} for role, actor in participants]
        self.facts.append(fact)

    def _entities(self, entities: Iterable[dict[str, Any]]) -> None:
        for entity in entities:
            self.entities.setdefault(entity["id"], entity)

    def to_dict(self) -> dict[str, Any]:
        """The facts document (a dict in the facts format, docs/facts.md)."""
        return {
            "format_version": "1.0",
            "document": self.document,
            "extraction": self.extraction,
            "entities": list(self.entities.values()),
            "facts": self.facts,
        }


_LOCAL_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def local_id(text: str) -> str:
    """A local id (letters, digits, '.', '_', ':' and '-'; 128 characters at most)."""
    if _LOCAL_ID.fullmatch(text):
        return text  # already one: most ids are (a code, a number, an ISO code)
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._:-") else "-" for c in text)
    return cleaned[:128]
