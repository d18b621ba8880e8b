"""The claims of a store's documents, kept in a file beside the store for the next process.

Every process that loads into a store first needs the mentions and reports of every document
already there (loader/reconcile.py). Reading them means parsing each document's kept facts
again: 2.6 s of the 3.1 s it took at 10k documents, growing with the store. A process that
read them (and kept them in step with its own commits) leaves them in this file when it closes
the store; the next one reads the file instead, in a fraction of that time.

The file is trusted for nothing but its content's key. Its key is the **fingerprint of the
kept facts** it was derived from (loader/fingerprint.py). Any write the file did not see
(another process, a raw SPARQL update, a restored backup) changes the fingerprint, and the
claims are read from the store as before; a state of the file that the store attests is taken
without computing the fingerprint (:meth:`ClaimsCache.current`). The key
also holds a digest of the code that derives claims from facts, so a new version of the loader
never reads an older version's claims.

The file is JSON Lines (a format that cannot run code when read; a line a table's chunk of rows,
so that neither writing nor reading it holds the whole of it), written to a temporary name and
renamed, so a crash leaves the old file or the new one, never half of one.

**Deltas.** Writing the whole file again after every load made the claims a cost of each small
load that grows with the store: 3.7 s of a 19 s load of 10 documents into the 100k store,
whose file was then 38 MB (docs/benchmarks.md). When every change since the file was read or written
added documents the store did not hold, the new documents' claims are appended as a **delta**
instead: a header line with the fingerprints before and after it, then its tables (with the
mentions' keys that changed, and the nodes of the reports whose node is not their own).
A reader follows the chain of deltas from the base and stops at the state whose fingerprint is
the store's; a delta cut short by a crash, or that does not follow on, ends the chain. The
file is written whole again when the deltas outgrow a quarter of the base, or when a change
replaced or retracted a document.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, cast

from diplograph.loader.curation import Curation
from diplograph.loader.fingerprint import attestation, kept_fingerprint
from diplograph.loader.mentions import EventMention, Mention, Ref
from diplograph.loader.store import Store

__all__ = [
    "CACHE_NAME",
    "ClaimsCache",
    "FileState",
    "StoredClaims",
    "StoredIdentities",
    "identities_key",
]

log = logging.getLogger(__name__)

#: The file's name in the store's cache directory (:meth:`~loader.store.Store.cache_home`).
CACHE_NAME = "diplograph-claims.jsonl"
#: Changes when the file's layout changes.
_FORMAT = 6
#: The first element of a delta's header line (a table's line starts with the table's name).
_DELTA = "delta"


@cache
def _code_digest() -> str:
    # The claims are a function of the facts and of the code that reads them (names made
    # slugs, states found in the gazetteer): any change to the loader's code or data files
    # makes earlier files unreadable rather than subtly wrong.
    root = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc"):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def identities_key(curations: Iterable[Curation], prefix: str) -> str:
    """What the identities of a set of claims depend on besides the claims: the curators'
    statements, and the namespace (``{base}id/``) whose IRIs they name."""
    statements = sorted({(c.first, c.second, str(c.verdict)) for c in curations})
    text = json.dumps([prefix, statements], separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class StoredIdentities:
    """The identities of the claims beside them (loader/identity.py), for the curations and
    namespace :func:`identities_key` gave ``key`` for: every mention's key, and the node time
    key of each report whose node is not its own. (The event groups follow from the keys:
    computed again, 0.3 s at 100k documents, they cost less than their table, 1.1 s to read
    and 0.8 s to write.)"""

    key: str
    keys: Mapping[Mention, str]
    nodes: Mapping[EventMention, tuple[str, ...]]


@dataclass
class StoredClaims:
    """What a reconciler holds of a store's documents: each mention with the graphs that make
    it, and every event report (a report names its document); with the identities they gave,
    when known."""

    graphs_of: Mapping[Mention, Iterable[str]]
    reports: Iterable[EventMention]
    identities: StoredIdentities | None = None


@dataclass(frozen=True)
class FileState:
    """The claims file as this process last read or wrote it: its size and modification time
    (a delta is appended only to that very file) and the length of its base in bytes (the
    deltas after it are written into a new base once they outgrow a quarter of it)."""

    size: int
    mtime_ns: int
    base: int


@dataclass(frozen=True)
class _Delta:
    """A delta's header: the fingerprint before and after it (hex), the documents after it,
    its lines, and whether all of them are in the file (a crash may cut the last one short)."""

    before: str
    after: str
    documents: int
    lines: int
    whole: bool


class ClaimsCache:
    """The claims file of one store: read it when its key matches, write it anew, or append
    a delta to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: after :meth:`read`, the file's state when the claims read are its last ones (a
        #: delta may follow them), else None
        self.state: FileState | None = None

    @classmethod
    def of(cls, store: Store) -> ClaimsCache | None:
        """The claims file of ``store``, or None when the store has no cache directory."""
        home = store.cache_home()
        return None if home is None else cls(home / CACHE_NAME)

    def current(self, store: Store, documents_prefix: str) -> tuple[int, int, StoredClaims | None]:
        """The fingerprint of ``store``'s kept facts and how many they are, with the claims the
        file keeps for them (None: it keeps none).

        When the store attests the file's last state (loader/store/attestation.py: nothing
        was written since a process in step with the store left it there), that state is the
        store's, and the fingerprint is not computed: 1.8-4.2 s at 100k documents. Otherwise
        the store computes it on another thread while this one reads the file's last state,
        the one the last process left (at 100k documents, 2.1 s and 1.9 s, one after the other
        before): the store's query is one aggregate, during which Oxigraph lets go of Python's
        lock. When the fingerprint is another state's, the file is read again for it."""
        guess = self.last_state()
        if (
            guess is not None
            and store.attested() == attestation(*guess)
            and (known := self.read(*guess)) is not None
        ):
            return *guess, known
        with ThreadPoolExecutor(max_workers=1) as pool:
            computed = pool.submit(kept_fingerprint, store, documents_prefix)
            early = self.read(*guess) if guess is not None else None
            fingerprint, documents = computed.result()
        if early is not None and guess == (fingerprint, documents):
            return fingerprint, documents, early
        return fingerprint, documents, self.read(fingerprint, documents)

    def read(self, fingerprint: int, documents: int) -> StoredClaims | None:
        """The claims kept for a store whose kept facts have ``fingerprint`` and number
        ``documents``; None when the file is missing, unreadable or for other facts."""
        self.state = None
        try:
            plan = self._plan(f"{fingerprint:032x}", documents)
            if plan is None:
                log.info("the claims file %s is for other facts: reading the store", self.path)
                return None
            deltas, base, last = plan
            with open(self.path, "rb") as lines:
                lines.readline()  # the key
                shared: dict[Any, Any] = {}
                claims = _decode(_lines_of(lines, None), shared)
                for delta in deltas:
                    claims = _merged(claims, _decode(_lines_of(lines, delta.lines), shared))
            if last:
                stat = os.stat(self.path)
                self.state = FileState(stat.st_size, stat.st_mtime_ns, base)
            return claims
        except FileNotFoundError:
            return None
        except (OSError, LookupError, TypeError, ValueError) as exc:
            log.warning("not using the claims file %s: %s", self.path, exc)
            return None

    def last_state(self) -> tuple[int, int] | None:
        """The fingerprint and number of documents of the file's last state (that of its last
        delta that follows on, else of its base); None when the file is missing, unreadable or
        of other code. A reader may take it for the store's and read the file while the store
        computes its own fingerprint (loader/reconcile.py)."""
        try:
            chain = self._chain()
        except FileNotFoundError:
            return None
        except (OSError, LookupError, TypeError, ValueError) as exc:
            log.warning("not using the claims file %s: %s", self.path, exc)
            return None
        if chain is None:
            return None
        state, deltas, _ = chain
        for delta in deltas:
            if not delta.whole or delta.before != state[0]:
                break
            state = (delta.after, delta.documents)
        return int(state[0], 16), state[1]

    def _chain(self) -> tuple[tuple[str, int], list[_Delta], int] | None:
        """The file's base state (fingerprint, documents), its deltas' headers in order, and
        the base's length in bytes; None when the file is of other code. Reads the key and the
        deltas' headers alone."""
        deltas: list[_Delta] = []
        with open(self.path, "rb") as lines:
            first = lines.readline()
            key = json.loads(first or b"null")
            if not isinstance(key, list) or key[:2] != [_FORMAT, _code_digest()]:
                return None
            base = offset = len(first)
            pending = 0  # lines of the current delta not seen yet
            for line in lines:
                offset += len(line)
                if not line.endswith(b"\n"):  # a write cut short
                    break
                if pending:
                    pending -= 1
                    if not pending:
                        deltas[-1] = replace(deltas[-1], whole=True)
                    continue
                if not line.startswith(_DELTA_LINE):
                    if deltas:  # a table line after a whole delta: not a file of ours
                        break
                    base = offset
                    continue
                _, (before, after, count, size) = json.loads(line)
                deltas.append(_Delta(before, after, count, size, whole=size == 0))
                pending = size
        return (key[2], key[3]), deltas, base

    def _plan(self, fingerprint: str, documents: int) -> tuple[list[_Delta], int, bool] | None:
        """Which of the file's deltas to read for the state (``fingerprint``, ``documents``):
        the chain of deltas from the base up to the last one that ends in that state, the
        base's length in bytes, and whether that delta is the file's last; None when no state
        of the file is that one."""
        chain_of_file = self._chain()
        if chain_of_file is None:
            return None
        state, deltas, base = chain_of_file
        chain: list[_Delta] = []
        found: tuple[list[_Delta], int, bool] | None = None
        if state == (fingerprint, documents):
            found = ([], base, not deltas)
        for index, delta in enumerate(deltas):
            if not delta.whole or delta.before != state[0]:
                break
            chain.append(delta)
            state = (delta.after, delta.documents)
            if state == (fingerprint, documents):
                found = (list(chain), base, index == len(deltas) - 1)
        return found

    def write(self, fingerprint: int, documents: int, claims: StoredClaims) -> FileState | None:
        """Keep ``claims`` as those of the kept facts with ``fingerprint``: the file written
        whole. A failure to write is logged, not raised: the file only saves time."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as out:
                out.write(json.dumps(_key(fingerprint, documents)) + "\n")
                for line in _encode(claims):
                    out.write(line + "\n")
            os.replace(temporary, self.path)
            stat = os.stat(self.path)
        except OSError as exc:
            log.warning("cannot write the claims file %s: %s", self.path, exc)
            temporary.unlink(missing_ok=True)
            return None
        return FileState(stat.st_size, stat.st_mtime_ns, stat.st_size)

    def append(
        self, state: FileState, before: int, fingerprint: int, documents: int, added: StoredClaims
    ) -> FileState | None:
        """Append ``added`` (the claims of documents added to the store, with the identities
        of the whole: the keys that changed since the file's last state, every report's node)
        as a delta from the kept facts with fingerprint ``before`` to those with
        ``fingerprint`` and ``documents``, to the file as it was in ``state``. None, and nothing
        written, when the file changed since, or when the deltas would outgrow a quarter of
        the base: the caller writes the whole file instead."""
        lines = list(_encode(added, inline_nodes=True))
        header = [_DELTA, [f"{before:032x}", f"{fingerprint:032x}", documents, len(lines)]]
        text = "".join(line + "\n" for line in [json.dumps(header), *lines]).encode()
        if (state.size - state.base + len(text)) * 4 > state.base:
            return None
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        if (stat.st_size, stat.st_mtime_ns) != (state.size, state.mtime_ns):
            return None
        try:
            with open(self.path, "ab") as out:
                out.write(text)
            stat = os.stat(self.path)
        except OSError as exc:
            # a delta cut short is not read (_plan): the caller writes the whole file
            log.warning("cannot append to the claims file %s: %s", self.path, exc)
            return None
        return FileState(stat.st_size, stat.st_mtime_ns, state.base)


def _key(fingerprint: int, documents: int) -> list[Any]:
    return [_FORMAT, _code_digest(), f"{fingerprint:032x}", documents]


_DELTA_LINE = b'["' + _DELTA.encode() + b'"'


def _lines_of(lines: Any, count: int | None) -> Iterator[bytes]:
    """The next ``count`` lines of the open file ``lines`` after a delta's header (which it
    skips), or with None the base's: the lines up to the first delta's header, left unread."""
    if count is not None:
        lines.readline()  # the header
        for _ in range(count):
            yield lines.readline()
        return
    while True:
        at = lines.tell()
        line = lines.readline()
        if not line:
            return
        if line.startswith(_DELTA_LINE):
            lines.seek(at)
            return
        yield line


def _merged(claims: StoredClaims, delta: StoredClaims) -> StoredClaims:
    """``claims`` (as :func:`_decode` gives them, extended in place) with the documents of
    ``delta`` added, and the identities after it: the keys that ``delta`` gives (those that
    changed) over the earlier ones, and its reports' nodes."""
    graphs_of = cast(dict[Mention, list[str]], claims.graphs_of)
    for mention, graphs in delta.graphs_of.items():
        graphs_of.setdefault(mention, []).extend(graphs)
    reports = cast(list[EventMention], claims.reports)
    reports.extend(delta.reports)
    identities = None
    if claims.identities is not None and delta.identities is not None:
        keys = cast(dict[Mention, str], claims.identities.keys)
        keys.update(delta.identities.keys)
        identities = StoredIdentities(delta.identities.key, keys, delta.identities.nodes)
    return StoredClaims(graphs_of, reports, identities)


# -- the layout. The first line is the key; each next line is ``[table, [row, ...]]``, at most
# _ROWS rows, so that neither writing nor reading holds the whole file in memory (one JSON
# document of the 100k store's claims is 38 MB of text, and several times that as lists). The
# tables come in order: mentions, graphs, refs, participant lists, report types, time keys and
# documents, which the rows of the last two (made_by, reports) point into by index. The reports
# of one event share their participants: each list is written once (the file of the 30k store:
# 12.0 MB against 13.4 MB with a list in every report). A report is five such indexes, and a
# line of reports one flat list of them: JSON numbers parse faster than strings and nested
# lists (decoding the 100k store's file: 1.2-1.7 s, against 2.2-2.5 s with a list of strings
# for each report).
# The identities come last, when known: their key, the mentions' keys, and the reports whose
# node is not their own (739 of the 100k store's 400,773).
# A delta (the module's docstring) is a header line ``["delta", [fingerprint before, after,
# documents after, lines]]`` and then tables of the same layout, whose indexes are its own; its
# keys are those that changed, and its reports' nodes are written whole (``report_nodes``).

_ROWS = 10_000


def _lines(table: str, rows: Iterable[Any], *, flat: bool = False) -> Iterator[str]:
    """Lines of ``table``, up to :data:`_ROWS` rows each; ``flat``: rows (sequences of one
    width) written one after the other in one list."""
    chunk: list[Any] = []
    count = 0
    for row in rows:
        if flat:
            chunk.extend(row)
        else:
            chunk.append(row)
        count += 1
        if count == _ROWS:
            yield json.dumps([table, chunk], separators=(",", ":"))
            chunk, count = [], 0
    if chunk:
        yield json.dumps([table, chunk], separators=(",", ":"))


def _index(values: Iterable[Any]) -> dict[Any, int]:
    """Each distinct value of ``values`` with its index, in order of first appearance."""
    found: dict[Any, int] = {}
    for value in values:
        found.setdefault(value, len(found))
    return found


def _encode(claims: StoredClaims, *, inline_nodes: bool = False) -> Iterator[str]:
    """The lines of ``claims``' tables. ``inline_nodes``: the reports whose node is not their
    own are written whole (table ``report_nodes``) rather than as indexes into the reports,
    for a delta, whose identities name reports of the documents before it too."""
    mentions: dict[Mention, int] = {}
    graphs: dict[str, int] = {}
    refs: dict[Ref, int] = {}
    parts: dict[tuple[tuple[str, Ref], ...], int] = {}
    reports = {report: i for i, report in enumerate(claims.reports)}
    identities = claims.identities

    def ref_id(ref: Ref) -> int:
        found = refs.get(ref)
        if found is None:
            found = refs[ref] = len(refs)
            if ref.mention is not None:
                mentions.setdefault(ref.mention, len(mentions))
        return found

    # First every index, so that the tables can be written before the rows that point in.
    for mention, made in claims.graphs_of.items():
        mentions.setdefault(mention, len(mentions))
        for graph in made:
            graphs.setdefault(graph, len(graphs))
    named = [*reports, *(identities.nodes if inline_nodes and identities is not None else ())]
    for report in named:
        if report.participants not in parts:
            parts[report.participants] = len(parts)
            for _, ref in report.participants:
                ref_id(ref)
        if report.place is not None:
            ref_id(report.place)
    if identities is not None:
        for mention in identities.keys:
            mentions.setdefault(mention, len(mentions))
        if not inline_nodes and not all(report in reports for report in identities.nodes):
            log.debug("the identities name reports the claims do not have: not kept")
            identities = None
    yield from _lines("mentions", ([m.kind, m.names, m.ids] for m in mentions))
    yield from _lines("graphs", graphs)
    yield from _lines(
        "refs", ([r.fixed, -1 if r.mention is None else mentions[r.mention]] for r in refs)
    )
    yield from _lines("participants", ([[role, refs[ref]] for role, ref in p] for p in parts))
    yield from _lines(
        "made_by",
        (
            [mentions[mention], sorted(graphs[g] for g in made)]
            for mention, made in claims.graphs_of.items()
        ),
    )

    kinds = _index(r.type for r in named)
    times = _index(r.time_key for r in named)
    documents = _index(r.document for r in named)
    yield from _lines("kinds", kinds)
    yield from _lines("times", times)
    yield from _lines("documents", documents)

    def row(r: EventMention) -> tuple[int, int, int, int, int]:
        place = -1 if r.place is None else refs[r.place]
        return (
            kinds[r.type],
            parts[r.participants],
            place,
            times[r.time_key],
            documents[r.document],
        )

    yield from _lines("reports", (row(r) for r in reports), flat=True)
    if identities is None:
        return
    yield from _lines("identities", [identities.key])
    yield from _lines("keys", ([mentions[m], key] for m, key in identities.keys.items()))
    if inline_nodes:
        yield from _lines("report_nodes", ([*row(r), n] for r, n in identities.nodes.items()))
    else:
        yield from _lines("nodes", ([reports[r], n] for r, n in identities.nodes.items()))


def _decode(lines: Iterable[str | bytes], shared: dict[Any, Any]) -> StoredClaims:
    """The claims of a base's or a delta's table lines; equal values made one object through
    ``shared``, which the base and its deltas share."""
    mentions: list[Mention] = []
    graphs: list[str] = []
    refs: list[Ref] = []
    participants: list[tuple[tuple[str, Ref], ...]] = []
    kinds: list[str] = []
    times: list[tuple[str, ...]] = []
    documents: list[str] = []
    graphs_of: dict[Mention, list[str]] = {}
    reports: list[EventMention] = []
    key: str | None = None
    keys: dict[Mention, str] = {}
    nodes: dict[EventMention, tuple[str, ...]] = {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    def report(kind: int, who: int, place: int, time: int, document: int) -> EventMention:
        return EventMention(
            kinds[kind],
            participants[who],
            None if place < 0 else refs[place],
            times[time],
            documents[document],
        )

    for line in lines:
        table, rows = json.loads(line)
        if table == "mentions":
            mentions.extend(Mention(kind, tuple(names), tuple(ids)) for kind, names, ids in rows)
        elif table == "graphs":
            graphs.extend(rows)
        elif table == "refs":
            refs.extend(
                Ref(fixed=fixed, mention=None if m < 0 else mentions[m]) for fixed, m in rows
            )
        elif table == "participants":
            participants.extend(tuple((role, refs[ref]) for role, ref in p) for p in rows)
        elif table == "made_by":
            graphs_of.update((mentions[m], [graphs[g] for g in made]) for m, made in rows)
        elif table in ("kinds", "documents"):
            # equal strings and time keys are one object (in the base and its deltas alike):
            # as many as the reports, they held 88 MB of the 100k store's claims in memory
            (kinds if table == "kinds" else documents).extend(one(value) for value in rows)
        elif table == "times":
            times.extend(one(tuple(value)) for value in rows)
        elif table == "reports":
            numbers = iter(rows)
            reports.extend(
                report(*row)
                for row in zip(numbers, numbers, numbers, numbers, numbers, strict=True)
            )
        elif table == "identities":
            key = rows[0]
        elif table == "keys":
            keys.update((mentions[m], k) for m, k in rows)
        elif table == "nodes":
            nodes.update((reports[i], tuple(node)) for i, node in rows)
        elif table == "report_nodes":
            nodes.update((report(*row[:5]), tuple(row[5])) for row in rows)
        else:
            raise ValueError(f"unknown table {table!r}")
    identities = None if key is None else StoredIdentities(key, keys, nodes)
    return StoredClaims(graphs_of, reports, identities)
