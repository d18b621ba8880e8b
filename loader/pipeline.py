"""Loading: records → RDF → SHACL → store, a batch of documents at a time.

Guarantees (each is tested):

* a valid document is committed whole, in one store transaction with the rest of its batch;
* an invalid document is not written at all; it is reported (and written to the rejects file)
  with its source, line, and for each violation the focus node, field, constraint and message;
* reloading a document replaces its named graph; loading the same document again changes
  nothing and is counted as unchanged;
* ``strict`` stops at the first invalid document; the valid documents before it are committed.

The ontology and its code lists are kept in a named graph of their own (the ontology IRI), so
SPARQL can use class and property labels and the class and property hierarchies.

Validation covers each batch plus the ``rdf:type`` triples the store already holds for the IRIs
the batch links to, so rules that span documents hold without re-validating the whole store.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pyoxigraph import (
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Quad,
    Triple,
)

from diplograph.loader.batch_validation import BatchValidator, ValidationPool
from diplograph.loader.bulk import BulkPolicy
from diplograph.loader.config import Settings
from diplograph.loader.conflicts import Conflict, find_conflicts, held_events, listing
from diplograph.loader.curation import SAME, Curation, change, curations
from diplograph.loader.errors import FactsError, InputWarning, NotFoundError, RejectedError
from diplograph.loader.facts import FactsDocument, SourceRecord
from diplograph.loader.identity import Identities
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.mentions import Claims, claims
from diplograph.loader.namespaces import ONTOLOGY_IRI
from diplograph.loader.reconcile import Reconciler, facts_record
from diplograph.loader.report import LoadReport, Rejection, rejection_from_error
from diplograph.loader.run_nodes import RunNodes
from diplograph.loader.steps import (
    CLAIMS_FILE,
    CONFLICTS_OF_RUN,
    CONFLICTS_OF_STORE,
    IDENTITIES,
    Steps,
    unannounced,
)
from diplograph.loader.store import GraphChange, Store
from diplograph.loader.summary import Summary

if TYPE_CHECKING:
    from diplograph.loader.validate import Violation

log = logging.getLogger(__name__)


class Loader:
    """Loads facts documents into a store; one instance holds the parsed ontology and shapes.

    ``pool`` validates the chunks of each batch in parallel (loader/batch_validation.py); the
    results are the same without it. ``summary`` is the summary keeper to commit through: the
    one a guarded write gives (:func:`~loader.summary.guard_raw_writes`), or by default a new
    one for the store.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        summary: Summary | None = None,
        pool: ValidationPool | None = None,
    ) -> None:
        from diplograph.loader.ontology import superclass_closure
        from diplograph.loader.validate import Validator

        self.store = store
        self.settings = settings
        self.minter = IriMinter(settings.base_iri)
        self.superclasses = superclass_closure()
        self.validator = Validator(settings.validation_engine)
        #: Validates each batch, a chunk at a time, on ``pool`` when given.
        self.checker = BatchValidator(
            self.validator, store, settings.base_iri, settings.validation_chunk, pool
        )
        #: Which node each entity mention is, over the store's documents (loader/identity.py).
        self.reconciler = Reconciler.of(store, self.minter, self.superclasses)
        self._ontology_checked = False
        #: The nodes the current run's committed documents describe.
        self._touched = RunNodes()
        #: The graphs of the current run's committed documents: its report lists them among
        #: the sources of a finding, and counts the others.
        self._documents = RunNodes()
        #: mapping warnings of this run by rule: how many records gave each
        self._warned: Counter[str] = Counter()
        #: Keeps the summary graph exact at every commit.
        self.summary = summary if summary is not None else Summary(store, settings.base_iri)
        #: Decides when a run leaves the summary to one rebuild at its end.
        self.bulk = BulkPolicy(
            store, self.summary, lambda: len(document_graphs(self.store, self.settings))
        )

    def ensure_ontology(self) -> bool:
        """Write the ontology graph when it is missing or outdated; True when it was written."""
        from diplograph.loader.ontology import ontology_triples

        self._ontology_checked = True
        triples = ontology_triples()
        if _isomorphic(self.store.graph_triples(ONTOLOGY_IRI), set(triples)):
            return False
        self._commit([GraphChange(ONTOLOGY_IRI, triples)])
        log.info("wrote the ontology graph <%s> (%d triples)", ONTOLOGY_IRI, len(triples))
        return True

    def load(
        self,
        records: Iterable[SourceRecord],
        *,
        dry_run: bool = False,
        strict: bool = False,
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Callable[[int], None] | None = None,
        steps: Steps | None = None,
    ) -> LoadReport:
        """Load ``records``; see the module docstring for the guarantees.

        ``progress`` is called with the number of documents of each batch done; ``steps``
        (:mod:`loader.steps`) is told of the work outside the batches: the first read of the
        store's claims, done before the first batch when ``steps`` is given, and what ends
        the run.

        The summary graph is kept exact batch by batch, until the run switches to bulk mode
        (:class:`~loader.bulk.BulkPolicy`): then the summary is marked stale, the remaining
        batches are committed without it, and it is rebuilt once at the end. A run that starts
        on a store of documents whose summary is missing or marked stale runs in bulk mode from
        its first batch. A run that stops on a store error leaves the mark; the next load
        rebuilds the summary.
        """
        report = LoadReport(dry_run=dry_run)
        # The store's claims as they are now: the cached ones if no other write came between
        # (a remote store, which other processes may write, is read afresh). A dry run uses
        # them too, and forgets its change at its end: reading its own took a /validate of
        # the 100k store about 20 s. So it must not run beside a write of the same store,
        # whose commit changes them under it (the API's /validate takes the write lock).
        self.reconciler = Reconciler.of(self.store, self.minter, self.superclasses)
        step = steps or unannounced
        if steps is not None and not self.reconciler.loaded:
            # Up front, so that a long read is shown as what it is and not as a first batch
            # that takes long; without steps it is left to the first batch that needs it.
            with step(IDENTITIES):
                self.reconciler.current()
        self._touched = RunNodes()
        self._documents = RunNodes()
        self._warned = Counter()
        if not dry_run:
            self.bulk.start()
        try:
            for batch in _batches(records, self.settings.batch_size):
                if self.bulk.active:  # its conflicts are found by a scan: membership will do
                    self._touched.compact()
                    self._documents.compact()
                self._load_batch(batch, report, dry_run=dry_run, strict=strict, on_reject=on_reject)
                if progress is not None:
                    progress(len(batch))
                if not dry_run:
                    self.bulk.after_batch(report.documents_loaded)
        except RejectedError:
            self._end_bulk(step)
            raise
        finally:
            if dry_run:
                self.reconciler.forget_change()
        self._end_bulk(step)
        if self._touched:
            # Once per run, over the nodes its documents describe: a conflict between two
            # batches is found once, and no batch pays a scan (docs/mapping.md).
            scan = self.bulk.switched_after is not None
            with step(CONFLICTS_OF_STORE if scan else CONFLICTS_OF_RUN):
                report.conflicts = self._conflicts_of_run()
        report.warnings.extend(
            f"{rule} (the same in {count - 1} more record(s) of this run)"
            for rule, count in self._warned.items()
            if count > 1
        )
        return report

    def _end_bulk(self, step: Steps) -> None:
        """End bulk mode, if the run is in it: its claims go to the claims file first and the
        reconciler lets go of them (:meth:`Reconciler.release`), so that the summary rebuild
        and the scan of the whole store that end the run do not hold them too."""
        if not self.bulk.active:
            self.bulk.end(step)
            return
        with step(CLAIMS_FILE):
            self.reconciler.release()
        statement = self.store.attested()  # the claims file's state, when release() was in step
        self.bulk.end(step)
        if statement is not None:
            # The summary rebuild and the compaction wrote no kept facts: the next process
            # may still take the claims file without computing the fingerprint.
            self.store.attest(statement)

    def _conflicts_of_run(self) -> list[Conflict]:
        """The conflicts that involve a node this run's documents describe, with the run's
        documents listed among each value's sources and the others counted
        (:func:`~loader.conflicts.listing`).

        Asking for the nodes costs about half a millisecond each (chunked ``VALUES``), a scan of
        the whole store a few seconds at 10k documents: measured at 10k documents, 53 s for the
        261k nodes of a load into an empty store against 5.4 s for the scan. So a run large
        enough to switch to bulk mode (large beside the store) scans the store and keeps the
        findings about its nodes; a smaller run asks for its nodes.
        """
        if self.bulk.switched_after is None:
            return find_conflicts(
                self.store,
                nodes=self._touched.iris(),
                listed=self._documents.iris(),
                held=held_events(self.store),
            )
        touched = self._touched
        return listing(
            [
                c
                for c in find_conflicts(self.store)
                if c.node in touched or any(v.value in touched for v in c.values)
            ],
            self._documents,
        )

    def _warn(self, report: LoadReport, warnings: Iterable[InputWarning]) -> None:
        """Report each mapping warning once per run, in full where it first occurs: the same
        unknown name in a thousand documents is one line, with a count, not a thousand."""
        for warning in warnings:
            if not self._warned[warning.rule]:
                report.warnings.append(str(warning))
            self._warned[warning.rule] += 1

    # -- one batch -------------------------------------------------------------------------

    def _load_batch(
        self,
        batch: Sequence[SourceRecord],
        report: LoadReport,
        *,
        dry_run: bool,
        strict: bool,
        on_reject: Callable[[Rejection], None] | None,
    ) -> None:
        report.warnings.extend(w for r in batch for w in r.warnings)
        rejected: dict[int, Rejection] = {}
        docs: dict[int, FactsDocument] = {}
        found: dict[int, Claims] = {}  # what each document says of identity
        for index, record in enumerate(batch):
            if record.error is not None:
                rejected[index] = rejection_from_error(record, record.error)
                continue
            assert record.document is not None
            try:
                found[index] = claims(record.document, source=record.source, line=record.line)
            except FactsError as exc:  # state identifiers the gazetteer refuses
                rejected[index] = rejection_from_error(record, exc)
                continue
            docs[index] = record.document
        graph_of = {index: self.minter.document(doc.document.id) for index, doc in docs.items()}

        # Map, then validate, with the identities the batch's documents make together with the
        # store's. A rejection can change them (a rejected document's mentions do not count):
        # the documents whose mentions then change node are mapped and checked again, until
        # nothing changes (loader/reconcile.py). One round when nothing is rejected.
        live = set(docs)
        mapped: dict[int, MappedDocument] = {}
        identities: Identities | None = None
        unchanged: set[int] = set()
        held: dict[str, int] = {}  # triples each changed graph holds now
        notes: list[Violation] = []
        asked: dict[str, int] | None = None
        while True:
            last = _last_versions(live, graph_of)
            if last == asked:  # nothing was rejected in the last round: nothing changes
                break
            asked = last
            wanted = self.reconciler.identities({g: found[i] for g, i in last.items()})
            stale = sorted(
                i
                for i in live
                if i not in mapped
                or (identities is not None and _moved(found[i], identities, wanted))
            )
            identities = wanted
            if not stale:
                break
            for index in stale:
                try:
                    mapped[index] = self._map(batch[index], docs[index], found[index], identities)
                except FactsError as exc:
                    rejected[index] = rejection_from_error(batch[index], exc)
                    live.discard(index)
            checked = [i for i in stale if i in live]
            # One question for the batch: on a remote store, reading each graph is a request.
            empty = self.store.empty_graphs(graph_of[i] for i in checked)
            to_validate: list[int] = []
            for index in checked:
                unchanged.discard(index)
                graph = graph_of[index]
                if last[graph] != index:
                    unchanged.add(index)  # superseded within the batch by a later version
                    continue
                existing = set() if graph in empty else self.store.graph_triples(graph)
                if set(mapped[index].written) == existing:
                    unchanged.add(index)
                    continue
                held[graph] = len(existing)
                to_validate.append(index)
            failures, round_notes = self._validate([mapped[i] for i in to_validate])
            notes.extend(round_notes)
            for position, violations in failures.items():
                index = to_validate[position]
                rejected[index] = Rejection(
                    batch[index].source,
                    batch[index].line,
                    mapped[index].document_id,
                    tuple(violations),
                    batch[index].raw,
                )
                live.discard(index)
            if strict and rejected:  # what follows the first invalid document is not loaded
                live = {i for i in live if i < min(rejected)}

        first_bad = min(rejected) if (strict and rejected) else None
        accepted = [(i, batch[i], mapped[i]) for i in sorted(live - unchanged)]
        for index in sorted(live):
            self._warn(report, mapped[index].warnings)
        # Warnings are reported; Infos (e.g. "no time information") are hints that would drown
        # them out, so a normal load does not list them.
        report.warnings.extend(
            f"{r.source}:{r.line}: record {d.document_id!r}, "
            f"field {d.origins.get(n.focus_node)!r}: {n.message}"
            for _, r, d in accepted
            for n in notes
            if n.severity == "Warning" and n.focus_node in d.origins
        )

        removed = 0
        if accepted:
            assert identities is not None
            before = self.reconciler.current()
            again = self.reconciler.remapped(before, identities, skip=graph_of.values())
            report.documents_remapped += len(again)
            if not dry_run:
                if not self._ontology_checked:
                    self.ensure_ontology()
                removed = sum(held[d.graph] for _, _, d in accepted)
                self._commit(
                    [GraphChange(d.graph, d.written) for _, _, d in [*accepted]]
                    + [GraphChange(d.graph, d.written) for d in again]
                )
                self.reconciler.committed(
                    {graph_of[i]: found[i] for i, _, _ in accepted}, identities
                )
                self._documents.add(d.graph for _, _, d in accepted)
                # The document's own nodes (its attestations, spans, run) never conflict.
                self._touched.add(
                    n
                    for d in [*(d for _, _, d in accepted), *again]
                    for n in d.nodes
                    if n != d.graph and not n.startswith(d.graph + "/")
                )
        report.documents_loaded += len(accepted)
        report.triples_loaded += sum(len(d.written) for _, _, d in accepted)
        report.triples_removed += removed
        report.documents_unchanged += len(unchanged)
        for index in sorted(rejected):
            if first_bad is not None and index > first_bad:
                break
            report.documents_rejected += 1
            report.rejections.append(rejected[index])
            if on_reject is not None:
                on_reject(rejected[index])
        if first_bad is not None:
            bad = rejected[first_bad]
            first = bad.violations[0] if bad.violations else {}
            raise RejectedError(
                f"{bad.source}:{bad.line}: document {bad.record!r} is invalid "
                f"({first.get('message', 'see the report')}); stopped (--strict)"
            )

    def _map(
        self, record: SourceRecord, doc: FactsDocument, said: Claims, identities: Identities
    ) -> MappedDocument:
        """Map one document with ``identities``; its graph keeps the document too."""
        mapped = map_document(
            doc,
            self.minter,
            self.superclasses,
            source=record.source,
            line=record.line,
            identities=identities,
            claimed=said,
        )
        mapped.kept.append(facts_record(mapped.graph, doc))
        return mapped

    def _commit(self, changes: Sequence[GraphChange]) -> None:
        """Commit ``changes`` with the summary graph kept exact in the same transaction
        (loader/summary/), or without it in bulk mode; the events a server holds for its
        checks follow (loader/conflicts/held.py)."""
        held = held_events(self.store)
        touched = held.touched(changes) if held is not None else set()
        self.bulk.commit(changes)
        if held is not None:
            held.committed(touched)

    def _validate(
        self, docs: Sequence[MappedDocument]
    ) -> tuple[dict[int, list[dict[str, Any]]], list[Violation]]:
        """Validate documents (loader/batch_validation.py): the violations of each invalid one
        by index, and the warnings and infos (which never reject)."""
        return self.checker.check(docs)


def document_graphs(store: Store, settings: Settings) -> list[str]:
    """The named graphs that hold documents (every graph but the ontology's)."""
    prefix = IriMinter(settings.base_iri).documents()
    return [g for g in store.graph_names() if g.startswith(prefix)]


def retract(
    store: Store, settings: Settings, document_id: str, summary: Summary | None = None
) -> int:
    """Remove everything one document contributed; return the number of triples removed.

    Entities and events that other documents also attest stay, described by those documents.
    Joins the document's mentions caused are undone: the documents whose mentions change node
    are mapped again (loader/reconcile.py). The summary graph is updated in the same
    transaction.
    """
    minter = IriMinter(settings.base_iri)
    graph = minter.document(document_id)
    existing = store.graph_triples(graph)
    if not existing:
        raise NotFoundError(f"no document {document_id!r} in the store (graph <{graph}>)")
    reconciler = _reconciler(store, minter)
    after = reconciler.identities({graph: None})
    again = reconciler.remapped(reconciler.current(), after, skip=[graph])
    keeper = summary or Summary(store, settings.base_iri)
    keeper.commit([GraphChange(graph, None), *(GraphChange(d.graph, d.written) for d in again)])
    reconciler.committed({graph: None}, after)
    return len(existing)


def curate(
    store: Store, settings: Settings, verdict: str, a: str, b: str, summary: Summary | None = None
) -> Curation:
    """State that nodes ``a`` and ``b`` are the same, or are different (loader/curation.py),
    replacing an earlier statement about the pair. The documents whose mentions the statement
    moves to another node are mapped again, and the summary (through the keeper ``summary``
    when given) kept, in the same commit."""
    record = Curation.of(verdict, a, b)
    graph = IriMinter(settings.base_iri).curation_graph()
    by_pair = {(r.first, r.second): r for r in [*curations(store, graph), record]}
    _commit_curations(store, settings, sorted(by_pair.values()), summary)
    return record


def uncurate(
    store: Store, settings: Settings, a: str, b: str, summary: Summary | None = None
) -> Curation:
    """Withdraw the statement about ``a`` and ``b`` (undoing what it joined or kept apart);
    NotFoundError when there is none."""
    pair = Curation.of(SAME, a, b)
    graph = IriMinter(settings.base_iri).curation_graph()
    records = curations(store, graph)
    kept = [r for r in records if (r.first, r.second) != (pair.first, pair.second)]
    if len(kept) == len(records):
        raise NotFoundError(f"no curation of <{pair.first}> and <{pair.second}>")
    _commit_curations(store, settings, kept, summary)
    return next(r for r in records if r not in kept)


def _commit_curations(
    store: Store, settings: Settings, records: list[Curation], summary: Summary | None
) -> None:
    minter = IriMinter(settings.base_iri)
    reconciler = _reconciler(store, minter)
    after = reconciler.identities({}, curation=records)
    again = reconciler.remapped(reconciler.current(), after)
    keeper = summary or Summary(store, settings.base_iri)
    keeper.commit(
        [
            change(minter.curation_graph(), records),
            *(GraphChange(d.graph, d.written) for d in again),
        ]
    )
    reconciler.committed({}, after)


def prepare_writes(store: Store, settings: Settings) -> None:
    """Read what the first load into ``store`` in this process would read first: the claims of
    every stored document (:meth:`Reconciler.current`), kept for the loads that follow while
    nothing else writes to the store; the shapes and the ontology, parsed once a process (the
    first load into the 100k store spent 0.5 s making its validator, and 0.5 s checking the
    ontology graph); and where the events of the checks are held
    (:func:`~loader.conflicts.hold_events`), the recent ones
    (:meth:`~loader.conflicts.HeldEvents.hold_recent`). A server calls it as it starts
    (api/preparation.py)."""
    from diplograph.loader.ontology import ontology_triples

    Loader(store, settings).reconciler.current()
    ontology_triples()
    held = held_events(store)
    if held is not None:
        held.hold_recent()


def _reconciler(store: Store, minter: IriMinter) -> Reconciler:
    from diplograph.loader.ontology import superclass_closure

    return Reconciler.of(store, minter, superclass_closure())


def load(
    records: Iterable[SourceRecord],
    store: Store,
    settings: Settings,
    *,
    dry_run: bool = False,
    strict: bool = False,
    on_reject: Callable[[Rejection], None] | None = None,
    progress: Callable[[int], None] | None = None,
    summary: Summary | None = None,
) -> LoadReport:
    """Load facts records into ``store`` (a one-shot :class:`Loader`, committing through the
    summary keeper ``summary`` when given)."""
    return Loader(store, settings, summary=summary).load(
        records, dry_run=dry_run, strict=strict, on_reject=on_reject, progress=progress
    )


def _isomorphic(a: set[Triple], b: set[Triple]) -> bool:
    """Whether two graphs are equal up to blank node labels.

    The store gives the ontology's blank nodes (OWL restrictions, lists) labels of its own, so
    plain set equality never holds and every load rewrote the ontology graph.
    """
    if a == b:
        return True
    if len(a) != len(b):
        return False
    canonical = []
    for triples in (a, b):
        dataset = Dataset(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
        dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
        canonical.append({q.triple for q in dataset})
    return canonical[0] == canonical[1]


def _batches(records: Iterable[SourceRecord], size: int) -> Iterator[list[SourceRecord]]:
    batch: list[SourceRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _last_versions(indices: Iterable[int], graph_of: Mapping[int, str]) -> dict[str, int]:
    """Each graph's last document among ``indices``: later documents in a batch win over
    earlier ones with the same id, as in sequence."""
    return {graph_of[i]: i for i in sorted(indices)}


def _moved(said: Claims, before: Identities, after: Identities) -> bool:
    """Whether a mention or an event report of ``said`` is another node ``after`` than
    ``before``."""
    if before is after:
        return False
    return any(before.key(m) != after.key(m) for m in said.entities) or any(
        before.event_time(r) != after.event_time(r) or before.group(r) != after.group(r)
        for r in said.events
    )
