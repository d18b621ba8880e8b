"""One office held by two people at once.

The ontology defines a ``dip:Post`` as "an office or position in an organization that one person
holds at a time" (``dip:DiplomaticPost`` is a kind of it); :data:`SINGLE_HOLDER_POSTS` lists
the classes whose posts admit one holder (an ``org:Post`` of the W3C vocabulary alone may have
several members). Two holdings of such a post by different holders conflict when their periods
must overlap: neither can have ended before the other began.

* A holding's period runs from its start date to its end date, each at its precision (see
  :mod:`.values`): one that ends in March 2023 and one that starts on 2023-03-10 can follow
  each other, so they do not conflict.
* A missing start means "since before anything we know", a missing end "still held": two
  undated holdings, or two open ones, conflict. A ``kw:historical`` holding without an end
  ended at an unknown time, so it can always have ended first.
* Holdings stated as negated, hypothetical or future say nobody holds the post: left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from itertools import combinations

from diplograph.loader.conflicts.model import HOLDERS, Conflict, Source, Value
from diplograph.loader.conflicts.reads import DOCUMENT, chunks, confidence, iri_list, rows, select
from diplograph.loader.literals import time_span
from diplograph.loader.namespaces import DIP, KW
from diplograph.loader.store import Store

__all__ = ["SINGLE_HOLDER_POSTS", "overlapping_holders", "time_span"]

#: Classes whose posts one person holds at a time (the loader types every DiplomaticPost a
#: dip:Post too).
SINGLE_HOLDER_POSTS: tuple[str, ...] = (DIP + "Post",)

_EARLIEST, _LATEST = dt.datetime.min, dt.datetime.max
_CLAIMS = {KW + "asserted", KW + "historical"}

# The posts of the asked nodes, then the asked nodes that are posts, in two reads: as a third
# branch of the UNION (``?n a ?class BIND(?n AS ?post)``), Virtuoso 7.2 refused the query
# whenever VALUES held a single node ("sparp_gp_deprecate(): equiv replaces filter").
_POSTS_OF = """SELECT DISTINCT ?post WHERE {{
  VALUES ?n {{ {nodes} }}
  {{ ?n dip:post ?post }} UNION {{ ?h org:member ?n ; dip:post ?post }}
}}"""
_ARE_POSTS = """SELECT DISTINCT ?post WHERE {{
  VALUES ?post {{ {nodes} }} VALUES ?class {{ {classes} }} ?post a ?class
}}"""

# The posts with two holders come first, in a subquery: asking each holding whether another
# holder EXISTS was 8x slower (7.0 s against 0.9 s at 10k documents, the same rows). Each
# holding is read once, with its dates and modality (Store.data_pattern: on a store whose
# default graph is every graph's quads, Virtuoso's, five plain patterns joined gave k^5 rows
# for a holding k documents state); the documents that state it are read after, and only for
# the holdings that conflict: 1,276 holdings against 41,426 (holding, document) rows at 30k
# documents.
_HOLDINGS = """SELECT ?post ?h ?holder ?start ?end ?m WHERE {{
  {{ SELECT DISTINCT ?post WHERE {{
    {one} {other}
    FILTER(?holder1 != ?holder2)
  }} }}
  {holding}
}}"""

_HOLDING = """?h dip:post ?post ; org:member ?holder .
  OPTIONAL { ?h dip:startDate ?start }
  OPTIONAL { ?h dip:endDate ?end }
  OPTIONAL { ?h dip:modality ?m }"""

# The confidence as an OPTIONAL within the attestation's: as one OPTIONAL of both patterns,
# Oxigraph took twice as long (4.0 s against 2.1 s for 41,426 rows at 30k documents).
_SOURCES = """SELECT DISTINCT ?h ?g ?att ?c WHERE {{
  {values}
  GRAPH ?g {{ ?h dip:post ?post ; org:member ?holder . {document}
    OPTIONAL {{ ?h dip:attestedBy ?att OPTIONAL {{ ?att dip:confidence ?c }} }} }}
}}"""

# The documents that state each holding, counted where only some are listed. Every other
# pattern in the holding's graph is a lookup for each (holding, document) pair: for the 342
# holdings of a 100-document run into the 100k store (57,000 pairs), 1.1 s with the holder and
# the document's identifier, 0.66-0.72 s with either. So the graphs that are documents are read
# by a subquery, which Oxigraph evaluates once and joins by hash (the store's 100,000
# documents), and the holder is not asked: 0.13 s. A document that states a holding's post
# states its holder (shapes/: a dip:PostHolding has an org:member), unless written around the
# loader.
_COUNTED = """SELECT ?h (COUNT(DISTINCT ?g) AS ?n) WHERE {{
  VALUES ?h {{ {holdings} }}
  GRAPH ?g {{ ?h dip:post ?post }}
  {{ SELECT ?g WHERE {{ GRAPH ?g {{ {document} }} }} }}
}} GROUP BY ?h"""


@dataclass
class _Holding:
    iri: str
    holder: str
    starts: set[str] = field(default_factory=set)
    ends: set[str] = field(default_factory=set)
    modalities: set[str] = field(default_factory=set)
    sources: set[Source] = field(default_factory=set)
    #: documents that state the holding beyond those in ``sources``
    unlisted: int = 0

    def claimed(self) -> bool:
        return not self.modalities or bool(self.modalities & _CLAIMS)

    def start(self) -> tuple[dt.datetime, dt.datetime]:
        if not self.starts:
            return _EARLIEST, _EARLIEST
        spans = [time_span(s) for s in self.starts]
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def end(self) -> tuple[dt.datetime, dt.datetime]:
        if not self.ends:
            if KW + "asserted" not in self.modalities and KW + "historical" in self.modalities:
                return _EARLIEST, _LATEST
            return _LATEST, _LATEST
        spans = [time_span(e) for e in self.ends]
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def can_end_before(self, other: _Holding) -> bool:
        return self.end()[0] <= other.start()[1]

    def period(self) -> str:
        start = min(self.starts) if self.starts else "…"
        end = max(self.ends) if self.ends else "…"
        return f"{self.iri} {start} – {end}"


def overlapping_holders(
    store: Store, nodes: Iterable[str] | None = None, listed: Collection[str] | None = None
) -> list[Conflict]:
    """The single-holder posts (all, or those ``nodes`` are, hold or are holdings of) held by
    two people at once. ``listed`` (documents' graphs): only those are listed among a holding's
    sources, the others counted (as :func:`~.model.listing` gives)."""
    classes = iri_list(SINGLE_HOLDER_POSTS)
    if nodes is None:
        clauses = [""]
    else:
        posts: set[str] = set()
        for part in chunks(nodes):
            for template in (_POSTS_OF, _ARE_POSTS):
                query = template.format(nodes=iri_list(part), classes=classes)
                posts.update(r["post"] for r in select(store, query))
        clauses = [f"VALUES ?post {{ {iri_list(part)} }}" for part in chunks(posts)]
    by_post: dict[str, dict[str, _Holding]] = {}
    for clause in clauses:
        typed = f"VALUES ?class {{ {classes} }} {clause} ?post a ?class . "
        one = store.data_pattern(
            "?post ?holder1", "?one dip:post ?post ; org:member ?holder1 .", within=typed
        )
        other = store.data_pattern(
            "?post ?holder2", "?other dip:post ?post ; org:member ?holder2 .", within=clause
        )
        holding = store.data_pattern("?post ?h ?holder ?start ?end ?m", _HOLDING, within=clause)
        query = _HOLDINGS.format(one=one, other=other, holding=holding)
        for row in rows(store, query):
            holdings = by_post.setdefault(row["post"], {})
            found = holdings.setdefault(row["h"], _Holding(row["h"], row["holder"]))
            for name, values in (
                ("start", found.starts),
                ("end", found.ends),
                ("m", found.modalities),
            ):
                if name in row:
                    values.add(row[name])
    involved_by_post = {post: _involved(holdings) for post, holdings in sorted(by_post.items())}
    _read_sources(
        store,
        {h.iri: h for involved in involved_by_post.values() for h in involved.values()},
        listed,
    )
    conflicts = []
    for post, involved in involved_by_post.items():
        # A holding no document states (a named graph written by hand) takes no part: the
        # pairs left are those of holdings with documents, all of them involved before.
        documented = {iri: h for iri, h in involved.items() if h.sources or h.unlisted}
        if len(documented) < len(involved):
            involved = _involved(documented)
        if involved:
            holders = tuple(
                Value(h.holder, tuple(sorted(h.sources)), detail=h.period(), unlisted=h.unlisted)
                for h in sorted(involved.values(), key=lambda h: (h.holder, h.iri))
            )
            conflicts.append(Conflict(HOLDERS, post, DIP + "post", holders))
    return conflicts


def _involved(holdings: dict[str, _Holding]) -> dict[str, _Holding]:
    """The holdings of one post that overlap a holding by another holder."""
    claimed = [h for _, h in sorted(holdings.items()) if h.claimed()]
    involved: dict[str, _Holding] = {}
    for a, b in combinations(claimed, 2):
        if a.holder != b.holder and not (a.can_end_before(b) or b.can_end_before(a)):
            involved[a.iri], involved[b.iri] = a, b
    return involved


def _read_sources(
    store: Store, holdings: dict[str, _Holding], listed: Collection[str] | None
) -> None:
    """Add to each of ``holdings`` the documents that state it, with the confidence of each
    attestation that gives one (a document whose attestations give none: no confidence); with
    ``listed``, only those documents, and how many others state it."""
    rated: dict[tuple[str, str], set[float | None]] = {}
    # With ``listed``, the holdings those documents state, kept when they are asked for: the
    # run's 1,000 documents against its 965 holdings as two VALUES took 5.6 s (Oxigraph joined
    # their cross product), against 0.1 s so.
    values = (
        [f"VALUES ?h {{ {iri_list(part)} }}" for part in chunks(holdings)]
        if listed is None
        else [f"VALUES ?g {{ {iri_list(part)} }}" for part in chunks(listed)]
    )
    for clause in values:
        for row in rows(store, _SOURCES.format(values=clause, document=DOCUMENT)):
            if row["h"] in holdings:
                levels = rated.setdefault((row["h"], row["g"]), set())
                if "c" in row:
                    levels.add(confidence(row["c"]))
    for (iri, graph), levels in rated.items():
        holdings[iri].sources.update(Source(graph, level) for level in levels or {None})
    if listed is not None:
        for part in chunks(holdings):
            query = _COUNTED.format(holdings=iri_list(part), document=DOCUMENT)
            for row in rows(store, query):
                found = holdings[row["h"]]
                found.unlisted = int(row["n"]) - len({s.document for s in found.sources})
