"""What a document says of who and what it is about: its mentions of entities and its event
reports, in a form that does not depend on other documents (loader/identity.py decides which node
each is, over all documents; loader/coreference.py which event node each report is).

A :class:`Mention` is how one document identifies one entity: its kind, its name and aliases as
:func:`~diplograph.loader.iris.slug` keys, and its strong identifiers. A :class:`Ref` points at a
participant: a mention, or a node the gazetteer fixes (a state, the government of a state). An
:class:`EventMention` is one report of an event: its type, its participants and place as refs,
and its time as the document gives it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, NamedTuple, TypeVar

from diplograph.loader.errors import FactsError, Location
from diplograph.loader.facts import EntityType, FactsDocument
from diplograph.loader.facts.identifiers import ISO3166
from diplograph.loader.gazetteer import identify_state
from diplograph.loader.iris import ENTITY_KIND, SITUATION_TYPES, slug

__all__ = [
    "WIKIDATA",
    "Claims",
    "EventMention",
    "Mention",
    "Ref",
    "claims",
    "kept_claims",
    "publisher_mention",
    "smallest_qid",
]

_T = TypeVar("_T")
_V = TypeVar("_V", bound=tuple[Any, ...])

#: The scheme of Wikidata ids among a mention's identifiers.
WIKIDATA = "wikidata"


def _hash_once(self: Any) -> int:
    # Mentions and reports are dict and set keys at every step of the identities, and a
    # report's hash walks a tree of tuples: computed once per object (measured: 11M hash
    # calls, a tenth of a 10k-document load, before it was kept), from the values its class
    # hashes (``_hashed``). 0 means "not yet".
    cached: int = self._hash
    if not cached:
        cached = hash(self._hashed())
        object.__setattr__(self, "_hash", cached)
    return cached


def _compared_values(self: Any) -> tuple[Any, ...]:
    # What a value is compared by: what it pickles as (a string's hash differs between
    # processes, so a pickled object computes its own again) and, for most, what it hashes.
    return tuple(getattr(self, name) for name in self._compared)


def _report_key(self: EventMention) -> tuple[Any, ...]:
    # A report hashes by its type, time, document and first participant alone: equal reports
    # have equal ones, and the 396,873 reports of the 100k store still have as many hashes.
    # Hashing every participant and the place (tuples of refs, each a tree of tuples) took
    # 1.04 s of the read of those reports into a set, against 0.37 s so.
    return (self.type, self.time_key, self.document, self.participants[:1])


def _set_state(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(self._compared, state, strict=True):
        object.__setattr__(self, name, value)
    object.__setattr__(self, "_hash", 0)


def _hash_slot() -> Any:
    # The cached hash: a slot, not a field that compares, prints or is passed in.
    return field(default=0, init=False, repr=False, compare=False)


def _compared_fields(cls: type[_T]) -> type[_T]:
    # The fields a value is compared and hashed by: every field but the cached hash.
    cls._compared = tuple(f.name for f in fields(cls) if f.compare)  # type: ignore[attr-defined,arg-type]
    return cls


# The classes below have slots: a store's every mention and report is held in memory
# (loader/reconcile.py), and a per-object dict was a fifth of that memory.


@_compared_fields
@dataclass(frozen=True, order=True, slots=True)
class Mention:
    """How one document identifies one entity: its kind, its name keys and its identifiers."""

    __hash__ = _hash_once
    __getstate__ = _compared_values
    __setstate__ = _set_state
    _hashed = _compared_values

    #: the IRI path of the node (``person``, ``org``, ``place``, ``post``)
    kind: str
    #: normalized names (:func:`slug`), the entity's name first, then its aliases
    names: tuple[str, ...]
    #: strong identifiers as ``scheme:value`` (``wikidata:Q22``, ``acled:1234``), sorted
    ids: tuple[str, ...] = ()
    _hash: int = _hash_slot()
    _compared: ClassVar[tuple[str, ...]]

    @property
    def name(self) -> str:
        """The key of the entity's own name."""
        return self.names[0]

    def wikidata(self) -> list[str]:
        """The Wikidata ids among the identifiers."""
        return [i.split(":", 1)[1] for i in self.ids if i.startswith(WIKIDATA + ":")]

    def own_key(self) -> str:
        """The key the mention has in a document alone: its Wikidata id, else its name."""
        return smallest_qid(self.wikidata()) or self.name

    def answers(self) -> set[str]:
        """The keys whose IRIs a curation statement may name this mention by: its own key, its
        Wikidata ids, and its name with one of its identifiers appended (rule 4)."""
        keys = {self.own_key(), *self.wikidata()}
        if self.ids and not self.wikidata():
            keys.update(f"{self.name}-{slug(ident)}" for ident in self.ids)
        return keys

    def tokens(self) -> list[tuple[str, str, str]]:
        """What links the mention to others of its kind: identifiers, names, curated keys."""
        return [
            *((self.kind, "id", i) for i in self.ids),
            *((self.kind, "name", n) for n in self.names),
            *((self.kind, "key", k) for k in self.answers()),
        ]


def publisher_mention(name: str) -> Mention:
    """The mention a document's publisher makes: an organization known by its name."""
    return Mention("org", (slug(name),))


def _mention(
    entity_type: str,
    name: str,
    aliases: Iterable[str],
    wikidata: str | None,
    identifiers: Mapping[str, str],
    governs_a_state: bool,
) -> Mention | None:
    if entity_type == EntityType.State.value:
        return None
    if entity_type == EntityType.Government.value and governs_a_state:
        return None
    names = [slug(name)]
    names += [k for k in (slug(a) for a in aliases) if k not in names]
    ids = {f"{scheme}:{value}" for scheme, value in identifiers.items()}
    if wikidata:
        ids.add(f"{WIKIDATA}:{wikidata}")
    return Mention(ENTITY_KIND[entity_type], tuple(names), tuple(sorted(ids)))


def smallest_qid(qids: Iterable[str]) -> str | None:
    """The smallest of Wikidata ids (shortest, then lowest: ``Q100`` before ``Q1000``)."""
    found = sorted(set(qids), key=lambda q: (len(q), q))
    return found[0] if found else None


@_compared_fields
@dataclass(frozen=True, order=True, slots=True)
class Ref:
    """A participant or place of an event report: a node the gazetteer fixes (``fixed``, its
    path under ``id/``: ``state/Q148``, ``org/government-of-Q148``), or an entity ``mention``
    whose node the identities decide."""

    __hash__ = _hash_once
    __getstate__ = _compared_values
    __setstate__ = _set_state
    _hashed = _compared_values

    fixed: str = ""
    mention: Mention | None = None
    _hash: int = _hash_slot()
    _compared: ClassVar[tuple[str, ...]]


@_compared_fields
@dataclass(frozen=True, order=True, slots=True)
class EventMention:
    """One document's report of one event, as the document gives it."""

    __hash__ = _hash_once
    __getstate__ = _compared_values
    __setstate__ = _set_state
    _hashed = _report_key

    type: str
    #: (role, participant) pairs, sorted
    participants: tuple[tuple[str, Ref], ...]
    place: Ref | None
    #: start, earliest, latest ("" when not given); () for an undated report
    time_key: tuple[str, ...]
    #: the id of the document that makes the report: two reports of one document are two facts
    #: the document states, never joined into one node (loader/coreference.py)
    document: str = ""
    _hash: int = _hash_slot()
    _compared: ClassVar[tuple[str, ...]]

    def cited(self) -> set[Mention]:
        """The entity mentions the report's participants and place are."""
        refs = [ref for _, ref in self.participants]
        if self.place is not None:
            refs.append(self.place)
        return {ref.mention for ref in refs if ref.mention is not None}


@dataclass(frozen=True)
class Claims:
    """Everything a document says of identity: its entity mentions, its event reports, and the
    ref of each of its entities (by entity id), which the mapping uses."""

    entities: frozenset[Mention]
    events: frozenset[EventMention]
    refs: Mapping[str, Ref]
    #: the report each event fact of the document makes, by fact id
    reports: Mapping[str, EventMention]


def claims(doc: FactsDocument, *, source: str | None = None, line: int | None = None) -> Claims:
    """The claims of a facts document. Raises the gazetteer's
    :class:`~diplograph.loader.errors.FactsError` for state identifiers it refuses, at the
    record and field the mapping names (``source`` and ``line`` locate the document)."""
    entities = [
        _Entity(
            e.id,
            e.type.value,
            e.name,
            tuple(e.aliases),
            e.wikidata,
            tuple(sorted(e.identifiers.items())),
            e.governs,
        )
        for e in doc.entities
    ]
    facts = [
        _Fact(
            f.id,
            f.type.value,
            tuple((p.entity, p.role.value) for p in f.participants),
            f.place,
            (f.time.start or "", f.time.earliest or "", f.time.latest or "") if f.time else (),
        )
        for f in doc.facts
    ]
    return _claims(doc.document.id, doc.document.publisher, entities, facts, source, line)


def kept_claims(data: Mapping[str, Any]) -> Claims:
    """:func:`claims` of a document in the JSON form the loader keeps (a valid document, dumped
    by its model without unset fields): about four times faster than validating it again,
    which matters when a store's thousands of kept documents are read (loader/reconcile.py).
    tests/test_identity.py checks that both give the same claims."""
    document = data["document"]
    entities = [
        _Entity(
            e["id"],
            e["type"],
            e["name"],
            tuple(e.get("aliases", ())),
            e.get("wikidata"),
            tuple(sorted(e.get("identifiers", {}).items())),
            e.get("governs"),
        )
        for e in data.get("entities", ())
    ]
    facts = []
    for f in data.get("facts", ()):
        t = f.get("time")
        facts.append(
            _Fact(
                f["id"],
                f["type"],
                tuple((p["entity"], p["role"]) for p in f.get("participants", ())),
                f.get("place"),
                (t.get("start") or "", t.get("earliest") or "", t.get("latest") or "") if t else (),
            )
        )
    return _claims(document["id"], document.get("publisher"), entities, facts, None, None)


class _Entity(NamedTuple):
    id: str
    type: str
    name: str
    aliases: tuple[str, ...]
    wikidata: str | None
    identifiers: tuple[tuple[str, str], ...]
    governs: str | None


class _Fact(NamedTuple):
    id: str
    type: str
    participants: tuple[tuple[str, str], ...]  # (entity id, role)
    place: str | None
    time_key: tuple[str, ...]


@functools.lru_cache(maxsize=65536)
def _shared_ref(fixed: str, mention: Mention | None) -> Ref:
    # One object for the refs of every document that names the same node: a store's reports
    # are all held in memory (loader/reconcile.py), and most name the same few nodes.
    return Ref(fixed=fixed, mention=mention)


def _claims(
    document_id: str,
    publisher: str | None,
    entities: list[_Entity],
    facts: list[_Fact],
    source: str | None,
    line: int | None,
) -> Claims:
    state = EntityType.State.value
    states = {e.id for e in entities if e.type == state}
    state_keys = {
        e.id: _state_key(e, Location(source, line, f"{document_id}#{e.id}", f"entities[{i}]"))
        for i, e in enumerate(entities)
        if e.type == state
    }
    refs: dict[str, Ref] = {}
    for e in entities:
        mention = _cached_mention(
            e.type, e.name, e.aliases, e.wikidata, e.identifiers, e.governs in states
        )
        if mention is not None:
            refs[e.id] = _shared_ref("", mention)
        elif e.type == state:
            refs[e.id] = _shared_ref(f"state/{state_keys[e.id]}", None)
        else:  # the government of a state of the document
            assert e.governs is not None
            refs[e.id] = _shared_ref(f"org/government-of-{state_keys[e.governs]}", None)
    mentions_ = {r.mention for r in refs.values() if r.mention is not None}
    if publisher:
        mentions_.add(publisher_mention(publisher))
    reports: dict[str, EventMention] = {}
    for f in facts:
        if f.type == "PostHolding" or f.type in SITUATION_TYPES:
            continue
        reports[f.id] = EventMention(
            sys.intern(f.type),
            _shared(tuple(sorted((role, refs[entity]) for entity, role in f.participants))),
            refs[f.place] if f.place else None,
            _shared(f.time_key),
            document_id,
        )
    return Claims(frozenset(mentions_), frozenset(reports.values()), refs, reports)


@functools.lru_cache(maxsize=65536)
def _shared(value: _V) -> _V:
    # One object for equal participant lists and time keys of reports: the reports of one
    # event share them, and a store's reports are all held in memory (loader/reconcile.py).
    return value


@functools.lru_cache(maxsize=65536)
def _cached_mention(
    entity_type: str,
    name: str,
    aliases: tuple[str, ...],
    wikidata: str | None,
    identifiers: tuple[tuple[str, str], ...],
    governs_a_state: bool,
) -> Mention | None:
    # Stores name the same entities in thousands of documents: one mention each, made once.
    return _mention(entity_type, name, aliases, wikidata, dict(identifiers), governs_a_state)


def _state_key(entity: _Entity, where: Location) -> str:
    """The key of a state's node, as the mapping makes it (docs/mapping.md, "Identity of
    states")."""
    names = (entity.name, *entity.aliases)
    iso = dict(entity.identifiers).get(ISO3166)
    try:
        return _cached_state_key(entity.wikidata, iso, names)
    except FactsError:  # again, to raise it where the document has the identifier
        at = Location(
            where.source, where.line, where.record, f"{where.field}.identifiers.{ISO3166}"
        )
        identify_state(entity.wikidata, iso, names, at)
        raise


@functools.lru_cache(maxsize=65536)
def _cached_state_key(wikidata: str | None, iso: str | None, names: tuple[str, ...]) -> str:
    state = identify_state(wikidata, iso, names)
    if state is not None:
        return state.wikidata
    return wikidata or slug(names[0])
