"""The pages for people that are not linked data: the query page at ``/`` and the API reference
at ``/api-docs``.

* ``GET /`` – a SPARQL editor (a textarea with line numbers; Ctrl+Enter runs), the competency
  questions of ``ontology/queries/*.rq`` as one-click examples, results as a table whose IRIs
  link to the local linked-data pages, download links for every result format, and links to the
  ontology, the VoID description, the dumps and the API reference. ``?example=<id>`` opens an
  example, ``?query=…`` a query of your own; ``&run=1`` runs it at once (bookmarkable, and what
  the browser test uses). Without JavaScript the form still submits to ``/sparql``. Results are
  paged (100 rows), with a chart and a network view when they fit, literals written for people
  and a history kept in the browser; the page also charts every event per month from the summary
  (``static/charts.js`` over ``/charts/events-by-month``; docs/pages.md).
* ``GET /api-docs`` – a plain HTML reference generated from the app's OpenAPI document.
  FastAPI's ``/docs`` (Swagger UI) would load its scripts from a CDN, so the app turns it off and
  ``/docs`` redirects here instead. ``/openapi.json`` stays available for tools.

Both are Jinja2 templates (``templates/query.html``, ``templates/api_docs.html``) rendered by
:mod:`diplograph.api.pages`; the page's script and styles are :mod:`diplograph.api.assets`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from diplograph.api.deps import SettingsDep
from diplograph.api.examples import competency_questions, find_example
from diplograph.api.links import ONTOLOGY_PATHS, ONTOLOGY_ROOT, link_prefixes
from diplograph.api.pages import render
from diplograph.loader.errors import NotFoundError

__all__ = ["Operation", "api_reference_page", "router"]

router = APIRouter(tags=["page"])

# --- GET / ----------------------------------------------------------------------------------------

_DEFAULT_QUERY = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dip: <https://w3id.org/diplograph/ns#>
SELECT ?person ?name WHERE {
  ?person a dip:Person ; rdfs:label ?name .
}
ORDER BY ?name
LIMIT 100
"""

_RESULT_DOWNLOADS = (
    ("json", "JSON"),
    ("xml", "XML"),
    ("csv", "CSV"),
    ("tsv", "TSV"),
)
_GRAPH_DOWNLOADS = (
    ("turtle", "Turtle"),
    ("ntriples", "N-Triples"),
    ("jsonld", "JSON-LD"),
    ("rdfxml", "RDF/XML"),
)
_DUMP_FORMATS = (
    ("trig", "TriG"),
    ("nquads", "N-Quads"),
    ("turtle", "Turtle"),
    ("ntriples", "N-Triples"),
    ("jsonld", "JSON-LD"),
)


@router.get("/", summary="The query page (HTML)", response_class=HTMLResponse)
async def query_page(
    settings: SettingsDep,
    example: str | None = None,
    query: str | None = None,
) -> HTMLResponse:
    examples = competency_questions()
    chosen = find_example(example) if example else None
    if example and chosen is None:
        raise NotFoundError(
            f"no example {example!r}; the examples are: " + ", ".join(e.id for e in examples)
        )
    text = query if query is not None else (chosen.query if chosen else _DEFAULT_QUERY)
    config = {
        "base": settings.base_iri,
        "ontologyRoot": ONTOLOGY_ROOT,
        "localPaths": list(ONTOLOGY_PATHS),
        "prefixes": link_prefixes(settings),
        "examples": [
            {"id": e.id, "title": e.title, "question": e.question, "query": e.query}
            for e in examples
        ],
        "selected": chosen.id if chosen else None,
    }
    return HTMLResponse(
        render(
            "query.html",
            title="Query",
            scripts=["charts.js", "query.js"],
            examples=examples,
            chosen=chosen,
            query=text,
            result_downloads=_RESULT_DOWNLOADS,
            graph_downloads=_GRAPH_DOWNLOADS,
            dumps=_DUMP_FORMATS,
            config=config,
        )
    )


# --- GET /api-docs --------------------------------------------------------------------------------

_METHOD_ORDER = ("get", "head", "post", "put", "patch", "delete", "options")


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document, as the reference shows it."""

    anchor: str
    method: str
    path: str
    summary: str
    paragraphs: list[str]
    #: (name, in, required, type, description)
    parameters: list[tuple[str, str, bool, str, str]]
    #: The media types of the request body; None when it takes none.
    body_types: list[str] | None
    #: (status code, description)
    responses: list[tuple[str, str]]


def _schema_text(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_schema_text(s) for s in schema["anyOf"] if isinstance(s, Mapping))
    kind = schema.get("type")
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        return f"array of {_schema_text(schema['items'])}"
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    return str(kind or "any")


def _operation(path: str, method: str, op: Mapping[str, Any]) -> Operation:
    description = str(op["description"]) if op.get("description") else ""
    body = op.get("requestBody")
    content = body.get("content") if isinstance(body, Mapping) else None
    responses = op.get("responses")
    return Operation(
        anchor=re.sub(r"[^A-Za-z0-9]+", "-", f"{method}-{path}").strip("-"),
        method=method,
        path=path,
        summary=str(op["summary"]) if op.get("summary") else "",
        paragraphs=[p.strip() for p in description.split("\n\n")] if description else [],
        parameters=[
            (
                str(p.get("name")),
                str(p.get("in")),
                bool(p.get("required")),
                _schema_text(p.get("schema", {})),
                str(p.get("description", "")),
            )
            for p in op.get("parameters", [])
            if isinstance(p, Mapping)
        ],
        body_types=list(content) if isinstance(content, Mapping) else None,
        responses=[
            (str(code), str(r.get("description", "")) if isinstance(r, Mapping) else "")
            for code, r in (responses.items() if isinstance(responses, Mapping) else ())
        ],
    )


def api_reference_page(spec: Mapping[str, Any]) -> str:
    """The API reference page, built from an OpenAPI document: operations grouped by tag."""
    info = spec.get("info", {})
    groups: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in _METHOD_ORDER:
            op = item.get(method)
            if isinstance(op, Mapping):
                tag = (op.get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append(_operation(path, method, op))
    return render(
        "api_docs.html",
        title="API reference",
        api_title=str(info.get("title", "API")),
        summary=str(info.get("summary") or info.get("description") or ""),
        groups=groups,
    )


@router.get(
    "/api-docs", summary="The HTTP API reference (HTML, offline)", response_class=HTMLResponse
)
async def api_docs(request: Request) -> HTMLResponse:
    return HTMLResponse(api_reference_page(request.app.openapi()))


@router.get("/docs", include_in_schema=False)
async def docs_redirect() -> RedirectResponse:
    return RedirectResponse("/api-docs", status_code=307)
