"""Linked data: every IRI the loader mints dereferences on this server.

The server root stands for ``settings.base_iri``: ``GET /id/person/antony-blinken`` describes
``{base_iri}id/person/antony-blinken`` (an entity, event, situation, post holding, document or
one of their sub-resources: attestations, spans, participations, runs) as HTML, Turtle,
JSON-LD, N-Triples or RDF/XML.

Formats are negotiated by :mod:`diplograph.api.negotiation` (``*/*`` or no ``Accept`` gives
Turtle; ``?format=`` overrides ``Accept``); the vocabulary routes
(:mod:`diplograph.api.vocabulary`) serve their codes through :func:`serve_resource` too.

The description is read by :mod:`diplograph.api.describe` and shown by
:mod:`diplograph.api.resource_page`. Store calls run on worker threads with the query timeout;
nothing blocks the event loop.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import NamedNode

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.describe import describe, resource_view
from diplograph.api.negotiation import (
    HTML,
    PAGE_FORMATS,
    FormatParam,
    answer_head,
    choose_format,
    rdf_response,
    serialize,
)
from diplograph.api.pages import html_response
from diplograph.api.resource_page import not_found_page, resource_page
from diplograph.api.store_reads import in_thread
from diplograph.api.vocabulary_store import ontology_definitions, ontology_labels
from diplograph.loader.config import Settings
from diplograph.loader.errors import NotFoundError
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import output_prefixes
from diplograph.loader.store import Store

__all__ = ["router", "serve_resource"]

router = APIRouter(tags=["linked data"])


@router.get(
    "/id/{path:path}",
    summary="A resource minted by the loader (HTML, Turtle, JSON-LD, N-Triples, RDF/XML)",
)
async def get_resource(
    request: Request, path: str, settings: SettingsDep, store: StoreDep, format: FormatParam = None
) -> Response:
    iri = IriMinter(settings.base_iri).ids() + quote(path, safe="/:@!$&'()*+,;=-._~")
    return await serve_resource(request, settings, iri, store, format)


async def serve_resource(
    request: Request,
    settings: Settings,
    iri: str,
    store: Store,
    fmt_name: str | None,
    *,
    with_facts: bool = True,
) -> Response:
    """The description of ``iri`` in ``store``, as the negotiated RDF format or an HTML page.

    404 when nothing is known about ``iri`` (an HTML 404 page when HTML was asked for).
    ``with_facts=False`` leaves the facts, sources and graphs off the page (the code lists).
    """
    fmt = choose_format(
        request.headers.get("accept"), PAGE_FORMATS, override=fmt_name, what="a resource"
    )
    try:
        NamedNode(iri)
    except ValueError:
        raise NotFoundError(f"{iri!r} is not an IRI this server describes") from None
    what = f"describing <{iri}>"
    if fmt is HTML:

        def render() -> str | None:
            view = resource_view(store, iri, with_facts=with_facts)
            if not view.triples:
                return None
            return resource_page(view, settings, ontology_labels(), ontology_definitions())

        text = await in_thread(settings, render, what)
        if text is None:
            return html_response(not_found_page(iri), status_code=404)
        return html_response(text)
    prefixes = output_prefixes(settings.base_iri)

    def write() -> bytes | None:
        triples = describe(store, iri)
        return serialize(fmt, triples, prefixes) if triples else None

    body = await in_thread(settings, write, what)
    if body is None:
        raise NotFoundError(f"nothing is known about <{iri}>")
    return rdf_response(fmt, body)


answer_head(router)
