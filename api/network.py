"""The who-engages-whom network: the ``/network`` page and ``/export/network`` (issue 15).

The page draws the strongest edges of the network (:func:`diplograph.loader.network.read_network`)
with the vendored Cytoscape.js (``api/static/vendor/``, which :mod:`diplograph.api.assets` serves
at ``/static/vendor/…``), beside a table of the same nodes and edges that works without JavaScript
and from the keyboard.
Its filters are a plain GET form. ``/export/network`` writes the whole network, with every
attribute, as GraphML, GEXF 1.3, CSV or JSON (:mod:`diplograph.loader.network_formats`).
"""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from diplograph.api.assets import vendor_url
from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.links import local_href
from diplograph.api.pages import html_response, render
from diplograph.api.store_reads import in_thread
from diplograph.loader.config import Settings
from diplograph.loader.errors import InputError
from diplograph.loader.network import (
    ACTOR_CLASSES,
    Network,
    NetworkFilter,
    event_type_iri,
    event_types,
    read_network,
)
from diplograph.loader.network_formats import (
    NETWORK_FORMATS,
    network_format,
    network_json,
    write_csv,
)

__all__ = ["DEFAULT_EDGES", "MAX_EDGES", "router"]

router = APIRouter(tags=["network"])

#: Edges the page draws unless told otherwise (the strongest ones: as many as the summary's
#: top list holds, so that the first picture reads a hundred nodes), and at most.
DEFAULT_EDGES = 100
MAX_EDGES = 5000

FromParam = Annotated[
    str | None,
    Query(alias="from", description="Events starting on or after (YYYY, YYYY-MM or YYYY-MM-DD)"),
]
ToParam = Annotated[
    str | None,
    Query(alias="to", description="Events starting on or before (YYYY, YYYY-MM or YYYY-MM-DD)"),
]
TypeParam = Annotated[
    str | None, Query(alias="type", description="Only events of this type (Visit, dip:Visit, IRI)")
]
ClassParam = Annotated[
    list[str] | None,
    Query(
        alias="class",
        description="Only actors of these classes: " + ", ".join(ACTOR_CLASSES) + " (repeatable)",
    ),
]


def _filter(
    start: str | None, end: str | None, kind: str | None, classes: list[str] | None
) -> NetworkFilter:
    """The filter the query parameters ask for (empty values count as not given)."""
    return NetworkFilter(
        start=start or None,
        end=end or None,
        event_type=event_type_iri(kind) if kind else None,
        classes=tuple(dict.fromkeys(c for c in classes or () if c)),
    )


@router.get("/network", summary="The who-engages-whom network (HTML)", response_class=HTMLResponse)
async def network_page(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    start: FromParam = None,
    end: ToParam = None,
    kind: TypeParam = None,
    classes: ClassParam = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_EDGES, description="How many of the strongest edges to draw")
    ] = DEFAULT_EDGES,
) -> HTMLResponse:
    """Actors as nodes, edges as wide as the number of events each pair shares; hover for the
    counts, click a node for the actor's page."""
    where = _filter(start, end, kind, classes)

    def read() -> tuple[Network, list[tuple[str, str]]]:
        return (
            read_network(store, settings.base_iri, where, limit=limit),
            event_types(store, settings.base_iri),
        )

    network, types = await in_thread(settings, read, "reading the network")
    data = _page_data(network, settings)
    labels = {node["id"]: node["label"] for node in data["nodes"]}
    export_query = urlencode(
        [(k, v) for k, v in request.query_params.multi_items() if k != "limit" and v]
    )
    return html_response(
        render(
            "network.html",
            title="Network",
            scripts=[],
            network=data,
            labels=labels,
            where=where,
            start=start or "",
            end=end or "",
            kind=where.event_type or "",
            classes=ACTOR_CLASSES,
            chosen=set(where.classes),
            types=types,
            limit=limit,
            formats=list(NETWORK_FORMATS),
            export_query=export_query,
            vendor_url=vendor_url,
        )
    )


def _page_data(network: Network, settings: Settings) -> dict[str, Any]:
    """The JSON the page's script draws: nodes (busiest first) with their page's path and the
    pairs and events they have among the edges drawn; edges; counts."""
    data = network_json(network)
    degree: dict[str, int] = {}
    events: dict[str, int] = {}
    for edge in network.edges:
        for end in (edge.source, edge.target):
            degree[end] = degree.get(end, 0) + 1
            events[end] = events.get(end, 0) + edge.count
    for node in data["nodes"]:
        node["href"] = local_href(node["id"], settings) or node["id"]
        node["degree"] = degree.get(node["id"], 0)
        node["events"] = events.get(node["id"], 0)
    data["nodes"].sort(key=lambda node: (-node["events"], node["label"].casefold()))
    return data


@router.get("/export/network", summary="The network as GraphML, GEXF, CSV or JSON")
async def export_network(
    settings: SettingsDep,
    store: StoreDep,
    format: Annotated[
        str, Query(description="graphml, gexf, csv or json (default graphml)")
    ] = "graphml",
    start: FromParam = None,
    end: ToParam = None,
    kind: TypeParam = None,
    classes: ClassParam = None,
    table: Annotated[
        str, Query(description="For csv: the edges table (default) or the nodes table")
    ] = "edges",
) -> Response:
    """Every edge of the network (no limit), with node attributes label, class and Wikidata id
    and edge attributes count, first and last date and event types."""
    fmt = network_format(format)
    if table not in ("edges", "nodes"):
        raise InputError(f"table={table!r}: the CSV tables are edges and nodes")
    where = _filter(start, end, kind, classes)

    def write() -> bytes:
        network = read_network(store, settings.base_iri, where, details=True)
        out = io.BytesIO()
        if fmt.name == "csv":
            write_csv(network, out, table=table)
        else:
            fmt.write(network, out)
        return out.getvalue()

    body = await in_thread(settings, write, "exporting the network")
    name = f"network-{table}" if fmt.name == "csv" else "network"
    return Response(
        body,
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.extension}"'},
    )
