"""Which node an entity mention is, decided over every document in the store (docs/mapping.md,
"Identity across documents").

A document names an entity by a name and, sometimes, strong identifiers (a Wikidata id, an event
dataset's actor code). What one document says is a :class:`Mention`. Which node each mention
becomes is a pure function of the *set* of mentions of all stored documents and the curators'
statements (:class:`Identities`), so the graph does not depend on the order documents arrive in,
and retracting a document undoes exactly the joins it caused: its mentions leave the set.

The rules, per kind of node (``person``, ``org``, ``place``, ``post``):

1. Mentions that share a strong identifier are one entity (union-find over identifiers).
2. A curator's "same" joins the entities the two IRIs answer to; "different" keeps a name-only
   mention out of the entity named by the other IRI.
3. A mention with a name only joins the one entity with identifiers that has that name (as its
   name or an alias; names compared as :func:`~diplograph.loader.iris.slug` keys), when exactly
   one does. The name-only mention's own aliases do not count: "Wang" is too weak a key.
   When two do (two people can share a name), it stays a node of its own, keyed by its name, and
   ``diplograph check`` reports it as a candidate duplicate of both.
4. The key of an entity (the last segment of its IRI) is its smallest Wikidata id; without one,
   its name, with the smallest identifier appended when another entity with identifiers has the
   same name (so two same-named militias with different ACLED codes stay two nodes); name-only
   mentions that join nothing are keyed by their name, as a document alone would key them.

States (the gazetteer) and the governments of states are not mentions: their node is fixed by
the gazetteer whatever other documents say (loader/gazetteer/).

A document is mapped with the :class:`Identities` of the store it goes into; when a load, a
retraction or a curation changes the key of some mention, the documents that made that mention
are mapped again in the same commit (loader/reconcile.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from diplograph.loader.curation import SAME, Curation
from diplograph.loader.facts import Entity, EntityType, FactsDocument
from diplograph.loader.iris import ENTITY_KIND, IriMinter, slug

__all__ = [
    "WIKIDATA",
    "Identities",
    "Mention",
    "MentionIndex",
    "entity_mention",
    "mentions",
    "publisher_mention",
    "record_mentions",
]

#: The scheme of Wikidata ids among a mention's identifiers.
WIKIDATA = "wikidata"


@dataclass(frozen=True, order=True)
class Mention:
    """How one document identifies one entity: its kind, its name keys and its identifiers."""

    #: the IRI path of the node (``person``, ``org``, ``place``, ``post``)
    kind: str
    #: normalized names (:func:`slug`), the entity's name first, then its aliases
    names: tuple[str, ...]
    #: strong identifiers as ``scheme:value`` (``wikidata:Q22``, ``acled:1234``), sorted
    ids: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The key of the entity's own name."""
        return self.names[0]

    def wikidata(self) -> list[str]:
        """The Wikidata ids among the identifiers."""
        return [i.split(":", 1)[1] for i in self.ids if i.startswith(WIKIDATA + ":")]

    def own_key(self) -> str:
        """The key the mention has in a document alone: its Wikidata id, else its name."""
        return _smallest_qid(self.wikidata()) or self.name

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


def entity_mention(entity: Entity, states: Collection[str] = ()) -> Mention | None:
    """The mention an entity of a facts document makes, or None for a state or for the
    government of one of the document's states (``states``: their ids); their node is the
    gazetteer's (see the module docstring)."""
    return _mention(
        entity.type.value,
        entity.name,
        entity.aliases,
        entity.wikidata,
        entity.identifiers,
        entity.governs is not None and entity.governs in states,
    )


def publisher_mention(name: str) -> Mention:
    """The mention a document's publisher makes: an organization known by its name."""
    return Mention("org", (slug(name),))


def mentions(doc: FactsDocument) -> frozenset[Mention]:
    """Every mention of a facts document (the input of :class:`Identities`)."""
    states = {e.id for e in doc.entities if e.type is EntityType.State}
    found = {m for m in (entity_mention(e, states) for e in doc.entities) if m is not None}
    if doc.document.publisher:
        found.add(publisher_mention(doc.document.publisher))
    return frozenset(found)


def record_mentions(data: Mapping[str, Any]) -> frozenset[Mention]:
    """:func:`mentions` of a facts document in its JSON form as the loader keeps it (a valid
    document, dumped by its model): reading the kept documents of a store this way is about
    four times faster than validating them again."""
    entities = data.get("entities", [])
    states = {e["id"] for e in entities if e["type"] == EntityType.State.value}
    found = set()
    for e in entities:
        mention = _mention(
            e["type"],
            e["name"],
            e.get("aliases", ()),
            e.get("wikidata"),
            e.get("identifiers", {}),
            e.get("governs") is not None and e["governs"] in states,
        )
        if mention is not None:
            found.add(mention)
    publisher = data.get("document", {}).get("publisher")
    if publisher:
        found.add(publisher_mention(publisher))
    return frozenset(found)


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


class MentionIndex:
    """A set of mentions, each findable by what links it to others (:meth:`Mention.tokens`)."""

    def __init__(self, mentions_: Iterable[Mention] = ()) -> None:
        self._by_token: dict[tuple[str, str, str], set[Mention]] = defaultdict(set)
        self._all: set[Mention] = set()
        for mention in mentions_:
            self.add(mention)

    def __contains__(self, mention: object) -> bool:
        return mention in self._all

    def __iter__(self) -> Iterator[Mention]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def add(self, mention: Mention) -> None:
        """Add ``mention`` (no effect when present)."""
        if mention not in self._all:
            self._all.add(mention)
            for token in mention.tokens():
                self._by_token[token].add(mention)

    def discard(self, mention: Mention) -> None:
        """Remove ``mention`` (no effect when absent)."""
        if mention in self._all:
            self._all.discard(mention)
            for token in mention.tokens():
                holders = self._by_token[token]
                holders.discard(mention)
                if not holders:
                    del self._by_token[token]

    def component(
        self,
        seeds: Iterable[Mention],
        *,
        added: MentionIndex | None = None,
        removed: Collection[Mention] = (),
        curations: Iterable[Curation] = (),
        prefix: str = "",
    ) -> set[Mention]:
        """Every mention of the set, changed by ``added`` and ``removed``, linked to one of
        ``seeds`` through shared tokens or a curation statement (the seeds themselves when
        they are in the changed set)."""
        partners: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for record in curations:
            a, b = _kind_key(record.first, prefix), _kind_key(record.second, prefix)
            if a is not None and b is not None:
                partners[a].append(b)
                partners[b].append(a)

        gone = set(removed)

        def holders(token: tuple[str, str, str]) -> set[Mention]:
            found = self._by_token.get(token, set()) - gone
            if added is not None:
                found |= added._by_token.get(token, set())
            return found

        seen: set[Mention] = set()
        queue = list(seeds)
        visited_tokens: set[tuple[str, str, str]] = set()
        while queue:
            mention = queue.pop()
            tokens = mention.tokens()
            for key in mention.answers():
                tokens.extend((k, "key", v) for k, v in partners.get((mention.kind, key), ()))
            for token in tokens:
                if token in visited_tokens:
                    continue
                visited_tokens.add(token)
                for other in holders(token):
                    if other not in seen:
                        seen.add(other)
                        queue.append(other)
        return seen


def _kind_key(iri: str, prefix: str) -> tuple[str, str] | None:
    """``(kind, key)`` of a data IRI ``{prefix}{kind}/{key}``, or None for another IRI."""
    if not iri.startswith(prefix):
        return None
    kind, _, key = iri[len(prefix) :].partition("/")
    return (kind, key) if key else None


class Identities:
    """The key of every mention, from the set of all mentions and the curators' statements.

    ``minter`` tells which IRI a curation statement's node answers to. The result does not
    depend on the order of ``all_mentions`` (it is a set) nor of ``curations``.
    """

    def __init__(
        self,
        all_mentions: Iterable[Mention],
        curations: Iterable[Curation] = (),
        *,
        minter: IriMinter | None = None,
    ) -> None:
        self._keys: dict[Mention, str] = {}
        self._curations = tuple(sorted(set(curations)))
        self._prefix = minter.ids() if minter is not None else ""
        #: the mentions whose key was computed anew from ``base`` (None: all of them)
        self.base: Identities | None = None
        self.recomputed: frozenset[Mention] = frozenset()
        self._assign(all_mentions)

    def _assign(self, mentions_: Iterable[Mention]) -> None:
        by_kind: dict[str, set[Mention]] = defaultdict(set)
        for mention in mentions_:
            by_kind[mention.kind].add(mention)
        for kind, group in by_kind.items():
            self._keys.update(self._resolve(kind, group))

    def updated(self, component: Iterable[Mention], gone: Iterable[Mention]) -> Identities:
        """These identities after a change of the set of mentions: ``gone`` left it, and
        ``component`` is every mention (now in the set) linked to a mention that came or went
        (:meth:`MentionIndex.component`). Only those are computed again: a mention's key
        depends on the mentions it is linked to alone, so the result is the one a computation
        over the whole set gives (tests/test_identity.py checks both ways agree)."""
        after = Identities.__new__(Identities)
        after._curations = self._curations
        after._prefix = self._prefix
        after._keys = dict(self._keys)
        for mention in gone:
            after._keys.pop(mention, None)
        members = set(component)
        after._assign(members)
        after.base = self
        after.recomputed = frozenset(members) | frozenset(gone)
        return after

    def curations(self) -> tuple[Curation, ...]:
        """The curators' statements these identities apply."""
        return self._curations

    def prefix(self) -> str:
        """The namespace of the IRIs curation statements name (``{base}id/``)."""
        return self._prefix

    def moved(self, before: Identities) -> set[Mention]:
        """The mentions whose key differs from their key in ``before``."""
        if self is before:
            return set()
        suspects: Iterable[Mention] = (
            self.recomputed if self.base is before else {*self._keys, *before._keys}
        )
        return {m for m in suspects if self.key(m) != before.key(m)}

    @classmethod
    def alone(cls) -> Identities:
        """The identities of a document on its own: every mention keeps its own key."""
        return cls(())

    def key(self, mention: Mention) -> str:
        """The key of the node ``mention`` is (the mention's own key when it is not known)."""
        return self._keys.get(mention) or mention.own_key()

    def keys(self) -> Mapping[Mention, str]:
        """Every known mention's key."""
        return self._keys

    # -- the rules --------------------------------------------------------------------------

    def _resolve(self, kind: str, group: set[Mention]) -> dict[Mention, str]:
        members = sorted(group)
        parent = list(range(len(members)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(i: int, j: int) -> None:
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)

        # 1. shared strong identifiers
        holder: dict[str, int] = {}
        for i, m in enumerate(members):
            for ident in m.ids:
                if ident in holder:
                    union(i, holder[ident])
                else:
                    holder[ident] = i
        # name-only mentions with the same name are one node, as they are in one document
        by_name_only: dict[str, int] = {}
        for i, m in enumerate(members):
            if not m.ids:
                if m.name in by_name_only:
                    union(i, by_name_only[m.name])
                else:
                    by_name_only[m.name] = i
        # 2. curators: "same" joins what the two IRIs answer to
        answers = self._answering(kind, members)
        for record in self._curations:
            if record.verdict == SAME:
                for i in answers.get(record.first, []):
                    for j in answers.get(record.second, []):
                        union(i, j)
        different = {
            frozenset((find(i), find(j)))
            for record in self._curations
            if record.verdict != SAME
            for i in answers.get(record.first, [])
            for j in answers.get(record.second, [])
        }
        # 3. a name-only entity joins the one entity with identifiers that has its name
        strong_roots = {find(i) for i, m in enumerate(members) if m.ids}
        # An identified entity answers to its names and aliases; a name-only mention asks by
        # its name alone (an alias such as "Wang" is too weak to pick an entity by).
        holders_of_name: dict[str, set[int]] = defaultdict(set)
        asked: dict[int, set[str]] = defaultdict(set)
        for i, m in enumerate(members):
            root = find(i)
            if root in strong_roots:
                for name in m.names:
                    holders_of_name[name].add(root)
            else:
                asked[root].add(m.name)
        joins: list[tuple[int, int]] = []
        for root in sorted(asked):
            candidates: set[int] = set()
            for name in asked[root]:
                candidates |= holders_of_name.get(name, set())
            candidates = {c for c in candidates if frozenset((root, c)) not in different}
            if len(candidates) == 1:
                joins.append((root, candidates.pop()))
        for root, target in joins:
            union(root, target)
        # 4. keys
        clusters: dict[int, list[Mention]] = defaultdict(list)
        for i, m in enumerate(members):
            clusters[find(i)].append(m)
        return self._keys_of(clusters)

    def _answering(self, kind: str, members: list[Mention]) -> dict[str, list[int]]:
        """For each IRI a curation names: the mentions of ``kind`` that answer to it, i.e.
        whose own key, one of whose Wikidata ids, or whose name with one of its identifiers
        appended (rule 4) makes that IRI."""
        if not self._curations:
            return {}
        prefix = f"{self._prefix}{kind}/"
        answers: dict[str, list[int]] = defaultdict(list)
        for i, m in enumerate(members):
            for key in m.answers():
                answers[prefix + key].append(i)
        return answers

    @staticmethod
    def _keys_of(clusters: Mapping[int, list[Mention]]) -> dict[Mention, str]:
        proposed: dict[int, str] = {}
        suffix: dict[int, str] = {}
        for root, group in clusters.items():
            qid = _smallest_qid([q for m in group for q in m.wikidata()])
            if qid:
                proposed[root] = qid
                continue
            identified = [m for m in group if m.ids]
            # the names its identified mentions give: a name-only mention that joins the
            # entity does not rename it
            proposed[root] = min(m.name for m in (identified or group))
            if identified:
                suffix[root] = slug(min(i for m in identified for i in m.ids))
        # Two entities that would have one key: those with identifiers step aside (their
        # smallest identifier appended), the one without keeps the plain name.
        claimed: dict[str, list[int]] = defaultdict(list)
        for root, key in proposed.items():
            claimed[key].append(root)
        keys: dict[Mention, str] = {}
        for root, group in clusters.items():
            key = proposed[root]
            if len(claimed[key]) > 1 and root in suffix:
                key = f"{key}-{suffix[root]}"
            for m in group:
                keys[m] = key
        return keys


def _smallest_qid(qids: Iterable[str]) -> str | None:
    found = sorted(set(qids), key=lambda q: (len(q), q))
    return found[0] if found else None
