"""The claims of a store's documents, kept in a file beside the store for the next process.

Every process that loads into a store first needs the mentions and reports of every document
already there (loader/reconcile.py). Reading them means parsing each document's kept facts
again: 2.6 s of the 3.1 s it took at 10k documents, growing with the store. A process that
read them (and kept them in step with its own commits) leaves them in this file when it closes
the store; the next one reads the file instead, in a fraction of that time.

The file is trusted for nothing but its content's key. Its key is the **fingerprint of the
kept facts** it was derived from: for every document graph, the SHA-1 of its kept facts text,
combined with the graph's name, XORed together. The store computes that hash itself
(``SHA1()`` in SPARQL), so checking the fingerprint reads 40 bytes a document instead of the
whole text; and XOR lets a process keep the fingerprint in step with its commits, one document
at a time. Any write the file did not see (another process, a raw SPARQL update, a restored
backup) changes the fingerprint, and the claims are read from the store as before. The key
also holds a digest of the code that derives claims from facts, so a new version of the loader
never reads an older version's claims.

The file is JSON Lines (a format that cannot run code when read; a line a table's chunk of rows,
so that neither writing nor reading it holds the whole of it), written to a temporary name and
renamed, so a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from diplograph.loader.curation import Curation
from diplograph.loader.mentions import EventMention, Mention, Ref
from diplograph.loader.store import Store

__all__ = [
    "CACHE_NAME",
    "ClaimsCache",
    "StoredClaims",
    "StoredIdentities",
    "document_digest",
    "facts_sha1",
    "fingerprint_of",
    "identities_key",
]

log = logging.getLogger(__name__)

#: The file's name in the store's cache directory (:meth:`~loader.store.Store.cache_home`).
CACHE_NAME = "diplograph-claims.jsonl"
#: Changes when the file's layout changes.
_FORMAT = 4


def document_digest(graph: str, facts_sha1: str) -> int:
    """A document's part of the fingerprint: its graph and the SHA-1 (hex) of its kept facts."""
    data = f"{graph}\0{facts_sha1.lower()}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


def fingerprint_of(hashes: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """The fingerprint of kept facts given as (graph, SHA-1) pairs, and how many they are. XOR:
    the fingerprint of a union of disjoint sets is the XOR of theirs, and XOR undoes itself."""
    fingerprint = documents = 0
    for graph, sha1 in hashes:
        fingerprint ^= document_digest(graph, sha1)
        documents += 1
    return fingerprint, documents


def facts_sha1(text: str) -> str:
    """The SHA-1 of a kept facts text, as SPARQL's ``SHA1()`` gives it."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


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


class ClaimsCache:
    """The claims file of one store: read it when its key matches, write it anew."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, store: Store) -> ClaimsCache | None:
        """The claims file of ``store``, or None when the store has no cache directory."""
        home = store.cache_home()
        return None if home is None else cls(home / CACHE_NAME)

    def read(self, fingerprint: int, documents: int) -> StoredClaims | None:
        """The claims kept for a store whose kept facts have ``fingerprint`` and number
        ``documents``; None when the file is missing, unreadable or for other facts."""
        try:
            with open(self.path, encoding="utf-8") as lines:
                key = json.loads(lines.readline() or "null")
                if key != _key(fingerprint, documents):
                    log.info("the claims file %s is for other facts: reading the store", self.path)
                    return None
                return _decode(lines)
        except FileNotFoundError:
            return None
        except (OSError, LookupError, TypeError, ValueError) as exc:
            log.warning("not using the claims file %s: %s", self.path, exc)
            return None

    def write(self, fingerprint: int, documents: int, claims: StoredClaims) -> None:
        """Keep ``claims`` as those of the kept facts with ``fingerprint``. A failure to write
        is logged, not raised: the file only saves time."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as out:
                out.write(json.dumps(_key(fingerprint, documents)) + "\n")
                for line in _encode(claims):
                    out.write(line + "\n")
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("cannot write the claims file %s: %s", self.path, exc)
            temporary.unlink(missing_ok=True)


def _key(fingerprint: int, documents: int) -> list[Any]:
    return [_FORMAT, _code_digest(), f"{fingerprint:032x}", documents]


# -- the layout. The first line is the key; each next line is ``[table, [row, ...]]``, at most
# _ROWS rows, so that neither writing nor reading holds the whole file in memory (one JSON
# document of the 100k store's claims is 38 MB of text, and several times that as lists). The
# tables come in order: mentions, graphs, refs and participant lists, which the rows of the
# last two (made_by, reports) point into by index. The reports of one event share their
# participants: each list is written once (the file of the 30k store: 12.0 MB against 13.4 MB
# with a list in every report). The identities come last, when known: their key, the mentions'
# keys, and the reports whose node is not their own (739 of the 100k store's 400,773).

_ROWS = 10_000


def _lines(table: str, rows: Iterable[Any]) -> Iterator[str]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _ROWS:
            yield json.dumps([table, chunk], separators=(",", ":"))
            chunk = []
    if chunk:
        yield json.dumps([table, chunk], separators=(",", ":"))


def _encode(claims: StoredClaims) -> Iterator[str]:
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
    for report in reports:
        if report.participants not in parts:
            parts[report.participants] = len(parts)
            for _, ref in report.participants:
                ref_id(ref)
        if report.place is not None:
            ref_id(report.place)
    if identities is not None:
        for mention in identities.keys:
            mentions.setdefault(mention, len(mentions))
        if not all(report in reports for report in identities.nodes):
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
    yield from _lines(
        "reports",
        (
            [
                r.type,
                parts[r.participants],
                -1 if r.place is None else refs[r.place],
                r.time_key,
                r.document,
            ]
            for r in reports
        ),
    )
    if identities is None:
        return
    yield from _lines("identities", [identities.key])
    yield from _lines("keys", ([mentions[m], key] for m, key in identities.keys.items()))
    yield from _lines("nodes", ([reports[r], node] for r, node in identities.nodes.items()))


def _decode(lines: Iterable[str]) -> StoredClaims:
    mentions: list[Mention] = []
    graphs: list[str] = []
    refs: list[Ref] = []
    participants: list[tuple[tuple[str, Ref], ...]] = []
    graphs_of: dict[Mention, list[str]] = {}
    reports: list[EventMention] = []
    key: str | None = None
    keys: dict[Mention, str] = {}
    nodes: dict[EventMention, tuple[str, ...]] = {}
    shared: dict[Any, Any] = {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

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
        elif table == "reports":
            # equal strings and time keys made one object: rows give each report its own,
            # 88 MB of the 100k store's claims held in memory
            reports.extend(
                EventMention(
                    one(kind),
                    participants[who],
                    None if place < 0 else refs[place],
                    one(tuple(time_key)),
                    one(document),
                )
                for kind, who, place, time_key, document in rows
            )
        elif table == "identities":
            key = rows[0]
        elif table == "keys":
            keys.update((mentions[m], k) for m, k in rows)
        elif table == "nodes":
            nodes.update((reports[i], tuple(node)) for i, node in rows)
        else:
            raise ValueError(f"unknown table {table!r}")
    identities = None if key is None else StoredIdentities(key, keys, nodes)
    return StoredClaims(graphs_of, reports, identities)
