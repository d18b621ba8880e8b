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

# The summary upkeep's scratch terms (loader/summary/upkeep.py). They only ever live in a
# scratch graph inside one transaction, in a namespace no data IRI is minted in.
SCRATCH_CANDIDATE = "urn:x-diplograph:summary:candidate"
SCRATCH_TOUCHED = "urn:x-diplograph:summary:touched"
SCRATCH_PLUS = "urn:x-diplograph:summary:plus"
SCRATCH_MINUS = "urn:x-diplograph:summary:minus"


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


def _digest32(text: str) -> str:
    """SPARQL's ``SUBSTR(SHA256(text), 1, 32)``: the summary nodes' key (see below)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _digest32_sparql(text: str) -> str:
    """The SPARQL twin of :func:`_digest32`, over the string expression ``text``."""
    return f"SUBSTR(SHA256({text}), 1, 32)"


class IriMinter:
    """Mints every data IRI under one base IRI (``Settings.base_iri``).

    The summary's count nodes are minted twice, in Python (the upkeep computes keys from a few
    reads) and in SPARQL (the rebuild and the general upkeep compute them inside the store):
    each ``*_sparql`` method is the twin of the method of the same name, and tests/test_iris.py
    checks that both give the same IRI.
    """

    def __init__(self, base_iri: str) -> None:
        self.base = base_iri

    def ids(self) -> str:
        """The namespace of the data IRIs (``{base}id/``), which the linked-data pages serve."""
        return f"{self.base}id/"

    def documents(self) -> str:
        """The namespace of the documents' IRIs, which are also their named graphs' IRIs."""
        return f"{self.ids()}doc/"

    def document(self, document_id: str) -> str:
        """The document's IRI, which is also its named graph's IRI."""
        if re.match(r"^https?://", document_id):
            parts = urlsplit(document_id)
            key = slug(f"{parts.netloc} {parts.path} {parts.query}")
        else:
            key = slug(document_id)
        return f"{self.documents()}{key}"

    def summary_graph(self) -> str:
        """The named graph of the summary counts (loader/summary/)."""
        return f"{self.base}graph/summary"

    def curation_graph(self) -> str:
        """The named graph of curators' statements that two nodes are, or are not, one entity
        or event (loader/curation.py): no document's, so reloads and retractions keep it."""
        return f"{self.base}graph/curation"

    def summary_nodes(self) -> str:
        """The namespace of the summary's count nodes: under ``id/``, so that the linked-data
        pages that link to them resolve."""
        return f"{self.ids()}summary/"

    def interaction_counts(self) -> str:
        """The namespace of the interaction counts (:meth:`interaction_count`)."""
        return f"{self.summary_nodes()}interaction/"

    def interaction_count(self, first: str, second: str) -> str:
        """The count node of the pair of agents whose IRIs are ``first`` < ``second``."""
        return f"{self.interaction_counts()}{_digest32(f'{first} {second}')}"

    def interaction_count_sparql(self, first: str, second: str) -> str:
        """:meth:`interaction_count` in SPARQL, over string expressions (``STR(?a)``)."""
        key = _digest32_sparql(f'CONCAT({first}, " ", {second})')
        return f'IRI(CONCAT("{self.interaction_counts()}", {key}))'

    def corroboration_count(self, event: str) -> str:
        """The count node of the documents an event (its IRI) is derived from."""
        return f"{self.summary_nodes()}corroboration/{_digest32(event)}"

    def corroboration_count_sparql(self, event: str) -> str:
        """:meth:`corroboration_count` in SPARQL, over a string expression (``STR(?e)``)."""
        return f'IRI(CONCAT("{self.summary_nodes()}corroboration/", {_digest32_sparql(event)}))'

    def events_by_month(self, month: str, event_type: str) -> str:
        """The count node of the events of type ``event_type`` (an IRI) in ``month``
        (``YYYY-MM``)."""
        return f"{self.summary_nodes()}events/{_digest32(f'{month} {event_type}')}"

    def events_by_month_sparql(self, month: str, event_type: str) -> str:
        """:meth:`events_by_month` in SPARQL, over string expressions (``?m``, ``STR(?t)``)."""
        key = _digest32_sparql(f'CONCAT({month}, " ", {event_type})')
        return f'IRI(CONCAT("{self.summary_nodes()}events/", {key}))'

    def event_type_ranks(self) -> str:
        """The namespace of the event types' rank nodes (:meth:`event_type_rank`)."""
        return f"{self.summary_nodes()}type/"

    def event_type_rank(self, event_type: str) -> str:
        """The rank node of an event type (its IRI) among those the month counts name."""
        return f"{self.event_type_ranks()}{_digest32(event_type)}"

    def event_type_rank_sparql(self, event_type: str) -> str:
        """:meth:`event_type_rank` in SPARQL, over a string expression (``STR(?t)``)."""
        return f'IRI(CONCAT("{self.event_type_ranks()}", {_digest32_sparql(event_type)}))'

    def entity(self, entity_type: str, name: str, wikidata: str | None) -> str:
        """An entity: keyed by its Wikidata id when known, else by its normalized name."""
        kind = ENTITY_KIND[entity_type]
        return f"{self.ids()}{kind}/{wikidata if wikidata else slug(name)}"

    def entity_key(self, entity_type: str, key: str) -> str:
        """An entity whose key is decided (loader/identity.py: a Wikidata id or a name key)."""
        return f"{self.ids()}{ENTITY_KIND[entity_type]}/{key}"

    def government(self, state_key: str) -> str:
        """The government of a state, keyed by the state's key (its Wikidata id, else its
        name's slug): one node per state, whatever each document calls its government."""
        return f"{self.ids()}org/government-of-{state_key}"

    def organization(self, name: str) -> str:
        """An organization named only by a string, such as a document's publisher."""
        return f"{self.ids()}org/{slug(name)}"

    def event(
        self, fact_type: str, participants: Iterable[tuple[str, str]], time_key: Iterable[str]
    ) -> str:
        """An event: keyed by type, (role, participant IRI) pairs and its time bounds."""
        times = [t for t in time_key if t]
        key = _hash(fact_type, *sorted(f"{r}={p}" for r, p in participants), *times)
        when = times[0][:10] if times else "undated"
        return f"{self.ids()}event/{fact_type.lower()}-{when}-{key[:12]}"

    def situation(
        self, fact_type: str, participants: Iterable[tuple[str, str]], qualifiers: Iterable[str]
    ) -> str:
        """A situation (relation, backing, stance, agreement): type, participants, qualifiers."""
        key = _hash(fact_type, *sorted(f"{r}={p}" for r, p in participants), *qualifiers)
        return f"{self.ids()}situation/{fact_type.lower()}-{key[:12]}"

    def holding(self, holder: str, post: str, start: str | None) -> str:
        """A post held by a person (from ``start``, when known)."""
        return f"{self.ids()}holding/{_hash(holder, post, start or '')[:16]}"

    def participation(self, event: str, role: str, agent: str) -> str:
        """The n-ary node of one participant's part in an event."""
        return f"{event}/participation/{role}-{_hash(agent)[:8]}"

    def attestation(self, document: str, fact_id: str) -> str:
        """One document's attestation of one fact."""
        return f"{document}/attestation/{slug(fact_id)}"

    def point(self, document: str, place_id: str) -> str:
        """The coordinates one document gives a place (its own point: another document may
        put the place elsewhere)."""
        return f"{document}/point/{slug(place_id)}"

    def span(self, attestation: str, start: int, end: int) -> str:
        """A span of the document's text that is evidence for a fact."""
        return f"{attestation}/span/{start}-{end}"

    def run(self, document: str) -> str:
        """The extraction run whose output was loaded for ``document``."""
        return f"{document}/run"

    def extractor(self, tool: str, version: str) -> str:
        """An extraction pipeline at one version."""
        return f"{self.ids()}extractor/{slug(tool)}/{slug(version)}"
