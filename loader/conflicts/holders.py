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
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from diplograph.loader.conflicts.model import HOLDERS, Conflict, Source, Value
from diplograph.loader.conflicts.reads import DOCUMENT, chunks, confidence, iri_list, select
from diplograph.loader.literals import time_span
from diplograph.loader.namespaces import DIP, KW
from diplograph.loader.store import Store

__all__ = ["SINGLE_HOLDER_POSTS", "overlapping_holders", "time_span"]

#: Classes whose posts one person holds at a time (the loader types every DiplomaticPost a
#: dip:Post too).
SINGLE_HOLDER_POSTS: tuple[str, ...] = (DIP + "Post",)

_EARLIEST, _LATEST = dt.datetime.min, dt.datetime.max
_CLAIMS = {KW + "asserted", KW + "historical"}

_POSTS_OF = """SELECT DISTINCT ?post WHERE {{
  VALUES ?n {{ {nodes} }}
  {{ ?n dip:post ?post }} UNION {{ ?h org:member ?n ; dip:post ?post }}
  UNION {{ ?n a ?class BIND(?n AS ?post) VALUES ?class {{ {classes} }} }}
}}"""

# The posts with two holders come first, in a subquery: asking each holding whether another
# holder EXISTS was 8x slower (7.0 s against 0.9 s at 10k documents, the same rows). A holding's
# dates, modality and sources are read inside its document's graph: on a store whose default
# graph is every graph's quads (Virtuoso's), each pattern outside it matched once per document
# stating the holding, and five such patterns joined gave k^5 rows (74,207 rows and 16 s for
# 1,367 holdings of 100 documents on Virtuoso; the same query now reads the 1,367).
_HOLDINGS = """SELECT ?post ?h ?holder ?start ?end ?m ?g ?c WHERE {{
  {{ SELECT DISTINCT ?post WHERE {{
    {one} {other}
    FILTER(?holder1 != ?holder2)
  }} }}
  GRAPH ?g {{ ?h dip:post ?post ; org:member ?holder . {document}
    OPTIONAL {{ ?h dip:attestedBy ?att . ?att dip:confidence ?c }}
    OPTIONAL {{ ?h dip:startDate ?start }}
    OPTIONAL {{ ?h dip:endDate ?end }}
    OPTIONAL {{ ?h dip:modality ?m }} }}
}}"""


@dataclass
class _Holding:
    iri: str
    holder: str
    starts: set[str] = field(default_factory=set)
    ends: set[str] = field(default_factory=set)
    modalities: set[str] = field(default_factory=set)
    sources: set[Source] = field(default_factory=set)

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


def overlapping_holders(store: Store, nodes: Iterable[str] | None = None) -> list[Conflict]:
    """The single-holder posts (all, or those ``nodes`` are, hold or are holdings of) held by
    two people at once."""
    classes = iri_list(SINGLE_HOLDER_POSTS)
    if nodes is None:
        clauses = [""]
    else:
        posts: set[str] = set()
        for part in chunks(nodes):
            query = _POSTS_OF.format(nodes=iri_list(part), classes=classes)
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
        query = _HOLDINGS.format(one=one, other=other, document=DOCUMENT)
        for row in select(store, query):
            holdings = by_post.setdefault(row["post"], {})
            holding = holdings.setdefault(row["h"], _Holding(row["h"], row["holder"]))
            holding.sources.add(Source(row["g"], confidence(row.get("c"))))
            for name, found in (
                ("start", holding.starts),
                ("end", holding.ends),
                ("m", holding.modalities),
            ):
                if name in row:
                    found.add(row[name])
    conflicts = []
    for post, holdings in sorted(by_post.items()):
        claimed = [h for _, h in sorted(holdings.items()) if h.claimed()]
        involved: dict[str, _Holding] = {}
        for a, b in combinations(claimed, 2):
            if a.holder != b.holder and not (a.can_end_before(b) or b.can_end_before(a)):
                involved[a.iri], involved[b.iri] = a, b
        if involved:
            holders = tuple(
                Value(h.holder, tuple(sorted(h.sources)), detail=h.period())
                for h in sorted(involved.values(), key=lambda h: (h.holder, h.iri))
            )
            conflicts.append(Conflict(HOLDERS, post, DIP + "post", holders))
    return conflicts
