"""Keeping every document mapped with the identities of the whole store (loader/identity.py).

Each document's graph keeps the facts document it was mapped from, as
``<document> dip:extractedFacts "…JSON…"``, so that it can be mapped again. A :class:`Reconciler`
reads the kept documents of a store once, holds each one's mentions, and answers two questions
for a change (documents loaded, replaced or retracted; curation statements changed):

* which :class:`~loader.identity.Identities` hold after the change, to map the new documents
  with (:meth:`Reconciler.identities`);
* which stored documents must be mapped again because a mention of theirs changes node
  (:meth:`Reconciler.remapped`); the caller commits them in the same transaction as the change,
  so the store never shows a half-reconciled graph.

Identities are a function of the set of mentions, so the graph after any sequence of loads and
retractions is the graph a single load of the remaining documents gives (tests/test_identity.py).

A re-mapped document is not validated again: it holds the same triples as before, with some
entity IRIs replaced by other IRIs of the same kind (a person by a person), and the shapes
constrain a linked node by its kind, which does not change.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from pyoxigraph import Literal, NamedNode, QuerySolutions, Triple

from diplograph.loader.curation import Curation, curations
from diplograph.loader.facts import FactsDocument
from diplograph.loader.identity import GroupKey, Identities, MentionIndex
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.mentions import Claims, EventMention, Mention, kept_claims
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = ["EXTRACTED_FACTS", "Reconciler", "facts_record"]

log = logging.getLogger(__name__)

_NOTHING: Mapping[str, Any] = MappingProxyType({})

#: The property that keeps a document's facts (JSON) in its graph.
EXTRACTED_FACTS = DIP + "extractedFacts"


def facts_record(graph: str, doc: FactsDocument) -> Triple:
    """The triple that keeps ``doc`` in its graph ``graph``: the document as its model dumps it
    (valid, normalized, without the fields that have their default value: a quarter smaller),
    so that it maps again to the same triples."""
    text = doc.model_dump_json(exclude_defaults=True)
    return Triple(NamedNode(graph), NamedNode(EXTRACTED_FACTS), Literal(text))


class Reconciler:
    """The claims of every document of a store, and what a change does to them.

    Reads the store on first use; :meth:`committed` keeps it in step with the changes the
    caller commits. :meth:`of` gives the one of a store, kept between writers as long as
    nothing else wrote to the store (its :attr:`~loader.store.Store.generation`): reading the
    kept facts of 1,000 documents takes about a second.
    """

    @classmethod
    def of(
        cls, store: Store, minter: IriMinter, superclasses: Mapping[str, frozenset[str]]
    ) -> Reconciler:
        """The reconciler of ``store``: the last one, if it saw every write since it read the
        store, else a new one."""
        cached = _CACHE.get(store)
        if (
            cached is not None
            and store.generation is not None
            and cached._generation == store.generation
            and cached.minter.base == minter.base
        ):
            return cached
        fresh = cls(store, minter, superclasses)
        if store.generation is not None:
            _CACHE[store] = fresh
        return fresh

    def __init__(
        self, store: Store, minter: IriMinter, superclasses: Mapping[str, frozenset[str]]
    ) -> None:
        self.store = store
        self.minter = minter
        self.superclasses = superclasses
        self._by_graph: dict[str, Claims] | None = None
        self._graphs_of: dict[Mention, set[str]] = defaultdict(set)
        self._index = MentionIndex()
        self._reports_of: dict[EventMention, set[str]] = defaultdict(set)
        self._citing: dict[Mention, set[EventMention]] = defaultdict(set)
        self._groups: dict[GroupKey, set[EventMention]] = {}
        self._current: Identities | None = None
        #: the store's generation this reconciler is in step with (None: not read yet)
        self._generation: int | None = None

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> dict[str, Claims]:
        if self._by_graph is not None:
            return self._by_graph
        self._generation = self.store.generation
        prefix = self.minter.documents()
        result = self.store.query(
            f"SELECT ?g ?facts WHERE {{ GRAPH ?g {{ ?g <{EXTRACTED_FACTS}> ?facts }} "
            f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
        )
        assert isinstance(result, QuerySolutions)
        self._by_graph = {}
        for row in result:
            said = kept_claims(json.loads(row["facts"].value))
            self._add(row["g"].value, said)
        records = curations(self.store, self.minter.curation_graph())
        self._current = Identities(
            self._index, records, minter=self.minter, events=self._reports_of
        )
        self._groups = dict(self._current.event_groups)
        return self._by_graph

    def _add(self, graph: str, said: Claims) -> None:
        assert self._by_graph is not None
        # Only a document's mentions and reports are asked of it later: its refs and reports by
        # fact id are not kept (2.8 of 7.1 KB a document, a store's every document in memory).
        self._by_graph[graph] = Claims(said.entities, said.events, _NOTHING, _NOTHING)
        for mention in said.entities:
            self._graphs_of[mention].add(graph)
            self._index.add(mention)
        for report in said.events:
            self._reports_of[report].add(graph)
            for mention in report.cited():
                self._citing[mention].add(report)

    def _remove(self, graph: str) -> None:
        assert self._by_graph is not None
        said = self._by_graph.pop(graph, None)
        if said is None:
            return
        for mention in said.entities:
            graphs = self._graphs_of[mention]
            graphs.discard(graph)
            if not graphs:
                del self._graphs_of[mention]
                self._index.discard(mention)
        for report in said.events:
            graphs = self._reports_of[report]
            graphs.discard(graph)
            if not graphs:
                del self._reports_of[report]
                for mention in report.cited():
                    self._citing[mention].discard(report)
                    if not self._citing[mention]:
                        del self._citing[mention]

    def current(self) -> Identities:
        """The identities of the store as it is."""
        self._read()
        assert self._current is not None
        return self._current

    # -- a change --------------------------------------------------------------------------

    def identities(
        self,
        changed: Mapping[str, Claims | None],
        curation: Sequence[Curation] | None = None,
    ) -> Identities:
        """The identities once the documents of ``changed`` (graph → its new claims, None for a
        document removed) are in place, and the curation statements are ``curation`` (when
        given)."""
        by_graph = self._read()
        current = self.current()
        outside = changed.keys()
        coming = {m for said in changed.values() if said for m in said.entities}
        added = {m for m in coming if m not in self._index}
        # a mention (a report) leaves when no document outside the change makes it any more
        leaving = {
            m
            for graph in changed
            for m in (by_graph[graph].entities if graph in by_graph else ())
            if m not in coming and not (self._graphs_of[m] - outside)
        }
        reports = {r for said in changed.values() if said for r in said.events}
        added_reports = {r for r in reports if r not in self._reports_of}
        leaving_reports = {
            r
            for graph in changed
            for r in (by_graph[graph].events if graph in by_graph else ())
            if r not in reports and not (self._reports_of[r] - outside)
        }
        if curation is not None:  # rare: everything is computed again
            return Identities(
                (set(self._index) - leaving) | added,
                curation,
                minter=self.minter,
                events=(set(self._reports_of) - leaving_reports) | added_reports,
            )
        if not (added or leaving or added_reports or leaving_reports):
            return current  # the same claims: the same identities
        entities = current
        if added or leaving:
            component = self._index.component(
                added | leaving,
                added=MentionIndex(added),
                removed=leaving,
                curations=current.curations(),
                prefix=current.prefix(),
            )
            entities = current.updated(component, leaving)
        # Reports whose participants or place moved change group; so do the groups that
        # reports join or leave. Those groups are computed again, each whole.
        moved = entities.moved(current)
        regrouped = {r for m in moved for r in self._citing.get(m, ())} - leaving_reports
        keys = {current.group(r) for r in leaving_reports | regrouped}
        keys |= {entities.group(r) for r in added_reports | regrouped}
        groups: dict[GroupKey, set[EventMention]] = {
            key: self._groups.get(key, set()) - leaving_reports - regrouped for key in keys
        }
        # what joined or left each group: only the parts of a group these overlap are
        # decided again (loader/coreference.py, overlapping)
        touched: dict[GroupKey, set[EventMention]] = defaultdict(set)
        for report in leaving_reports | regrouped:
            touched[current.group(report)].add(report)
        for report in added_reports | regrouped:
            groups[entities.group(report)].add(report)
            touched[entities.group(report)].add(report)
        return entities.with_events(groups, leaving_reports, touched)

    def remapped(
        self, before: Identities, after: Identities, *, skip: Iterable[str] = ()
    ) -> list[MappedDocument]:
        """The stored documents (but those of ``skip``) that ``after`` maps otherwise than
        ``before``, mapped again with ``after``."""
        self._read()
        graphs: set[str] = set()
        for mention in after.moved(before):
            graphs.update(self._graphs_of.get(mention, ()))
        for report in after.moved_events(before):
            graphs.update(self._reports_of.get(report, ()))
        graphs -= set(skip)
        return [self._remap(graph, after) for graph in sorted(graphs)]

    def _remap(self, graph: str, identities: Identities) -> MappedDocument:
        kept = self.store.query(
            f"SELECT ?facts WHERE {{ GRAPH <{graph}> {{ <{graph}> <{EXTRACTED_FACTS}> ?facts }} }}"
        )
        assert isinstance(kept, QuerySolutions)
        text = next(iter(kept))["facts"].value
        doc = FactsDocument.model_validate_json(text)
        mapped = map_document(doc, self.minter, self.superclasses, identities=identities)
        mapped.kept.append(facts_record(graph, doc))
        log.info("mapping %s again: a mention or report of it changed node", graph)
        return mapped

    def committed(self, changed: Mapping[str, Claims | None], identities: Identities) -> None:
        """Record that the change (as given to :meth:`identities`) is committed, with the
        identities it gave."""
        self._read()
        for graph, said in changed.items():
            self._remove(graph)
            if said is not None:
                self._add(graph, said)
        if identities.base is None:  # computed from scratch: every group
            self._groups = dict(identities.event_groups)
        else:
            for key, members in identities.event_groups.items():
                if members:
                    self._groups[key] = members
                else:
                    self._groups.pop(key, None)
        identities.base = None  # the chain of earlier identities is not needed any more
        self._current = identities
        self._generation = self.store.generation  # the commit was the last write


#: The reconciler of each open store (:meth:`Reconciler.of`).
_CACHE: weakref.WeakKeyDictionary[Store, Reconciler] = weakref.WeakKeyDictionary()
