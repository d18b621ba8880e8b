"""An actor's timeline, read from the union graph: its events and the post holdings it is in.

The JSON of ``GET /charts/timeline`` (:mod:`diplograph.api.charts`), drawn by
``static/timeline.js`` on the actor's page. Time is given as the documents give it (typed by
precision: ``2023``, ``2023-06``, ``2023-10-14``) and as days:

* an event's ``days`` are the first and last day it may take up (``loader/tenure.py``
  ``first_day``/``last_day`` over its start, earliest start, latest start and end); ``exact``
  says whether both ends are known to the day, and so whether the page draws it as certain;
* a holding's day bounds are those of docs/mapping.md, "Posts over time": held for certain from
  ``fromLatest`` to ``untilEarliest``, perhaps from ``fromEarliest`` and until ``untilLatest``
  (absent: open), and observed held on the ``observed`` days (the articles' dates). An undated
  holding is one node for every document that reports it, each adding its bounds; read
  together, it was held from the earliest certain begin to the latest certain end any document
  gives (the same reading as ``ontology/queries/22-post-held-on-a-day.rq``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal

from diplograph.api.store_reads import Row, select, value_of
from diplograph.api.vocabulary_store import ontology_labels
from diplograph.loader.namespaces import DIP, ORG, PROV
from diplograph.loader.store import Store
from diplograph.loader.tenure import first_day, last_day

__all__ = ["MAX_ITEMS", "event_classes", "specific_types", "timeline"]

#: How many events, and how many holdings, a timeline holds at most.
MAX_ITEMS = 1000

_EVENTS = """
SELECT ?e ?p ?o ?label ?issued WHERE {{
  {{ SELECT DISTINCT ?e WHERE {{ ?e dip:hasParticipant <{iri}> ; a dip:Event }}
     ORDER BY ?e LIMIT {limit} }}
  {{ ?e ?p <{iri}> BIND(<{iri}> AS ?o) }}
  UNION {{ VALUES ?p {{ rdf:type dip:startDate dip:endDate dip:earliestStart dip:latestStart
                       dip:summary }} ?e ?p ?o }}
  UNION {{ BIND(prov:wasDerivedFrom AS ?p) ?e ?p ?o
           OPTIONAL {{ ?o dcterms:title ?label }} OPTIONAL {{ ?o dcterms:issued ?issued }} }}
}}
"""

_HOLDINGS = """
SELECT ?h ?via ?p ?o ?label ?issued WHERE {{
  {{ SELECT DISTINCT ?h ?via WHERE {{
       VALUES ?via {{ org:member dip:post org:organization }} ?h ?via <{iri}> ; a dip:PostHolding
     }} ORDER BY ?h LIMIT {limit} }}
  VALUES ?p {{ org:member dip:post org:organization dip:modality dip:startDate dip:endDate
              dip:earliestStart dip:latestStart dip:observedHeldOn dip:heldFromEarliest
              dip:heldFromLatest dip:heldUntilEarliest dip:heldUntilLatest prov:wasDerivedFrom }}
  ?h ?p ?o .
  OPTIONAL {{ VALUES ?lp {{ rdfs:label dcterms:title }} ?o ?lp ?label }}
  OPTIONAL {{ ?o dcterms:issued ?issued }}
}}
"""

_TIME = ("startDate", "endDate", "earliestStart", "latestStart")
_BOUNDS = ("heldFromEarliest", "heldFromLatest", "heldUntilEarliest", "heldUntilLatest")


@functools.cache
def event_classes() -> tuple[str, ...]:
    """Every ``dip:`` event class of the ontology, by IRI (the colour order of the pages)."""
    from diplograph.loader.ontology import superclass_closure

    event = DIP + "Event"
    return tuple(sorted(c for c, sup in superclass_closure().items() if event in sup or c == event))


def specific_types(types: Iterable[str]) -> list[str]:
    """The most specific of ``types`` (the loader also writes every superclass), by IRI."""
    from diplograph.loader.ontology import superclass_closure

    closure = superclass_closure()
    found = {t for t in types if t.startswith(DIP)}
    return sorted(
        t for t in found if not any(t != u and t in closure.get(u, frozenset()) for u in found)
    )


@dataclass
class _Item:
    iri: str
    values: dict[str, set[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  #: doc → (title, issued)

    def add(self, prop: str, value: str) -> None:
        self.values.setdefault(prop, set()).add(value)

    def one(self, prop: str) -> str | None:
        found = sorted(self.values.get(prop, ()))
        return found[0] if found else None

    def source_list(self) -> list[dict[str, str]]:
        return [
            {"iri": doc, "title": title, "issued": issued}
            for doc, (title, issued) in sorted(self.sources.items(), key=lambda i: (i[1][1], i[0]))
        ]


def _collect(rows: Iterable[Row], key: str, actor: str) -> dict[str, _Item]:
    """The values of each node's properties; a property whose value is ``actor`` is its role."""
    items: dict[str, _Item] = {}
    for row in rows:
        node, prop, value = value_of(row, key), value_of(row, "p"), value_of(row, "o")
        if node is None or prop is None or value is None:
            continue
        item = items.setdefault(node, _Item(node))
        name = prop.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if prop == PROV + "wasDerivedFrom":
            title, issued = item.sources.get(value, ("", ""))
            item.sources[value] = (
                title or value_of(row, "label") or "",
                value_of(row, "issued") or issued,
            )
            continue
        if value == actor and key == "e":
            item.add("role", name)
            continue
        item.add(name, value)
        label = row.get("label")
        if isinstance(label, Literal) and (
            value not in item.labels or (label.language or "en").startswith("en")
        ):
            item.labels[value] = label.value
        if (via := value_of(row, "via")) is not None:
            item.add("via", via)
    return items


def _days(item: _Item) -> tuple[str | None, str | None, bool]:
    start, end = item.values.get("startDate", set()), item.values.get("endDate", set())
    earliest, latest = (
        item.values.get("earliestStart", set()),
        item.values.get("latestStart", set()),
    )
    firsts = [first_day(v) for v in (*start, *earliest)]
    lasts = [last_day(v) for v in (*start, *end, *latest)]
    if not firsts or not lasts:
        return None, None, False
    day_values = [v for v in (*start, *end) if len(v) >= 10]
    exact = not earliest and not latest and len(day_values) == len(start) + len(end)
    return min(firsts).isoformat(), max(lasts).isoformat(), exact


def _event(item: _Item, iri: str, labels: Mapping[str, str], order: Mapping[str, int]) -> Any:
    types = specific_types(item.values.get("type", ()))
    first, last, exact = _days(item)
    roles = sorted(r for r in item.values.get("role", ()) if r != "hasParticipant")
    summaries = sorted(item.values.get("summary", ()))
    return {
        "iri": item.iri,
        "label": summaries[0] if summaries else " ".join(labels.get(t, t) for t in types),
        "types": [{"iri": t, "label": labels.get(t) or t.rsplit("#", 1)[-1]} for t in types],
        "color": order.get(types[0], len(order)) if types else len(order),
        "roles": roles or ["participant"],
        "time": {name: item.one(name) for name in _TIME if item.one(name)},
        "days": [first, last] if first and last else None,
        "exact": exact,
        "sources": item.source_list(),
    }


def _holding(item: _Item, iri: str) -> dict[str, Any]:
    values = item.values
    as_holder = ORG + "member" in values.get("via", set())

    def node(prop: str) -> dict[str, str] | None:
        found = item.one(prop)
        return {"iri": found, "label": item.labels.get(found, "")} if found else None

    def bound(name: str, pick: Any) -> str | None:
        found = values.get(name)
        return pick(found) if found else None

    # Read together: the earliest certain begin, the latest certain end (module docstring).
    from_latest = bound("heldFromLatest", min)
    until_earliest = bound("heldUntilEarliest", max)
    from_earliest = bound("heldFromEarliest", min)
    until_latest = bound("heldUntilLatest", max)
    post, holder = node("post"), node("member")
    lane = (post or {}).get("label") if as_holder else (holder or {}).get("label")
    return {
        "iri": item.iri,
        "lane": lane or item.iri.rsplit("/", 1)[-1],
        "post": post,
        "holder": holder,
        "organization": node("organization"),
        "modality": (item.one("modality") or "").rsplit("/", 1)[-1] or None,
        "time": {name: item.one(name) for name in _TIME if item.one(name)},
        "observed": sorted(values.get("observedHeldOn", ())),
        "fromEarliest": from_earliest,
        "fromLatest": from_latest,
        "untilEarliest": until_earliest,
        "untilLatest": until_latest,
        "sources": item.source_list(),
    }


def timeline(store: Store, iri: str) -> dict[str, Any]:
    """The timeline of ``iri``: its events by first day (undated last), its holdings by lane."""
    labels = ontology_labels()
    order = {t: i for i, t in enumerate(event_classes())}
    events = _collect(select(store, _EVENTS.format(iri=iri, limit=MAX_ITEMS)), "e", iri)
    holdings = _collect(select(store, _HOLDINGS.format(iri=iri, limit=MAX_ITEMS)), "h", iri)
    event_list = [_event(e, iri, labels, order) for e in events.values()]
    event_list.sort(key=lambda e: ((e["days"] or ["~"])[0], e["iri"]))
    holding_list = [_holding(h, iri) for h in holdings.values()]
    holding_list.sort(key=lambda h: (h["lane"], h["fromLatest"] or "~", h["iri"]))
    return {
        "actor": iri,
        "events": event_list,
        "holdings": holding_list,
        "truncated": len(events) >= MAX_ITEMS or len(holdings) >= MAX_ITEMS,
    }
