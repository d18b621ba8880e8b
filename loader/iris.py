"""Deterministic IRI minting: the only module that makes data IRIs.

The rules (documented in docs/mapping.md) make the same entity in two documents one node, and the
same real-world event reported by two documents (same type, participants and date) one node
attested by both. Every function is pure: same input, same IRI, on every machine.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_MAX_SLUG = 80

# Which path an entity type's IRIs live under.
ENTITY_KIND: dict[str, str] = {
    "Person": "person",
    "State": "state",
    "Government": "org",
    "GovernmentBody": "org",
    "ForeignMinistry": "org",
    "Organization": "org",
    "NonStateArmedGroup": "org",
    "Militia": "org",
    "Place": "place",
    "City": "place",
    "Region": "place",
    "Post": "post",
    "DiplomaticPost": "post",
}

SITUATION_TYPES = frozenset({"BilateralRelation", "Backing", "Stance", "Agreement"})


def slug(text: str) -> str:
    """An IRI-safe, lower-case ASCII form of ``text``; long or empty results get a hash."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    result = _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")
    if not result or len(result) > _MAX_SLUG:
        return (result[: _MAX_SLUG - 13] + "-" if result else "x-") + _hash(text)[:12]
    return result


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")  # a separator no part contains: ("ab","c") != ("a","bc")
    return digest.hexdigest()


class IriMinter:
    """Mints every data IRI under one base IRI (``Settings.base_iri``)."""

    def __init__(self, base_iri: str) -> None:
        self.base = base_iri

    def document(self, document_id: str) -> str:
        """The document's IRI, which is also its named graph's IRI."""
        if re.match(r"^https?://", document_id):
            parts = urlsplit(document_id)
            key = slug(f"{parts.netloc} {parts.path} {parts.query}")
        else:
            key = slug(document_id)
        return f"{self.base}id/doc/{key}"

    def summary_graph(self) -> str:
        """The named graph of the summary counts (loader/summary.py)."""
        return f"{self.base}graph/summary"

    def entity(self, entity_type: str, name: str, wikidata: str | None) -> str:
        """An entity: keyed by its Wikidata id when known, else by its normalized name."""
        kind = ENTITY_KIND[entity_type]
        return f"{self.base}id/{kind}/{wikidata if wikidata else slug(name)}"

    def organization(self, name: str) -> str:
        """An organization named only by a string, such as a document's publisher."""
        return f"{self.base}id/org/{slug(name)}"

    def event(
        self, fact_type: str, participants: Iterable[tuple[str, str]], time_key: Iterable[str]
    ) -> str:
        """An event: keyed by type, (role, participant IRI) pairs and its time bounds."""
        times = [t for t in time_key if t]
        key = _hash(fact_type, *sorted(f"{r}={p}" for r, p in participants), *times)
        when = times[0][:10] if times else "undated"
        return f"{self.base}id/event/{fact_type.lower()}-{when}-{key[:12]}"

    def situation(
        self, fact_type: str, participants: Iterable[tuple[str, str]], qualifiers: Iterable[str]
    ) -> str:
        """A situation (relation, backing, stance, agreement): type, participants, qualifiers."""
        key = _hash(fact_type, *sorted(f"{r}={p}" for r, p in participants), *qualifiers)
        return f"{self.base}id/situation/{fact_type.lower()}-{key[:12]}"

    def holding(self, holder: str, post: str, start: str | None) -> str:
        """A post held by a person (from ``start``, when known)."""
        return f"{self.base}id/holding/{_hash(holder, post, start or '')[:16]}"

    def participation(self, event: str, role: str, agent: str) -> str:
        """The n-ary node of one participant's part in an event."""
        return f"{event}/participation/{role}-{_hash(agent)[:8]}"

    def attestation(self, document: str, fact_id: str) -> str:
        """One document's attestation of one fact."""
        return f"{document}/attestation/{slug(fact_id)}"

    def span(self, attestation: str, start: int, end: int) -> str:
        """A span of the document's text that is evidence for a fact."""
        return f"{attestation}/span/{start}-{end}"

    def run(self, document: str) -> str:
        """The extraction run whose output was loaded for ``document``."""
        return f"{document}/run"

    def extractor(self, tool: str, version: str) -> str:
        """An extraction pipeline at one version."""
        return f"{self.base}id/extractor/{slug(tool)}/{slug(version)}"
