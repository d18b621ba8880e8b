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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from pyoxigraph import Literal, NamedNode, QuerySolutions, Triple

from diplograph.loader.curation import Curation, curations
from diplograph.loader.facts import FactsDocument
from diplograph.loader.identity import Identities, Mention, MentionIndex, record_mentions
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = ["EXTRACTED_FACTS", "Reconciler", "facts_record"]

log = logging.getLogger(__name__)

#: The property that keeps a document's facts (JSON) in its graph.
EXTRACTED_FACTS = DIP + "extractedFacts"


def facts_record(graph: str, doc: FactsDocument) -> Triple:
    """The triple that keeps ``doc`` in its graph ``graph``: the document as its model dumps it
    (valid, normalized, without unset optional fields), so that it maps again to the same
    triples."""
    text = doc.model_dump_json(exclude_none=True)
    return Triple(NamedNode(graph), NamedNode(EXTRACTED_FACTS), Literal(text))


class Reconciler:
    """The mentions of every document of a store, and what a change does to them.

    Reads the store on first use; :meth:`committed` keeps it in step with the changes the
    caller commits. One instance serves one writer (a load run, a retraction, a curation).
    """

    def __init__(
        self, store: Store, minter: IriMinter, superclasses: Mapping[str, frozenset[str]]
    ) -> None:
        self.store = store
        self.minter = minter
        self.superclasses = superclasses
        self._by_graph: dict[str, frozenset[Mention]] | None = None
        self._graphs_of: dict[Mention, set[str]] = defaultdict(set)
        self._index = MentionIndex()
        self._current: Identities | None = None

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> dict[str, frozenset[Mention]]:
        if self._by_graph is not None:
            return self._by_graph
        prefix = self.minter.documents()
        result = self.store.query(
            f"SELECT ?g ?facts WHERE {{ GRAPH ?g {{ ?g <{EXTRACTED_FACTS}> ?facts }} "
            f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
        )
        assert isinstance(result, QuerySolutions)
        self._by_graph = {}
        for row in result:
            graph = row["g"].value
            found = record_mentions(json.loads(row["facts"].value))
            self._by_graph[graph] = found
            for mention in found:
                self._graphs_of[mention].add(graph)
                self._index.add(mention)
        records = curations(self.store, self.minter.curation_graph())
        self._current = Identities(self._index, records, minter=self.minter)
        return self._by_graph

    def current(self) -> Identities:
        """The identities of the store as it is."""
        self._read()
        assert self._current is not None
        return self._current

    # -- a change --------------------------------------------------------------------------

    def identities(
        self,
        changed: Mapping[str, frozenset[Mention] | None],
        curation: Sequence[Curation] | None = None,
    ) -> Identities:
        """The identities once the documents of ``changed`` (graph → its new mentions, None for
        a document removed) are in place, and the curation statements are ``curation`` (when
        given)."""
        by_graph = self._read()
        current = self.current()
        coming = {m for found in changed.values() if found for m in found}
        added = {m for m in coming if m not in self._index}
        # a mention leaves when no document outside the change makes it any more
        leaving = {
            m
            for graph in changed
            for m in by_graph.get(graph, ())
            if m not in coming and not (self._graphs_of[m] - changed.keys())
        }
        if curation is not None:  # rare: every key is computed again
            remaining = (set(self._index) - leaving) | added
            return Identities(remaining, curation, minter=self.minter)
        if not added and not leaving:
            return current  # the same set of mentions: the same identities
        component = self._index.component(
            added | leaving,
            added=MentionIndex(added),
            removed=leaving,
            curations=current.curations(),
            prefix=current.prefix(),
        )
        return current.updated(component, leaving)

    def remapped(
        self, before: Identities, after: Identities, *, skip: Iterable[str] = ()
    ) -> list[MappedDocument]:
        """The stored documents (but those of ``skip``) that ``after`` maps otherwise than
        ``before``, mapped again with ``after``."""
        self._read()
        graphs: set[str] = set()
        for mention in after.moved(before):
            graphs.update(self._graphs_of.get(mention, ()))
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
        mapped.triples.append(facts_record(graph, doc))
        log.info("mapping %s again: a mention of it changed node", graph)
        return mapped

    def committed(
        self, changed: Mapping[str, frozenset[Mention] | None], identities: Identities
    ) -> None:
        """Record that the change (as given to :meth:`identities`) is committed, with the
        identities it gave."""
        by_graph = self._read()
        for graph, found in changed.items():
            for mention in by_graph.pop(graph, frozenset()):
                graphs = self._graphs_of[mention]
                graphs.discard(graph)
                if not graphs:
                    del self._graphs_of[mention]
                    self._index.discard(mention)
            if found is not None:
                by_graph[graph] = found
                for mention in found:
                    self._graphs_of[mention].add(graph)
                    self._index.add(mention)
        identities.base = None  # the chain of earlier identities is not needed any more
        self._current = identities
