"""Content negotiation for the linked-data routes: the formats a description, a vocabulary
document or the VoID description is offered in, choosing among them by ``Accept`` (or
``?format=``), writing the answer, and HEAD for every such GET route.

Quality values are respected; among equal qualities a specific media type beats a wildcard,
then the order of the offered formats. Every negotiated answer has ``Vary: Accept``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pyoxigraph import Triple

from diplograph.api.formats import GRAPH_FORMATS, Format, negotiate, write_triples

__all__ = [
    "HTML",
    "PAGE_FORMATS",
    "RDF_FORMATS",
    "FormatParam",
    "answer_head",
    "choose_format",
    "rdf_response",
    "serialize",
]

# --- formats --------------------------------------------------------------------------------------

HTML = Format("html", "HTML", "text/html", aliases=("application/xhtml+xml",), names=("htm",))
_BY_NAME = {f.name: f for f in GRAPH_FORMATS}
#: The RDF formats of a description, in order of preference (the first is the default).
RDF_FORMATS: tuple[Format, ...] = (
    _BY_NAME["turtle"],
    _BY_NAME["jsonld"],
    _BY_NAME["ntriples"],
    _BY_NAME["rdfxml"],
)
#: What a resource or the ontology is offered as: the RDF formats, then an HTML page.
PAGE_FORMATS = (*RDF_FORMATS, HTML)
_VARY = {"Vary": "Accept"}

FormatParam = Annotated[
    str | None,
    Query(
        alias="format",
        description="Overrides Accept: turtle, jsonld, ntriples, rdfxml or html.",
    ),
]


def choose_format(
    accept: str | None, offered: Sequence[Format], *, override: str | None, what: str
) -> Format:
    """The format of ``offered`` the client prefers; 406 (UnsupportedFormatError) when none.

    :func:`diplograph.api.formats.negotiate` with ``prefer_specific``: among formats of equal
    quality, one named by a specific media range (``text/html``) beats one that only a wildcard
    (``*/*``) matches, so ``Accept: text/html, */*`` gets HTML.
    """
    return negotiate(accept, offered, override=override, what=what, prefer_specific=True)


def serialize(fmt: Format, triples: Iterable[Triple], prefixes: Mapping[str, str]) -> bytes:
    """``triples`` written in the RDF format ``fmt`` with ``prefixes``."""
    return b"".join(write_triples(fmt, list(triples), lambda: None, prefixes=dict(prefixes)))


def rdf_response(fmt: Format, body: bytes) -> Response:
    """An RDF answer in ``fmt`` (negotiated, so it varies with ``Accept``)."""
    return Response(body, media_type=fmt.content_type, headers=_VARY)


# --- HEAD -----------------------------------------------------------------------------------------


def answer_head(router: APIRouter) -> None:
    """Let every GET route of ``router`` answer HEAD too, with the same status and headers.

    Link checkers and crawlers ask with HEAD (the server sends no body). FastAPI routes answer
    only the methods they name, so each GET route gets a HEAD twin, left out of the OpenAPI
    document. Call it after the router's last GET route.
    """
    for route in list(router.routes):
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            router.add_api_route(
                route.path, route.endpoint, methods=["HEAD"], include_in_schema=False
            )
