"""The vocabulary routes: the ontology, its code lists, the shapes and the facts schema.

==============================  =================================================================
``GET /ns``                     the ontology with its code lists (HTML documentation, Turtle,
                                RDF/XML for Protégé, JSON-LD, N-Triples)
``GET /kw/``, ``/cameo/``,      a code list (HTML, RDF); ``/codes``, ``/cameo``, ``/plover`` are
``/plover/``                    the same documents under their ontology IRIs
``GET /kw/{code}`` …            one code (HTML, RDF)
``GET /shapes``                 the SHACL shapes (Turtle or another RDF format)
``GET /schema``                 the facts JSON Schema (``application/schema+json``)
==============================  =================================================================

They answer from the private vocabulary store (:mod:`diplograph.api.vocabulary_store`), never
from the data store. Formats are negotiated as for every linked-data route
(:mod:`diplograph.api.negotiation`).
"""

from __future__ import annotations

from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from diplograph.api.code_list_page import code_list_page
from diplograph.api.deps import SettingsDep
from diplograph.api.formats import Format
from diplograph.api.linked_data import serve_resource
from diplograph.api.links import ONTOLOGY_ROOT
from diplograph.api.negotiation import (
    HTML,
    PAGE_FORMATS,
    RDF_FORMATS,
    FormatParam,
    answer_head,
    choose_format,
    rdf_response,
    serialize,
)
from diplograph.api.ontology_page import ontology_page
from diplograph.api.pages import html_response
from diplograph.api.vocabulary_store import (
    DOCUMENTS,
    document_prefixes,
    document_triples,
    ontology_store,
)

__all__ = ["router"]

router = APIRouter(tags=["linked data"])


async def _serve_document(request: Request, name: str, fmt_name: str | None) -> Response:
    doc = DOCUMENTS[name]
    offered: tuple[Format, ...] = RDF_FORMATS if name == "shapes" else PAGE_FORMATS
    fmt = choose_format(request.headers.get("accept"), offered, override=fmt_name, what=doc.title)
    if fmt is HTML:
        if doc.namespace is None:
            body = await anyio.to_thread.run_sync(ontology_page)
        else:
            body = await anyio.to_thread.run_sync(code_list_page, name)
        return html_response(body)
    if fmt.name == "turtle":
        # The Turtle as written (with its comments and layout), not a re-serialization.
        return rdf_response(fmt, doc.turtle())
    body_bytes = await anyio.to_thread.run_sync(
        lambda: serialize(fmt, document_triples(name), document_prefixes(name))
    )
    return rdf_response(fmt, body_bytes)


@router.get("/ns", summary="The ontology (HTML, Turtle, RDF/XML, JSON-LD, N-Triples)")
async def get_ontology(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "ns", format)


@router.get("/codes", summary="The kw: code lists (roles, polarities, modalities, qualities)")
@router.get("/kw/", summary="The kw: code lists (same as /codes)")
async def get_codes(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "codes", format)


@router.get("/cameo", summary="The CAMEO code list")
@router.get("/cameo/", summary="The CAMEO code list (the concept scheme)")
async def get_cameo(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "cameo", format)


@router.get("/plover", summary="The PLOVER code list")
@router.get("/plover/", summary="The PLOVER code list (the concept scheme)")
async def get_plover(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "plover", format)


@router.get("/shapes", summary="The SHACL shapes (Turtle or another RDF format)")
async def get_shapes(request: Request, format: FormatParam = None) -> Response:
    return await _serve_document(request, "shapes", format)


@router.get("/schema", summary="The JSON Schema of a facts document")
async def get_schema() -> JSONResponse:
    from diplograph.loader.facts import json_schema

    return JSONResponse(json_schema(), media_type="application/schema+json")


@router.get("/kw/{code}", summary="One code of the kw: code lists")
@router.get("/cameo/{code}", summary="One CAMEO code")
@router.get("/plover/{code}", summary="One PLOVER event type")
async def get_code(
    request: Request, code: str, settings: SettingsDep, format: FormatParam = None
) -> Response:
    iri = ONTOLOGY_ROOT + request.url.path.lstrip("/").split("/", 1)[0] + "/" + quote(code)
    return await serve_resource(request, settings, iri, ontology_store(), format, with_facts=False)


answer_head(router)
