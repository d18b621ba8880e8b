"""Timelines and charts of events over time: the JSON the pages draw (issue 15).

* ``GET /charts/events-by-month`` – events per month by type. Without ``actor``, from the summary
  graph's ``dip:EventCountByMonth`` counts (docs/mapping.md, "Summaries"); while the summary is
  stale or missing, the same counts are made from the union graph (``"source": "union"``). With
  ``actor=IRI``, the events that actor takes part in (``dip:hasParticipant``), counted from the
  union graph: the summary has no per-actor counts.
* ``GET /charts/timeline?actor=IRI`` – the actor's events with their dates and sources, and the
  post holdings it is in with their time as the mapping keeps it (:mod:`diplograph.api.timeline`).

Both count an event once however many documents report it. The home page (``/``) and the page of
every actor (``/id/…``) fetch these routes from their scripts (``static/charts.js``,
``static/timeline.js``); docs/pages.md describes what they draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pyoxigraph import NamedNode

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.store_reads import Row, in_thread, select, value_of
from diplograph.api.timeline import event_classes, specific_types, timeline
from diplograph.api.vocabulary_store import ontology_labels
from diplograph.loader.errors import InputError
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = ["events_by_month", "router"]

router = APIRouter(tags=["charts"])

_EVENT = DIP + "Event"

_FROM_SUMMARY = """
SELECT ?summary ?stale ?month ?type ?events WHERE {{
  OPTIONAL {{ GRAPH <{graph}> {{ ?summary a dip:Summary FILTER(?summary = <{graph}>) }} }}
  OPTIONAL {{ GRAPH <{graph}> {{ <{graph}> dip:summaryStale ?stale }} }}
  OPTIONAL {{ GRAPH <{graph}> {{
    ?key a dip:EventCountByMonth ; dip:month ?month ; dip:eventType ?type ; dip:eventCount ?events .
  }} }}
}}
"""

# The summary's definition (docs/mapping.md), over the union graph; {actor} narrows it.
_FROM_UNION = """
SELECT ?month ?type (COUNT(DISTINCT ?e) AS ?events) WHERE {{
  ?e a dip:Event ; {actor} a ?type ; dip:startDate ?d .
  FILTER(STRSTARTS(STR(?type), STR(dip:)))
  BIND(SUBSTR(STR(?d), 1, 7) AS ?month)
}} GROUP BY ?month ?type
"""

ActorParam = Annotated[
    str | None, Query(description="An actor's IRI: count only the events it takes part in")
]


def _actor_iri(actor: str | None) -> str | None:
    if actor is None:
        return None
    try:
        NamedNode(actor)
    except ValueError:
        raise InputError(f"actor must be an absolute IRI, not {actor!r}") from None
    if any(c in actor for c in '<>"{}|^`\\ '):
        raise InputError(f"actor must be an absolute IRI, not {actor!r}")
    return actor


def _counts(rows: Iterable[Row]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        month, kind, events = value_of(row, "month"), value_of(row, "type"), value_of(row, "events")
        if month and kind and events:
            counts[(month, kind)] = int(events)
    return counts


def _series(counts: Mapping[tuple[str, str], int], labels: Mapping[str, str]) -> dict[str, Any]:
    """Months in order; one series per most specific type present; the total of ``dip:Event``.

    A month's specific types may add up to more than its total (an event reported with two
    types) or less (an event typed only ``dip:Event``); the pages show the total as well.
    """
    months = sorted({m for m, _ in counts})
    present = {t for _, t in counts if t != _EVENT}
    kinds = specific_types(present)
    order = {t: i for i, t in enumerate(event_classes())}
    return {
        "months": months,
        "total": [counts.get((m, _EVENT), 0) for m in months],
        "types": [
            {
                "iri": t,
                "label": labels.get(t) or t.rsplit("#", 1)[-1],
                "color": order.get(t, len(order)),
                "counts": [counts.get((m, t), 0) for m in months],
            }
            for t in kinds
        ],
    }


def events_by_month(store: Store, base_iri: str, actor: str | None = None) -> dict[str, Any]:
    """Events per month and type: from the summary (all events) or the union graph (an actor)."""
    labels = ontology_labels()
    if actor is None:
        graph = IriMinter(base_iri).summary_graph()
        rows = select(store, _FROM_SUMMARY.format(graph=graph))
        stale = any(value_of(r, "stale") == "true" for r in rows)
        exists = any(value_of(r, "summary") for r in rows)
        if exists and not stale:
            return {"actor": None, "source": "summary", **_series(_counts(rows), labels)}
        rows = select(store, _FROM_UNION.format(actor=""))
        return {"actor": None, "source": "union", **_series(_counts(rows), labels)}
    rows = select(store, _FROM_UNION.format(actor=f"dip:hasParticipant <{actor}> ;"))
    return {"actor": actor, "source": "union", **_series(_counts(rows), labels)}


@router.get(
    "/charts/events-by-month",
    summary="Events per month by type (JSON), of every actor or of one",
)
async def get_events_by_month(
    settings: SettingsDep, store: StoreDep, actor: ActorParam = None
) -> dict[str, Any]:
    """``months`` (``YYYY-MM``, or ``YYYY`` for events dated to the year only), ``total`` (events
    per month) and ``types``: one series per most specific event type, with its label, a
    colour index shared with the timeline and its count per month."""
    iri = _actor_iri(actor)
    return await in_thread(
        settings, lambda: events_by_month(store, settings.base_iri, iri), "counting events"
    )


@router.get("/charts/timeline", summary="An actor's events and posts over time (JSON)")
async def get_timeline(
    settings: SettingsDep,
    store: StoreDep,
    actor: Annotated[str, Query(description="The actor's IRI")],
) -> dict[str, Any]:
    """``events``: each event the actor takes part in, with its types, roles, time as the
    documents give it and its sources; ``holdings``: the post holdings it is the holder, post or
    organization of, with their time, observations and day bounds (docs/mapping.md, "Posts over
    time")."""
    iri = _actor_iri(actor)
    assert iri is not None
    return await in_thread(settings, lambda: timeline(store, iri), "reading a timeline")
