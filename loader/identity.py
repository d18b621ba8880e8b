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

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping

from diplograph.loader.coreference import anchors, overlapping
from diplograph.loader.curation import SAME, Curation
from diplograph.loader.iris import IriMinter, slug
from diplograph.loader.mentions import EventMention, Mention, Ref, smallest_qid

__all__ = ["GroupKey", "Identities", "Mention", "MentionIndex"]

#: The group of an event report: its type and its (role, participant node) pairs, sorted.
GroupKey = tuple[str, tuple[tuple[str, str], ...]]


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
    """The key of every mention, from the set of all mentions and the curators' statements, and
    the node of every event report (loader/coreference.py), from the set of all reports.

    ``minter`` tells which IRI a curation statement's node answers to. The result does not
    depend on the order of ``all_mentions`` and ``events`` (they are sets) nor of
    ``curations``.
    """

    def __init__(
        self,
        all_mentions: Iterable[Mention],
        curations: Iterable[Curation] = (),
        *,
        minter: IriMinter | None = None,
        events: Iterable[EventMention] = (),
    ) -> None:
        self._keys: dict[Mention, str] = {}
        self._curations = tuple(sorted(set(curations)))
        self._prefix = minter.ids() if minter is not None else ""
        self._minter = minter
        #: the identities these were computed from by :meth:`updated` (None: from scratch)
        self.base: Identities | None = None
        #: the mentions and reports whose key was computed anew from ``base``
        self.recomputed: frozenset[Mention] = frozenset()
        self.recomputed_events: frozenset[EventMention] = frozenset()
        self._assign(all_mentions)
        #: the node time key of each report whose node is not its own (739 of the 400,773
        #: reports of the 100k store): held for every report, they were 71 MB at 100k
        self._events: dict[EventMention, tuple[str, ...]] = {}
        #: the event groups these identities computed: all of them, or those :meth:`updated`
        #: changed (an empty set for a group no report is in any more)
        self.event_groups: dict[GroupKey, set[EventMention]] = {}
        self._assign_events(self._grouped(events))

    @classmethod
    def restored(
        cls,
        keys: Mapping[Mention, str],
        curations: Iterable[Curation],
        *,
        minter: IriMinter,
        events: Iterable[EventMention],
        nodes: Mapping[EventMention, tuple[str, ...]],
    ) -> Identities:
        """The identities that ``Identities(mentions, curations, minter=minter,
        events=events)`` computed once, given back: ``keys`` of every mention and the node
        time keys ``nodes`` of the reports whose node is not their own. The claims file keeps
        them (loader/claims_cache.py): deciding every event group again took 2.3 s of the
        8.9 s a process spent reading the 100k store's claims."""
        restored = cls.__new__(cls)
        restored._keys = dict(keys)
        restored._curations = tuple(sorted(set(curations)))
        restored._prefix = minter.ids()
        restored._minter = minter
        restored.base = None
        restored.recomputed = frozenset()
        restored.recomputed_events = frozenset()
        restored._events = {r: node for r, node in nodes.items() if node != r.time_key}
        restored.event_groups = restored._grouped(events)
        return restored

    def _grouped(self, events: Iterable[EventMention]) -> dict[GroupKey, set[EventMention]]:
        """``events`` by :meth:`group`, computed once per type and list of participants: the
        reports of one event share one list (400,773 reports and 64,680 lists at 100k).
        Lists are told apart by identity, as hashing a tuple of tuples walks it every time;
        each is held by its reports for as long as this runs."""
        keys: dict[tuple[str, int], GroupKey] = {}
        groups: dict[GroupKey, set[EventMention]] = defaultdict(set)
        for report in events:
            said = (report.type, id(report.participants))
            key = keys.get(said)
            if key is None:
                key = keys[said] = self.group(report)
            groups[key].add(report)
        return dict(groups)

    def event_nodes(self) -> dict[EventMention, tuple[str, ...]]:
        """The node time key of each report whose node is not its own (:meth:`restored`)."""
        return dict(self._events)

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
        over the whole set gives (tests/test_identity.py checks both ways agree). Event
        reports keep their nodes; :meth:`with_events` changes them."""
        after = Identities.__new__(Identities)
        after._curations = self._curations
        after._prefix = self._prefix
        after._minter = self._minter
        after._keys = dict(self._keys)
        for mention in gone:
            after._keys.pop(mention, None)
        members = set(component)
        after._assign(members)
        after.base = self
        after.recomputed = frozenset(members) | frozenset(gone)
        after.recomputed_events = frozenset()
        after._events = self._events
        after.event_groups = {}
        return after

    def with_events(
        self,
        groups: Mapping[GroupKey, set[EventMention]],
        gone: Iterable[EventMention],
        touched: Mapping[GroupKey, Collection[EventMention]] | None = None,
    ) -> Identities:
        """These identities with the event groups ``groups`` (each with all its reports, as
        :meth:`group` keys them here) computed again, and the reports ``gone`` removed.

        ``touched`` gives, by group, the reports that joined or left it since these identities
        (with this group's reports otherwise unchanged); only the parts of the group they
        overlap are decided again (:func:`~loader.coreference.overlapping`). Without it, every
        group is decided whole."""
        after = Identities.__new__(Identities)
        after.__dict__.update(self.__dict__)
        if self.base is None:  # changing events alone: no mention was computed again
            after.base = self
            after.recomputed = frozenset()
        after._events = dict(self._events)
        for report in gone:
            after._events.pop(report, None)
        after.event_groups = {}
        decided = after._assign_events(groups, touched)
        after.recomputed_events = frozenset(decided) | frozenset(gone)
        return after

    def group(self, report: EventMention) -> GroupKey:
        """The group of an event report: its type and its participants' nodes."""
        return (
            report.type,
            tuple(sorted((role, self.node(ref)) for role, ref in report.participants)),
        )

    def node(self, ref: Ref) -> str:
        """The path under ``id/`` of the node a participant or place is (``person/Q100``)."""
        if ref.mention is None:
            return ref.fixed
        return f"{ref.mention.kind}/{self.key(ref.mention)}"

    def event_time(self, report: EventMention) -> tuple[str, ...]:
        """The time key of the node of an event report (its own when not known)."""
        return self._events.get(report, report.time_key)

    def moved_events(self, before: Identities) -> set[EventMention]:
        """The event reports whose node differs from their node in ``before``: another time
        key, or another group (a participant's node moved)."""
        if self is before:
            return set()
        # Identities derived from ``before`` computed again every report that can have moved
        # (loader/reconcile.py puts the reports of moved participants in the groups it gives).
        # Otherwise these were computed from scratch, and their groups hold every report
        # (a report missing from them is one that left, whose document the change replaces).
        if self.base is not before:
            reports = {*self._events, *before._events}
            for members in (*self.event_groups.values(), *before.event_groups.values()):
                reports.update(members)
            return {
                r
                for r in reports
                if self.event_time(r) != before.event_time(r) or self.group(r) != before.group(r)
            }
        # A report changes group only when a participant's (or its place's) node moved.
        moved = self.moved(before)
        return {
            r
            for r in self.recomputed_events
            if self.event_time(r) != before.event_time(r)
            or (moved and not moved.isdisjoint(r.cited()))
        }

    def _assign_events(
        self,
        groups: Mapping[GroupKey, set[EventMention]],
        touched: Mapping[GroupKey, Collection[EventMention]] | None = None,
    ) -> list[EventMention]:
        """Decide the node of the reports of ``groups`` (the parts ``touched`` overlaps, when
        given); return the reports decided."""

        def place(report: EventMention) -> str | None:
            return None if report.place is None else self.node(report.place)

        events = f"{self._prefix}event/"
        same = {
            frozenset((c.first, c.second))
            for c in self._curations
            if c.verdict == SAME and c.first.startswith(events)
        }
        different = {
            frozenset((c.first, c.second))
            for c in self._curations
            if c.verdict != SAME and c.first.startswith(events)
        }
        minter = self._minter if (same or different) else None
        decided: list[EventMention] = []
        for key, members in groups.items():
            self.event_groups[key] = set(members)
            iri = None
            if minter is not None:
                pairs = [(role, self._prefix + node) for role, node in key[1]]
                iri = functools.partial(minter.event, key[0], pairs)
            # A curated "same" joins nodes across the runs of a group: decide it whole then.
            if touched is None or same:
                parts: list[Collection[EventMention]] = [members]
            else:
                parts = list(overlapping(members, touched.get(key, members))[0])
            for part in parts:
                nodes = anchors(part, place, iri=iri, same=same, different=different)
                for report, node in nodes.items():
                    if node == report.time_key:
                        self._events.pop(report, None)
                    else:
                        self._events[report] = node
                decided.extend(part)
        return decided

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
            qid = smallest_qid([q for m in group for q in m.wikidata()])
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
