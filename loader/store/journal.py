"""The journal of the bulk write in flight: what undoes a batch that a crash cut short.

The embedded store's bulk path (:meth:`~loader.store.embedded.EmbeddedStore.commit` with
``bulk_writes`` on) hands a batch of new document graphs to Oxigraph's bulk loader, which writes
SST files and has RocksDB ingest them outside any transaction: a process killed in the middle
may leave part of the batch in the store (some named-graph quads, some of the union's). Before
the bulk write the store records the batch here, and removes the record once the write returns;
a record still there when the store is next opened for writing is a batch to undo.

The protocol, and what a crash at each step leaves:

1. the batch's quads (N-Quads) and an end line that counts them go to ``<journal>.tmp``, which
   is fsynced; a crash here leaves at most that temporary file, and the batch never started;
2. the temporary file is renamed to the journal and the directory fsynced, so the journal is
   either whole or absent (a journal without its end line was not written by this protocol
   and is never trusted: :class:`JournalError`);
3. the bulk write; a crash here leaves the whole journal: its batch is undone at the next open;
4. the journal is removed and the directory fsynced; a crash between 3 and 4 undoes a batch
   that was written whole, which the same load run again writes back.

A batch that keeps the summary exact as it goes (a run small beside its store) carries the
summary's ``DELETE DATA`` / ``INSERT DATA``: they run after step 3, in one transaction with a
*done mark*, a triple in the internal graph :data:`DONE_GRAPH` that holds the batch's token (the
journal's first line). At the next open, a journal whose token the store marks done is a batch
whose every part landed: it is kept, and the journal and the mark go; without the mark, the
batch is undone as above and the summary never saw it. The mark goes once the journal is
removed (or at the next open).

The journal lives inside the store directory (RocksDB leaves files it does not know alone),
so it travels with the store when the directory is copied or moved.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, parse, serialize
from pyoxigraph import Store as OxStore

from diplograph.loader.errors import StoreError
from diplograph.loader.store.attestation import sync_directory
from diplograph.loader.store.base import INTERNAL_GRAPH_PREFIX

__all__ = ["DONE_GRAPH", "DONE_PREDICATE", "JOURNAL_NAME", "BulkJournal", "JournalError"]

# The undo and the kept batch are told in the store's log, where they were before.
log = logging.getLogger("diplograph.loader.store.embedded")

#: The journal's file name in the store directory.
JOURNAL_NAME = "diplograph-bulk-batch.nq"
#: The internal graph (loader/store/base.py, ``INTERNAL_GRAPH_PREFIX``) of the done mark, and
#: the predicate whose object is the token of the batch marked done.
DONE_GRAPH = INTERNAL_GRAPH_PREFIX + "bulk-batch-done"
DONE_PREDICATE = DONE_GRAPH + "#token"
_END = re.compile(rb"\n# end of batch: (\d+) quads\n\Z")
_TOKEN = re.compile(rb"\A# batch: ([0-9a-f]+)\n")
#: The name Oxigraph's bulk loader gives the files it writes before RocksDB ingests them.
_STRAY = re.compile(r"bulk-\d+\.sst")


class JournalError(StoreError):
    """The store directory holds a journal that is not whole: no batch can be undone from it."""


class BulkJournal:
    """The journal of one store directory (see the module docstring for the protocol)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / JOURNAL_NAME
        self._temporary = directory / (JOURNAL_NAME + ".tmp")

    def record(self, quads: Sequence[Quad]) -> None:
        """Record the batch ``quads`` (its named-graph quads), durably, before it is written."""
        self.record_text(serialize(quads, format=RdfFormat.N_QUADS) or b"", len(quads))

    def record_text(self, body: bytes, count: int, token: str | None = None) -> None:
        """Record the batch given as N-Quads ``body`` of ``count`` lines (its named-graph
        quads), durably, before it is written; ``token`` names it for its done mark."""
        end = f"\n# end of batch: {count} quads\n".encode()
        with open(self._temporary, "wb") as out:
            if token is not None:
                out.write(f"# batch: {token}\n".encode())
            out.write(body)
            out.write(end)
            out.flush()
            os.fsync(out.fileno())
        os.replace(self._temporary, self.path)
        self._sync_directory()

    def clear(self) -> None:
        """Remove the journal once its batch is written whole."""
        self.path.unlink()
        self._sync_directory()

    def pending(self) -> list[Quad] | None:
        """The quads of a batch whose bulk write may not have finished, or None.

        A temporary file (step 1 cut short) is removed: its batch never started. Raises
        :class:`JournalError` for a journal that is not whole.
        """
        with contextlib.suppress(FileNotFoundError):
            self._temporary.unlink()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        end = _END.search(data)
        if end is None:
            raise self._torn("it has no end line")
        try:
            quads = list(parse(data[: end.start() + 1], format=RdfFormat.N_QUADS))
        except SyntaxError as exc:
            raise self._torn(f"it does not parse ({exc})") from None
        counted = int(end.group(1))
        if len(quads) != counted:
            raise self._torn(f"it holds {len(quads)} quads, its end line says {counted}")
        return quads

    def done_operation(self, token: str) -> str:
        """The ``INSERT DATA`` of the done mark of the batch ``token``, to run in one
        transaction with the batch's upkeep."""
        mark = f'<{DONE_GRAPH}> <{DONE_PREDICATE}> "{token}"'
        return f"INSERT DATA {{ GRAPH <{DONE_GRAPH}> {{ {mark} }} }}"

    def drop_done_mark(self, store: OxStore) -> None:
        """Remove the done mark (once the journal it answers is gone)."""
        store.remove_graph(NamedNode(DONE_GRAPH))

    def recover(self, store: OxStore) -> bool:
        """Bring ``store`` back to a whole state after a crash: keep the batch the journal
        records when its done mark is there (every part of it landed), else undo it. Its graphs
        were new, so they are dropped whole; each of its triples leaves the union unless
        another named graph holds it. The store is then as it was before the batch, and the
        journal and the mark are removed. Repeating it after a crash in the middle gives the
        same result. True when the store changed."""
        quads = self.pending()
        token = self.token()
        done = store.contains_named_graph(NamedNode(DONE_GRAPH))
        if quads is None or (token is not None and done and self._marked(store, token)):
            if quads is not None:  # every part of the batch landed: it stays
                self.clear()
                log.info("kept a bulk write whose every part landed (journal %s)", self.path)
            if done:
                self.drop_done_mark(store)
            return done
        graphs = {q.graph_name for q in quads}
        left_union = 0
        for triple in {q.triple for q in quads}:
            holders = store.quads_for_pattern(triple.subject, triple.predicate, triple.object, None)
            if any(
                not isinstance(h.graph_name, DefaultGraph) and h.graph_name not in graphs
                for h in holders
            ):
                continue
            union_quad = Quad(triple.subject, triple.predicate, triple.object, DefaultGraph())
            if union_quad in store:
                store.remove(union_quad)
                left_union += 1
        for graph in {*graphs, NamedNode(DONE_GRAPH)}:
            store.remove_graph(graph)
        store.flush()  # the undo is on disk before its journal goes
        self.clear()
        log.warning(
            "undid a bulk write that did not finish: %d graph(s) of %d quads dropped and %d "
            "triple(s) taken out of the union (journal %s); run the same load again to load "
            "those documents",
            len(graphs),
            len(quads),
            left_union,
            self.path,
        )
        return True

    @staticmethod
    def _marked(store: OxStore, token: str) -> bool:
        graph = NamedNode(DONE_GRAPH)
        return Quad(graph, NamedNode(DONE_PREDICATE), Literal(token), graph) in store

    def token(self) -> str | None:
        """The token of the batch the journal records, when it has one."""
        try:
            with open(self.path, "rb") as journal:
                found = _TOKEN.match(journal.readline())
        except FileNotFoundError:
            return None
        return found.group(1).decode() if found else None

    def remove_unfinished_files(self) -> int:
        """Remove the SST files of a bulk write that a crash cut short; return how many.

        Oxigraph's bulk loader writes its sorted files into the store directory as
        ``bulk-<random number>.sst`` and has RocksDB ingest them at the end, which moves them
        to numbered files of the database; a process killed before that leaves them there,
        and nothing else would ever remove them (measured: 21 such files, a few MB each, after
        a kill 20 s into the bulk write of 3M quads). Only for a store held open for writing
        (its lock keeps any other writer out), before anything is written.
        """
        removed = 0
        for stray in self.directory.glob("bulk-*.sst"):
            if _STRAY.fullmatch(stray.name):
                with contextlib.suppress(FileNotFoundError):
                    stray.unlink()
                    removed += 1
        return removed

    def _torn(self, why: str) -> JournalError:
        return JournalError(
            f"the bulk-write journal {self.path} is not whole ({why}), so the batch it records "
            "cannot be undone from it; the store may hold part of that batch: restore the store "
            "from a backup, or load into a new store directory"
        )

    def _sync_directory(self) -> None:
        sync_directory(self.directory)
