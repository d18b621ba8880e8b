"""The embedded store: Oxigraph through pyoxigraph, on disk (or in memory for tests).

The store's own default graph holds the **materialized union** of the named graphs: every triple
that some named graph holds, once. Queries that use the union as their default graph read it
directly, with set semantics and without a pass over every graph: Oxigraph's built-in union
(``use_default_graph_as_union``) is a bag, so a triple that 300 documents assert matches 300
times, and analyst queries ran 8 to 250 times slower on it (docs/benchmarks.md). The union is
kept exact in the same transaction as every write:

* :meth:`EmbeddedStore.commit` (the loader, ``/facts``, the Graph Store Protocol) updates it
  incrementally: the new graphs' triples are added; a replaced or dropped graph's triples are
  removed unless another named graph still holds them;
* :meth:`EmbeddedStore.update` (a raw SPARQL Update) runs with the default graph the update
  writes to (kept in the named graph :data:`~loader.namespaces.STORED_DEFAULT_GRAPH`) and
  rebuilds the union afterwards, in one request: a cost proportional to the store;
* update operations that travel with a commit (the summary upkeep) write through
  :meth:`EmbeddedStore.own_graph_template`, which puts each triple in the union too, and read
  the data through :meth:`EmbeddedStore.data_pattern`, which reads the union.

**Bulk writes.** A process that holds the store alone, with nothing reading it while it writes
(the CLI's ``load`` and ``import``: they set :attr:`EmbeddedStore.bulk_writes`), writes a
commit of only new graphs through Oxigraph's bulk loader instead of a transaction: the 10k
load 1.43x faster, its peak memory a fifth (docs/benchmarks.md, "Bulk writes"). The bulk
loader is not atomic, so each such batch is first recorded in a journal
(loader/store/journal.py); a batch that a crash cut short is undone the next time the store is
opened for writing
(:meth:`EmbeddedStore.undo_bulk_batch`), and the load run again writes it whole. The server
keeps transactions: its readers would see half a batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Triple,
    serialize,
)
from pyoxigraph import Store as OxStore

from diplograph.loader.errors import QuerySyntaxError, StoreError
from diplograph.loader.namespaces import STORED_DEFAULT_GRAPH
from diplograph.loader.sparql_text import is_blank, split_prologue
from diplograph.loader.store.attestation import Attestation
from diplograph.loader.store.base import GraphChange, QueryResult, Store
from diplograph.loader.store.graph_updates import change_operations
from diplograph.loader.store.io_errors import io_error, open_error, what_to_do
from diplograph.loader.store.journal import DONE_GRAPH, BulkJournal

log = logging.getLogger(__name__)

_STORED_DEFAULT = NamedNode(STORED_DEFAULT_GRAPH)
_DONE = NamedNode(DONE_GRAPH)
#: A transaction that writes at least this many quads is flushed to disk after it commits: its
#: writes stay in RocksDB's write buffers until they fill, and a load of 5,000 documents through
#: transactions (the Python API, ``/facts``) peaked at 1,236 MB, against 858 MB and 10% faster
#: flushed after each batch. A small write (an API write of one document) is not flushed.
FLUSH_AFTER_QUADS = 10_000
_REBUILD_UNION = "DROP SILENT DEFAULT ;\nINSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


class EmbeddedStore(Store):
    """A pyoxigraph store at ``path`` (created when missing), or in memory when ``path`` is None.

    RocksDB allows one process per store directory; a second process gets
    :class:`~loader.errors.StoreLockedError` instead of a corrupted store.
    """

    kind = "embedded"
    #: RocksDB's lock keeps every other process out of the store directory.
    sole_writer = True
    #: Write commits of only new graphs with the bulk loader, journaled (the module docstring).
    #: Only for a process that holds the store alone and reads nothing while it writes: the
    #: CLI's ``load`` and ``import`` turn it on (``--no-bulk-writes`` keeps it off), the server
    #: and the Python API never do. No effect in memory.
    bulk_writes = False

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.generation = 0
        self._read_only = False
        #: Set once a write failed: the database may refuse further writes (RocksDB stops
        #: writing after an I/O error), so closing must not bury the first error under another.
        self._write_failed = False
        #: Set when a bulk write failed part way and its batch could not be undone at once:
        #: the store takes no more writes until it is opened again (which undoes the batch).
        self._undo_pending = False
        self._journal: BulkJournal | None = None
        self._attestation: Attestation | None = None
        if path is None:
            self._store = OxStore()
            self.kind = "memory"
            return
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._store = OxStore(str(path))
        except OSError as exc:
            raise open_error(path, exc) from None
        self._journal = BulkJournal(path)
        # Read before the undo and the union below: a write of theirs withdraws it.
        self._attestation = Attestation(path)
        try:
            if stray := self._journal.remove_unfinished_files():
                log.warning(
                    "removed %d file(s) of a bulk write that did not finish from %s", stray, path
                )
            self.undo_bulk_batch()
        except BaseException:
            del self._store  # releases the store (and its lock) now, not when collected
            raise
        self._ensure_union()

    @classmethod
    def read_only(cls, path: Path) -> EmbeddedStore:
        """Open, for reading only, a store directory that no process writes to: a backup, or a
        checkpoint made by :meth:`backup`. Several processes may open one at once (the API's
        query workers do); writing to the result raises :class:`StoreError`.
        """
        store = cls.__new__(cls)
        store.path = path
        store._write_failed = False
        store._undo_pending = False
        store._journal = None
        store._attestation = None
        store._read_only = True
        try:
            store._store = OxStore.read_only(str(path))
        except OSError as exc:
            raise open_error(path, exc) from None
        return store

    @property
    def oxigraph(self) -> OxStore:
        """The underlying pyoxigraph store (for backup and benchmarks)."""
        return self._store

    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        dataset_in_query: bool = False,
    ) -> QueryResult:
        kwargs: dict[str, object] = {}
        if default_graph is not None:
            kwargs["default_graph"] = [NamedNode(g) for g in default_graph]
        elif not union_default_graph and not dataset_in_query:
            kwargs["default_graph"] = [_STORED_DEFAULT]
        # else the query's FROM, or the store's default graph, which is the materialized union
        if named_graphs is not None:
            kwargs["named_graphs"] = [NamedNode(g) for g in named_graphs]
        try:
            result = self._store.query(sparql, **kwargs)  # type: ignore[arg-type]
        except SyntaxError as exc:
            raise QuerySyntaxError(f"malformed SPARQL query: {exc}") from None
        except OSError as exc:
            raise io_error(self.path, "read", exc) from None
        if isinstance(result, QuerySolutions | QueryBoolean):
            return result
        triples: Iterator[Triple] = iter(result)
        return triples

    def update(self, sparql: str) -> None:
        """Run a raw SPARQL Update; its default graph is :data:`STORED_DEFAULT_GRAPH`.

        One request, one transaction: the update's default graph is swapped in, the update
        runs, the result is moved back to its named graph and the union is rebuilt.
        """
        # Oxigraph takes a prologue (PREFIX, BASE) only at the start of the request.
        head, body = split_prologue(sparql)
        if is_blank(body):
            self._update(sparql)  # an empty update: nothing to do, but check its syntax
            return
        self._update(
            f"{head}\nDROP SILENT DEFAULT ;\nCOPY SILENT <{STORED_DEFAULT_GRAPH}> TO DEFAULT ;\n"
            f"{body}\n;\nMOVE SILENT DEFAULT TO <{STORED_DEFAULT_GRAPH}> ;\n{_REBUILD_UNION}"
        )
        self._flush_after_commit()  # the union was written anew: every named graph's quads

    def _refuse_writes(self) -> None:
        if self._read_only:
            raise StoreError(f"the store at {self.path} was opened read-only; it takes no writes")
        if self._undo_pending:
            raise StoreError(
                f"a bulk write to the store at {self.path} failed part way and could not be "
                "undone; open the store again (opening undoes that batch), then rerun the load"
            )

    def _will_write(self) -> None:
        """What comes before any write: the store must take writes, its generation moves on
        (before: a failed write may write part), and the statement :meth:`attest` left is
        withdrawn, durably, so that it never stands beside a store it is not true of."""
        self._refuse_writes()
        self.generation = (self.generation or 0) + 1
        if self._attestation is not None:
            try:
                self._attestation.withdraw()
            except OSError as exc:  # nothing is written
                raise io_error(self.path, "write to", exc) from None

    def _update(self, sparql: str) -> None:
        self._will_write()
        try:
            self._store.update(sparql)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"malformed SPARQL update: {exc}") from None
        except OSError as exc:
            self._write_failed = True
            raise io_error(self.path, "write to", exc) from None

    def commit(
        self,
        changes: Sequence[GraphChange],
        *,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
        data_only: bool = False,
    ) -> None:
        if not changes and not before and not after:
            return
        self._will_write()
        graphs = [c.graph for c in changes]
        exists = {g for g in graphs if self._exists(g)}
        fresh = [c for c in changes if c.triples and c.graph not in exists]
        if (
            changes
            and (data_only or not (before or after))
            and len(set(graphs)) == len(graphs)
            and len(fresh) == len(changes)
        ):
            # Only new graphs: Store.extend adds all quads in one transaction, without the cost
            # of writing and parsing a SPARQL Update (about 3x faster on a load).
            # Each triple also goes to the union (the default graph); a triple the union
            # already holds is not stored twice. With the summary's data operations, only the
            # bulk path may split the commit (its done mark keeps it whole across a crash).
            upkeep = [*before, *after]
            if self.bulk_writes and self._journal is not None:
                if self._bulk_commit(changes, upkeep):
                    return
            elif not upkeep:
                self._transaction(changes)
                self._flush_if_large(changes)
                return
        elif (
            data_only
            and self.bulk_writes
            and self._journal is not None
            and fresh
            and len(set(graphs)) == len(graphs)
        ):
            # New graphs beside others that it replaces (documents mapped again because a new
            # one moved their nodes): the new ones in bulk, the others in the transaction of
            # the summary's operations and the done mark, so that the batch is still whole or
            # undone. One SPARQL Update for the whole batch took 1.06 s of 100 documents at
            # 100k documents against about 0.4 s so (docs/benchmarks.md).
            others = [c for c in changes if c.graph in exists or not c.triples]
            upkeep = [*before, *change_operations(others, before, exists.__contains__), *after]
            if self._bulk_commit(fresh, upkeep):
                return
        # One SPARQL Update is one Oxigraph transaction: drops and inserts land together. The
        # operations run in order, each seeing the ones before, so the union stays exact when
        # several changes in one commit share triples.
        parts = change_operations(changes, before, exists.__contains__)
        self._update(" ;\n".join([*before, *parts, *after]))
        self._flush_if_large(changes)

    def _exists(self, graph: str) -> bool:
        return self._store.contains_named_graph(NamedNode(graph))

    def _flush_if_large(self, changes: Sequence[GraphChange]) -> None:
        # Each triple is written twice: in its graph and in the union.
        if 2 * sum(len(c.triples or ()) for c in changes) >= FLUSH_AFTER_QUADS:
            self._flush_after_commit()

    def _flush_after_commit(self) -> None:
        # The commit is durable already (RocksDB's write-ahead log): a flush that fails is not
        # the commit's failure, and the next write meets the cause (a full disk) itself.
        try:
            self.flush()
        except StoreError as exc:
            log.warning("%s", exc)

    def _transaction(self, changes: Sequence[GraphChange]) -> None:
        """Add new graphs, each triple also to the union, in one transaction."""
        try:
            self._store.extend(
                quad
                for c in changes
                for t in c.triples or ()
                for quad in (
                    Quad(t.subject, t.predicate, t.object, NamedNode(c.graph)),
                    Quad(t.subject, t.predicate, t.object, DefaultGraph()),
                )
            )
        except OSError as exc:
            self._write_failed = True
            raise io_error(self.path, "write to", exc) from None

    # -- bulk writes (the module docstring; the journal's protocol in journal.py) -------------

    def _bulk_commit(self, changes: Sequence[GraphChange], upkeep: Sequence[str] = ()) -> bool:
        """Write new graphs (and their triples to the union) with the bulk loader, journaled,
        then the data operations ``upkeep`` with the batch's done mark (loader/store/journal.py);
        False when the batch is not for the bulk loader (the caller commits it otherwise).

        The batch crosses as N-Quads text: pyoxigraph writes each graph's triples as
        N-Triples natively, and the graph name is put at each line's end, where building a
        Quad for each triple and its union copy in Python took 4 s of a 3k-document load (the
        native write itself 9 s). A commit with blank nodes is not for the bulk loader: it
        gives them labels of its own, which the journal's could not undo. A batch with upkeep
        went through one SPARQL Update before: 0.8-1.0 s for 100 documents against 0.3-0.4 s
        so."""
        assert self._journal is not None
        texts = [
            (c.graph, serialize(c.triples or (), format=RdfFormat.N_TRIPLES) or b"")
            for c in changes
        ]
        if any(b"_:" in text for _, text in texts):
            if upkeep:
                return False
            self._transaction(changes)
            return True
        token = uuid.uuid4().hex if upkeep else None
        # A line of N-Triples ends with " ." and a newline, never found inside a term (newlines
        # in literals are escaped): the graph name goes before it.
        named = b"".join(text.replace(b" .\n", b" <%b> .\n" % g.encode()) for g, text in texts)
        try:
            self._journal.record_text(named, sum(len(c.triples or ()) for c in changes), token)
        except OSError as exc:  # nothing was written to the store
            raise io_error(self.path, "write the bulk-write journal of", exc) from None
        try:
            # Every triple twice: in its document's graph, and in the union (the default graph).
            self._bulk_write(named + b"".join(text for _, text in texts))
        except OSError as exc:
            self._write_failed = True
            try:
                self.undo_bulk_batch()
            except (OSError, StoreError) as again:
                self._undo_pending = True
                log.error("cannot undo the failed bulk write at once: %s", again)
            raise io_error(self.path, "write to", exc) from None
        if token is not None:
            try:
                self._update(" ;\n".join([*upkeep, self._journal.done_operation(token)]))
            except Exception:
                try:  # the batch is written without its upkeep: it goes
                    self.undo_bulk_batch()
                except (OSError, StoreError) as again:
                    self._undo_pending = True
                    log.error("cannot undo the bulk write at once: %s", again)
                raise
        try:
            self._journal.clear()
        except OSError as exc:
            # The batch is written; the journal left behind undoes it at the next open (or
            # keeps it, when its done mark is there).
            self._undo_pending = True
            raise io_error(self.path, "remove the bulk-write journal of", exc) from None
        if token is not None:
            self._journal.drop_done_mark(self._store)
        return True

    def _bulk_write(self, nquads: bytes) -> None:
        """Hand ``nquads`` to Oxigraph's bulk loader: it writes SST files (a million quads at
        most each time) and has RocksDB ingest them, outside any transaction, so a crash may
        leave any part of them. When it returns the quads are durable: RocksDB's ingestion
        syncs each file it links into the store directory, syncs the directory, and records
        the files in its MANIFEST (``ExternalSstFileIngestionJob``), so the journal may go."""
        # lenient: the IRIs and literals were checked when their terms were made
        self._store.bulk_load(nquads, format=RdfFormat.N_QUADS, lenient=True)

    def undo_bulk_batch(self) -> None:
        """Undo the batch recorded in the bulk-write journal, if one is there: a bulk write
        that did not finish (:meth:`~loader.store.journal.BulkJournal.recover`); a batch whose
        every part landed (its done mark is there) stays."""
        if self._journal is None:
            return
        if self._journal.path.exists() or self._store.contains_named_graph(_DONE):
            self._will_write()  # else nothing to undo nor a done mark to drop: no write
        self._journal.recover(self._store)

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, NamedNode))

    def graph_triples(self, graph: str) -> set[Triple]:
        return {q.triple for q in self._store.quads_for_pattern(None, None, None, NamedNode(graph))}

    def empty_graphs(self, graphs: Iterable[str]) -> set[str]:
        def empty(graph: str) -> bool:
            quads = self._store.quads_for_pattern(None, None, None, NamedNode(graph))
            return next(iter(quads), None) is None

        return {graph for graph in set(graphs) if empty(graph)}

    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        if graph is None:
            # The named graphs, and what was written to the default graph as the default
            # graph; not the union, which is derived from them.
            return (
                Quad(q.subject, q.predicate, q.object, DefaultGraph())
                if q.graph_name == _STORED_DEFAULT
                else q
                for q in self._store.quads_for_pattern(None, None, None, None)
                if not isinstance(q.graph_name, DefaultGraph)
            )
        return iter(self._store.quads_for_pattern(None, None, None, NamedNode(graph)))

    def count(self) -> int:
        result = self._store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(result, QuerySolutions)
        return int(next(iter(result))["n"].value)

    def count_at_most(self, limit: int) -> int | None:
        # Graph by graph: Oxigraph's ``GRAPH ?g { ?s ?p ?o }`` costs 0.6 s over 100k named
        # graphs whatever its LIMIT, a graph's own quads a few microseconds each.
        total = 0
        for graph in self._store.named_graphs():
            total += sum(
                1
                for _ in islice(
                    self._store.quads_for_pattern(None, None, None, graph), limit + 1 - total
                )
            )
            if total > limit:
                return None
        return total

    # -- the layout: the union is the default graph ---------------------------------------

    def data_pattern(
        self, variables: str, pattern: str, *, within: str = "", extra: str = ""
    ) -> str:
        """``pattern`` in the store's default graph: the union of the named graphs as a set,
        kept exact within the commit's transaction (internal graphs are not part of it).

        ``within`` is joined as it is: where it repeats a binding, each repeat matches
        ``pattern`` again, and a caller that needs each solution once makes ``within``
        distinct itself (loader/conflicts/events.py)."""
        return f"{{ {within}{pattern} {extra}}} "

    def own_graph_template(self, graph: str, triples: str) -> str:
        """``triples`` in ``graph`` and in the union: no other graph holds them, so the union
        gains (or loses) exactly them."""
        return f"GRAPH <{graph}> {{ {triples} }} {triples}"

    def drop_own_graph(self, graph: str) -> list[str]:
        """Take the graph's triples out of the union (no other graph holds them), then drop it."""
        return [
            f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            f"DROP SILENT GRAPH <{graph}>",
        ]

    def union_quads(self) -> Iterator[Quad]:
        """The materialized union (the store's own default graph): each triple once."""
        return iter(self._store.quads_for_pattern(None, None, None, DefaultGraph()))

    def _ensure_union(self) -> None:
        """Build the union when the store has named graphs but no union (an older store)."""
        has_named = next(iter(self._store.named_graphs()), None) is not None
        has_union = next(self.union_quads(), None) is not None
        if has_named and not has_union:
            log.info("building the union of the named graphs (first open of an older store)")
            self._update(_REBUILD_UNION)

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the on-disk store to the new directory ``target``."""
        if self.path is None:
            raise StoreError("an in-memory store cannot be backed up; dump it instead")
        try:
            self._store.flush()
            self._store.backup(str(target))
        except OSError as exc:
            hint = what_to_do(exc) or "the target must be a new directory on a writable disk"
            raise StoreError(
                f"cannot back up the store at {self.path} to {target}: {hint}; "
                f"the store itself is unchanged ({exc})"
            ) from None

    def checkpoints_home(self) -> Path | None:
        """``<store>.snapshots`` beside the store directory: checkpoints are hard links to the
        store's files, which needs the same file system. None in memory."""
        if self.path is None:
            return None
        return self.path.with_name(self.path.name + ".snapshots")

    def checkpoint(self, target: Path) -> None:
        """A RocksDB checkpoint (:meth:`backup`): hard links, about 10 ms at 1k documents."""
        self.backup(target)

    @classmethod
    def open_checkpoint(cls, path: Path) -> EmbeddedStore:
        return cls.read_only(path)

    def attest(self, statement: str) -> None:
        """Leave ``statement`` in the store directory (loader/store/attestation.py); every
        write through this object withdraws it first. Nothing in memory or read-only."""
        if self._attestation is not None:
            self._attestation.write(statement)

    def attested(self) -> str | None:
        if self._attestation is None:
            return None
        return self._attestation.statement

    def cache_home(self) -> Path | None:
        """The store directory itself (RocksDB leaves files it does not know alone, as it
        does the bulk-write journal); None in memory and for a read-only store."""
        return None if self.path is None or self._read_only else self.path

    def flush(self) -> None:
        """Write RocksDB's write buffers (memtables) to disk, which frees them: each
        transaction's writes stay there until a buffer fills, several hundred MB after a
        summary rebuild of 30k documents."""
        if self.path is None or self._read_only:
            return
        try:
            self._store.flush()
        except OSError as exc:
            self._write_failed = True
            raise io_error(self.path, "flush", exc) from None

    def compact(self) -> None:
        """RocksDB's full compaction (pyoxigraph's ``optimize``): deleted and overwritten
        entries are dropped and the levels merged. On the 100k-document store after a rebuild
        that replaced its summary, it took 76 s and 99 MB, shrank the store from 9.2 to 6.4 GB
        and made q05's ranked summary form 1.36x faster (docs/benchmarks.md). Committed data is
        not at stake: a failed compaction leaves the files it was rewriting as they were."""
        if self.path is None or self._read_only:
            return
        try:
            self._store.optimize()
        except OSError as exc:
            raise io_error(self.path, "compact", exc) from None

    def close(self) -> None:
        """Flush the on-disk store and release it (and its lock).

        Committed data does not depend on the flush (each commit is in RocksDB's write-ahead
        log), so a flush that fails after a failed write is left unreported: the write's error
        is the one that says what happened.
        """
        store, path = self._store, self.path
        del self._store  # pyoxigraph closes the database when the object is collected
        if path is None or self._read_only:
            return
        try:
            store.flush()
        except OSError as exc:
            if not self._write_failed:
                raise io_error(path, "flush", exc) from None
            log.debug("flushing the store at %s failed after a failed write: %s", path, exc)
