"""Keeping every document mapped with the identities of the whole store (loader/identity.py).

Each document's graph keeps the facts document it was mapped from, as
``<document> dip:extractedFacts "…JSON…"``, so that it can be mapped again. A :class:`Reconciler`
reads the kept documents of a store once, holds their mentions and reports, and answers two
questions for a change (documents loaded, replaced or retracted; curation statements changed):

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
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, QuerySolutions, Triple

from diplograph.loader.claims_cache import (
    ClaimsCache,
    FileState,
    StoredClaims,
    StoredIdentities,
    identities_key,
)
from diplograph.loader.curation import Curation, curations
from diplograph.loader.facts import FactsDocument
from diplograph.loader.fingerprint import (
    EXTRACTED_FACTS,
    attestation,
    facts_sha1,
    fingerprint_of,
    kept_fingerprint,
)
from diplograph.loader.identity import GroupKey, Identities, MentionIndex
from diplograph.loader.iris import IriMinter
from diplograph.loader.long_lived import building
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.mentions import Claims, EventMention, Mention, kept_claims
from diplograph.loader.store import Store

__all__ = [
    "EXTRACTED_FACTS",
    "Reconciler",
    "claims_unchanged_since",
    "facts_record",
    "keep_claims",
]

log = logging.getLogger(__name__)


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
    nothing else wrote to the store (its :attr:`~loader.store.Store.generation`), or nothing
    that changed the kept facts or the curation statements: reading the kept facts of 10,000
    documents took 3.1 s. Between processes, :meth:`save` leaves the
    claims in a file beside the store (loader/claims_cache.py), which the next reconciler of
    the same facts reads instead.
    """

    @classmethod
    def of(
        cls, store: Store, minter: IriMinter, superclasses: Mapping[str, frozenset[str]]
    ) -> Reconciler:
        """The reconciler of ``store``: the last one, if it saw every write since it read the
        store or what it holds is still the store's (:meth:`_still_holds`), else a new one."""
        cached = _CACHE.get(store)
        if (
            cached is not None
            and store.generation is not None
            and cached.minter.base == minter.base
            and (cached._generation == store.generation or cached._still_holds())
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
        self._forget()

    def _forget(self) -> None:
        """Hold nothing of the store: the next use reads it (:meth:`_read`)."""
        self.loaded = False  # whether the store's claims are read (current() reads them)
        # What is held of each document is what makes it a part of the identities: its
        # mentions (by the graphs that make them) and its reports (a report names its document,
        # so its graph). A document's own claims are read again when a change replaces it
        # (:meth:`_stored`): held for every document, they were a sixth of this memory.
        self._graphs_of: dict[Mention, set[str]] = defaultdict(set)
        self._index = MentionIndex()
        self._reports: set[EventMention] = set()
        #: the reports that cite each mention (:meth:`_cited`); None until a change needs them
        self._citing: dict[Mention, set[EventMention]] | None = None
        self._groups: dict[GroupKey, set[EventMention]] = {}
        self._current: Identities | None = None
        #: the claims of the graphs of the change in hand, as stored before it is committed
        self._before: dict[str, Claims | None] = {}
        #: the SHA-1 of each of those graphs' kept facts, as stored before the change
        self._before_sha1: dict[str, list[str]] = {}
        #: the fingerprint of the kept facts the claims held are those of, and how many
        #: documents they are (loader/claims_cache.py); None when not known (nothing to save)
        self._fingerprint: int | None = None
        self._documents = 0
        #: the fingerprint of the claims file as last read or written, and the key of the
        #: identities it holds (None: none)
        self._saved: int | None = None
        self._saved_identities: str | None = None
        #: the claims file as last read or written, when its last state is the one saved
        #: (a delta may follow it), and the documents added since (:class:`_Added`); None
        #: when a change since did more than add documents (the file is written whole)
        self._file: FileState | None = None
        self._added: _Added | None = None
        #: the mentions' keys the claims file holds in its last state (a delta gives those
        #: that changed)
        self._saved_keys: dict[Mention, str] | None = None
        #: the store's generation this reconciler is in step with (None: not read yet)
        self._generation: int | None = None

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> None:
        if not self.loaded:
            with building():  # kept as long as the process: loader/long_lived.py
                self._read_claims()

    def _read_claims(self) -> None:
        self.loaded = True
        self._generation = self.store.generation
        cache = ClaimsCache.of(self.store)
        # The fingerprint says whether the claims held are still the store's: for the claims
        # file, and for a reconciler kept between writers (:meth:`_still_holds`).
        track = cache is not None or self.store.generation is not None
        restored = None
        if cache is not None and cache.path.is_file():
            fingerprint, documents, restored = cache.current(self.store, self.minter.documents())
            self._file = cache.state
        if restored is not None:
            for mention, graphs in restored.graphs_of.items():
                self._graphs_of[mention].update(graphs)
                self._index.add(mention)
            self._reports.update(restored.reports)  # none cited yet: _citing is None
            self._fingerprint = self._saved = fingerprint
            self._documents = documents
            if restored.identities is not None:
                self._added = _Added()
                self._saved_keys = dict(restored.identities.keys)
        else:
            hashes = []
            for graph, text in self._kept_facts("?facts"):
                self._add(graph, kept_claims(json.loads(text)))
                if track:
                    hashes.append((graph, facts_sha1(text)))
            if track:
                self._fingerprint, self._documents = fingerprint_of(hashes)
        records = curations(self.store, self.minter.curation_graph())
        kept = None if restored is None else restored.identities
        if kept is not None and kept.key == identities_key(records, self.minter.ids()):
            self._current = Identities.restored(
                kept.keys,
                records,
                minter=self.minter,
                events=self._reports,
                nodes=kept.nodes,
            )
            self._saved_identities = kept.key
        else:
            self._current = Identities(
                self._index, records, minter=self.minter, events=self._reports
            )
        self._groups = dict(self._current.event_groups)

    def _still_holds(self) -> bool:
        """Whether what this reconciler holds is still the store's after writes it did not see
        (then it is in step with the store again): the kept facts have the fingerprint of the
        claims held, and the curation statements are those of the identities held.

        Such writes are often of other graphs (a SPARQL update may write anything). Checking
        reads 40 bytes a document: 1.8 s at 100k documents, where reading the claims again took
        29 s of a 39 s load of 100 documents through the API (docs/benchmarks.md)."""
        if not self.loaded or self._before or self._fingerprint is None or self._current is None:
            return False
        if kept_fingerprint(self.store, self.minter.documents()) != (
            self._fingerprint,
            self._documents,
        ):
            return False
        records = curations(self.store, self.minter.curation_graph())
        if tuple(sorted(set(records))) != self._current.curations():
            return False
        self._generation = self.store.generation
        return True

    def _kept_facts(self, what: str, graphs: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """``(graph, what)`` for the kept facts ``?facts`` of every document (of ``graphs``,
        when given, asked 500 at a time)."""
        # Every document's graph is named under this prefix. Testing it here rather than by a
        # FILTER in the query: the fingerprint of the 100k store's kept facts read in 1.45 s
        # against 1.6 s.
        prefix = self.minter.documents()
        wheres = (
            [""]
            if graphs is None
            else [
                "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs[i : i + 500]) + " }"
                for i in range(0, len(graphs), 500)
            ]
        )
        found: list[tuple[str, str]] = []
        for where in wheres:
            result = self.store.query(
                f"SELECT ?g ({what} AS ?v) WHERE {{ {where} "
                f"GRAPH ?g {{ ?g <{EXTRACTED_FACTS}> ?facts }} }}"
            )
            assert isinstance(result, QuerySolutions)
            for graph, value in result:
                assert graph is not None and value is not None  # both bound by the pattern
                if graph.value.startswith(prefix):
                    found.append((graph.value, value.value))
        return found

    def _stored(self, graphs: Iterable[str]) -> dict[str, Claims | None]:
        """The claims of the documents ``graphs`` as the store holds them (None: no document),
        read once per change: they are what the change replaces."""
        wanted = sorted(set(graphs) - self._before.keys())
        for graph in wanted:
            self._before[graph] = None
        for graph, text in self._kept_facts("?facts", wanted):
            self._before[graph] = kept_claims(json.loads(text))
            if self._fingerprint is not None:  # else nothing is kept for the claims file
                self._before_sha1.setdefault(graph, []).append(facts_sha1(text))
        return self._before

    def _graph_of(self, report: EventMention) -> str:
        return self.minter.document(report.document)

    def _add(self, graph: str, said: Claims) -> None:
        for mention in said.entities:
            self._graphs_of[mention].add(graph)
            self._index.add(mention)
        for report in said.events:
            self._add_report(report)

    def _add_report(self, report: EventMention) -> None:
        self._reports.add(report)
        if self._citing is not None:
            for mention in report.cited():
                self._citing.setdefault(mention, set()).add(report)

    def _cited(self) -> dict[Mention, set[EventMention]]:
        """The reports that cite each mention, indexed on first use: only a change that moves
        a mention to another node asks (indexing every report of the 100k store as it was
        read took 0.5–0.6 s and 29 MB)."""
        if self._citing is None:
            citing: dict[Mention, set[EventMention]] = {}
            for report in self._reports:
                for mention in report.cited():
                    citing.setdefault(mention, set()).add(report)
            self._citing = citing
        return self._citing

    def _remove(self, graph: str, said: Claims) -> None:
        for mention in said.entities:
            graphs = self._graphs_of[mention]
            graphs.discard(graph)
            if not graphs:
                del self._graphs_of[mention]
                self._index.discard(mention)
        for report in said.events:
            # a report names its document, so no other graph makes it
            self._reports.discard(report)
            if self._citing is None:
                continue
            for mention in report.cited():
                citing = self._citing.get(mention)
                if citing is not None:
                    citing.discard(report)
                    if not citing:
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
        current = self.current()
        stored = self._stored(changed)
        replaced = [said for graph in changed if (said := stored[graph]) is not None]
        outside = changed.keys()
        coming = {m for said in changed.values() if said for m in said.entities}
        added = {m for m in coming if m not in self._index}
        # a mention leaves when no document outside the change makes it any more
        leaving = {
            m
            for said in replaced
            for m in said.entities
            if m not in coming and not (self._graphs_of.get(m, set()) - outside)
        }
        # a report leaves with its document (no other document makes it)
        reports = {r for said in changed.values() if said for r in said.events}
        added_reports = {r for r in reports if r not in self._reports}
        leaving_reports = {r for said in replaced for r in said.events if r not in reports}
        if curation is not None:  # rare: everything is computed again
            return Identities(
                (set(self._index) - leaving) | added,
                curation,
                minter=self.minter,
                events=(self._reports - leaving_reports) | added_reports,
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
        citing = self._cited() if moved else {}
        regrouped = {r for m in moved for r in citing.get(m, ())} - leaving_reports
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
        moved_reports = after.moved_events(before) & self._reports
        graphs.update(self._graph_of(report) for report in moved_reports)
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

    def forget_change(self) -> None:
        """Forget the change in hand (:meth:`identities`), which will not be committed: a dry
        run's. What is held of the store is as it was."""
        self._before = {}
        self._before_sha1 = {}

    def committed(self, changed: Mapping[str, Claims | None], identities: Identities) -> None:
        """Record that the change (as given to :meth:`identities`) is committed, with the
        identities it gave."""
        self._read()
        # The claims the change replaced were read by identities(), before the commit: the
        # store holds the new ones now.
        unasked = changed.keys() - self._before.keys()
        if unasked:
            raise RuntimeError(f"committed() before identities() for {sorted(unasked)}")
        stored = self._before
        # until the claims held and the fingerprint agree again: nothing to save
        fingerprint, self._fingerprint = self._fingerprint, None
        for graph, said in changed.items():
            old = stored[graph]
            if old is not None:
                self._remove(graph, old)
            if said is not None:
                self._add(graph, said)
            if self._added is not None:  # a delta of the claims file holds added documents
                if old is None and said is not None:
                    self._added.graphs.add(graph)
                    self._added.documents.update(report.document for report in said.events)
                else:
                    self._added = None
        if fingerprint is not None:
            self._follow_fingerprint(changed, fingerprint)
        self._before = {}  # the store holds the change now
        self._before_sha1 = {}
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

    def _follow_fingerprint(self, changed: Mapping[str, Claims | None], fingerprint: int) -> None:
        """Make ``fingerprint`` (of the claims before ``changed``) that of the claims held: the
        replaced documents' kept facts out, the new ones in (as the store now holds them)."""
        old = [(graph, sha1) for graph in changed for sha1 in self._before_sha1.get(graph, ())]
        new = sorted(graph for graph, said in changed.items() if said is not None)
        now = self._kept_facts("SHA1(?facts)", new)
        (out, gone), (into, came) = fingerprint_of(old), fingerprint_of(now)
        # claims held without kept facts in the store: no fingerprint says what they are
        complete = {graph for graph, _ in now} == set(new)
        self._fingerprint = fingerprint ^ out ^ into if complete else None
        self._documents += came - gone

    def save(self) -> None:
        """Leave the claims held, with their identities, in the store's claims file for the
        next process (loader/claims_cache.py), unless the file holds them already or the store
        has none."""
        if self._fingerprint is None or self._current is None:
            return
        current = self._current
        key = identities_key(current.curations(), self.minter.ids())
        # A curation changes the identities, not the kept facts: they are saved again.
        cache = ClaimsCache.of(self.store)
        if cache is None:
            return
        if self._fingerprint != self._saved or key != self._saved_identities:
            self._write(cache, key, current)
        if self._generation == self.store.generation:
            # In step with the store: the next process need not compute the fingerprint.
            self.store.attest(attestation(self._fingerprint, self._documents))

    def _write(self, cache: ClaimsCache, key: str, current: Identities) -> None:
        assert self._fingerprint is not None  # save() writes only claims of known facts
        keys, nodes = dict(current.keys()), current.event_nodes()
        written = self._append(cache, key, keys, nodes)
        if written is None:
            identities = StoredIdentities(key, keys, nodes)
            held = StoredClaims(self._graphs_of, self._reports, identities)
            written = cache.write(self._fingerprint, self._documents, held)
        self._file = written
        self._added = _Added() if written is not None else None
        self._saved_keys = keys if written is not None else None
        self._saved, self._saved_identities = self._fingerprint, key

    def _append(
        self,
        cache: ClaimsCache,
        key: str,
        keys: dict[Mention, str],
        nodes: Mapping[EventMention, tuple[str, ...]],
    ) -> FileState | None:
        """Append the documents added since the claims file's last state to it, with the keys
        that changed (loader/claims_cache.py, deltas); None when that cannot be done."""
        saved = self._saved_keys
        if (
            self._file is None
            or self._added is None
            or self._saved is None
            or self._fingerprint is None
            or saved is None
            or not saved.keys() <= keys.keys()  # a mention left: a document was replaced
        ):
            return None
        # Found in what is held rather than kept per document since: the claims of the 10k
        # documents of a bulk run, kept until its end, would hold their memory too.
        graphs, documents = self._added.graphs, self._added.documents
        graphs_of = {
            mention: made
            for mention, held in self._graphs_of.items()
            if (made := sorted(held & graphs))
        }
        reports = [report for report in self._reports if report.document in documents]
        changed = {m: k for m, k in keys.items() if saved.get(m) != k}
        added = StoredClaims(graphs_of, reports, StoredIdentities(key, changed, nodes))
        return cache.append(self._file, self._saved, self._fingerprint, self._documents, added)

    def release(self) -> None:
        """Leave the claims in the claims file (:meth:`save`) and let go of what is held: the
        next use reads them again, from the file when it still matches the store.

        For the end of a bulk run, whose summary rebuild writes to the store, after which
        this reconciler is no longer the store's (:meth:`of`) and would only be kept to be
        saved. At 100k documents, the rebuild and the whole store's check that follow then
        reuse its memory: the end of the run peaked at 1,013 MB, against 1,182 MB with the
        claims held (docs/benchmarks.md)."""
        self.save()
        self._forget()


@dataclass
class _Added:
    """The documents added to a store since its claims file's last state: their graphs, and
    the documents their reports name."""

    graphs: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)


def claims_unchanged_since(store: Store, generation: int | None) -> None:
    """Record that the writes to ``store`` since its ``generation`` changed no kept facts and
    no curation statement (the summary's mark before a load through the API, which writes the
    summary graph alone): the reconciler that was in step with the store then is in step with
    it now, without checking (:meth:`Reconciler._still_holds`, 1.8 s at 100k documents)."""
    cached = _CACHE.get(store)
    if cached is not None and generation is not None and cached._generation == generation:
        cached._generation = store.generation


def keep_claims(store: Store) -> None:
    """Leave the claims of the reconciler that read ``store`` in this process, if one did, for
    the next process that opens it (:meth:`Reconciler.save`). Call it before closing the store."""
    reconciler = _CACHE.get(store)
    if reconciler is not None:
        reconciler.save()


#: The reconciler of each open store (:meth:`Reconciler.of`).
_CACHE: weakref.WeakKeyDictionary[Store, Reconciler] = weakref.WeakKeyDictionary()
