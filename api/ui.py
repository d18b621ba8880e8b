"""The page for people: the query page at ``/``, the API reference at ``/api-docs``, and the
page scaffolding every HTML answer of the server shares.

* ``GET /`` – a SPARQL editor (a textarea with line numbers; Ctrl+Enter runs), the competency
  questions of ``ontology/queries/*.rq`` as one-click examples, results as a table whose IRIs
  link to the local linked-data pages, download links for every result format, and links to the
  ontology, the VoID description, the dumps and the API reference. ``?example=<id>`` opens an
  example, ``?query=…`` a query of your own; ``&run=1`` runs it at once (bookmarkable, and what
  the browser test uses). Without JavaScript the form still submits to ``/sparql``.
* ``GET /api-docs`` – a plain HTML reference generated from the app's OpenAPI document.
  FastAPI's ``/docs`` (Swagger UI) would load its scripts from a CDN, so the app turns it off and
  ``/docs`` redirects here instead. ``/openapi.json`` stays available for tools.
* ``GET /static/{name}`` – the page's own CSS and JavaScript (no CDN, no web fonts).

Everything is plain Python string building with :func:`html.escape`; no template engine.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from diplograph.api.deps import SettingsDep
from diplograph.loader.config import Settings
from diplograph.loader.errors import NotFoundError
from diplograph.loader.namespaces import PREFIXES, data_prefixes

__all__ = [
    "ONTOLOGY_ROOT",
    "Example",
    "compact",
    "competency_questions",
    "local_href",
    "page",
    "router",
    "static_url",
]

router = APIRouter(tags=["page"])

#: The IRIs of the ontology, its code lists and shapes all start with this; the server serves
#: them at the same paths (``/ns``, ``/kw/…``, ``/cameo/…``, ``/plover/…``, ``/codes``,
#: ``/shapes``) whatever the data's ``base_iri`` is.
ONTOLOGY_ROOT = "https://w3id.org/diplograph/"
_ONTOLOGY_PATHS = ("ns", "kw/", "cameo", "plover", "codes", "shapes")

_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
}
_STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# --- links ----------------------------------------------------------------------------------------


def local_href(iri: str, settings: Settings) -> str | None:
    """The path on this server that describes ``iri``, or None for an IRI served elsewhere.

    IRIs under ``settings.base_iri`` keep their path (the server root is the base IRI); the
    ontology's IRIs map onto ``/ns``, ``/kw/…`` and the other vocabulary paths.
    """
    if iri.startswith(settings.base_iri) and len(iri) > len(settings.base_iri):
        return "/" + iri[len(settings.base_iri) :]
    if iri.startswith(ONTOLOGY_ROOT):
        rest = iri[len(ONTOLOGY_ROOT) :]
        if rest.startswith(_ONTOLOGY_PATHS):
            return "/" + rest
    return None


def link_prefixes(settings: Settings) -> dict[str, str]:
    """Prefixes for showing IRIs compactly: the standard ones plus the per-kind data prefixes."""
    return {**PREFIXES, **data_prefixes(settings.base_iri)}


_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def compact(iri: str, prefixes: Mapping[str, str]) -> str:
    """``prefix:local`` when a prefix fits ``iri`` and the rest is a plain name, else ``iri``."""
    best = ""
    best_prefix = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best, best_prefix = namespace, prefix
    if best:
        local = iri[len(best) :]
        if local == "" or _LOCAL_NAME.match(local):
            return f"{best_prefix}:{local}"
    return iri


# --- static files ---------------------------------------------------------------------------------


@functools.cache
def _static_file(name: str) -> tuple[bytes, str] | None:
    if not _STATIC_NAME.match(name):
        return None
    resource = files("diplograph.api") / "static" / name
    if not resource.is_file():
        return None
    data = resource.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def static_url(name: str) -> str:
    """The URL of a static file, with a content hash so browsers may cache it for long."""
    found = _static_file(name)
    return f"/static/{name}" + (f"?v={found[1]}" if found else "")


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str, request: Request) -> Response:
    found = _static_file(name)
    media_type = next((t for s, t in _STATIC_TYPES.items() if name.endswith(s)), None)
    if found is None or media_type is None:
        raise NotFoundError(f"no static file {name!r}")
    data, digest = found
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


# --- the page scaffolding -------------------------------------------------------------------------

_NAV = (
    ("/", "Query"),
    ("/ns", "Ontology"),
    ("/.well-known/void", "Dataset (VoID)"),
    ("/dump", "Dump"),
    ("/api-docs", "API"),
)


def page(title: str, body: str, *, scripts: Iterable[str] = (), head: str = "") -> str:
    """A whole HTML document: header with the site navigation, ``body`` (HTML), footer.

    ``title`` is plain text (escaped here); ``body`` and ``head`` are HTML already escaped by the
    caller; ``scripts`` are names of files in ``api/static``.
    """
    nav = "".join(f'<a href="{href}">{html.escape(label)}</a>' for href, label in _NAV)
    script_tags = "".join(f'<script src="{static_url(s)}" defer></script>' for s in scripts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · diplograph</title>"
        f'<link rel="stylesheet" href="{static_url("diplograph.css")}">'
        f'<link rel="icon" href="{static_url("favicon.svg")}" type="image/svg+xml">'
        f"{head}{script_tags}</head>\n"
        f'<body><header class="site"><a class="brand" href="/">diplograph</a>'
        f'<nav aria-label="site">{nav}</nav></header>\n'
        f"<main>{body}</main>\n"
        '<footer class="site">diplograph · a knowledge graph of diplomacy and conflict news · '
        '<a href="/sparql">SPARQL endpoint</a> · <a href="/health">health</a></footer>'
        "</body></html>\n"
    )


def html_response(text: str, status_code: int = 200) -> HTMLResponse:
    """An HTML answer; it varies with ``Accept`` wherever RDF is offered at the same URL."""
    return HTMLResponse(text, status_code=status_code, headers={"Vary": "Accept"})


def json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- competency questions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One competency question: its id (the file name without ``.rq``), title, question, query."""

    id: str
    title: str
    question: str
    query: str


_HEADER = re.compile(r"^#\s*(title|question)\s*:\s*(.*?)\s*$")


def parse_example(name: str, text: str) -> Example:
    """An :class:`Example` from a ``.rq`` file: ``# title:`` / ``# question:`` lines, then SPARQL.

    The header lines are taken off the query shown in the editor (the page shows them anyway).
    """
    fields: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match and not body:
            fields[match.group(1)] = match.group(2)
        else:
            body.append(line)
    stem = name.removesuffix(".rq")
    return Example(
        id=stem,
        title=fields.get("title") or stem,
        question=fields.get("question", ""),
        query="\n".join(body).strip() + "\n",
    )


@functools.cache
def _examples() -> tuple[Example, ...]:
    folder = files("diplograph.ontology") / "queries"
    if not folder.is_dir():
        return ()
    found = [
        parse_example(item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".rq") and item.is_file()
    ]
    return tuple(sorted(found, key=lambda e: e.id))


def competency_questions() -> list[Example]:
    """The competency questions shipped in ``ontology/queries``, sorted by file name."""
    return list(_examples())


def find_example(key: str) -> Example | None:
    """The example whose id is ``key``, or whose id starts with ``key-`` (``01`` finds ``01-…``)."""
    for example in _examples():
        if example.id == key or example.id.startswith(key + "-"):
            return example
    return None


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
        "localPaths": list(_ONTOLOGY_PATHS),
        "prefixes": link_prefixes(settings),
        "examples": [
            {"id": e.id, "title": e.title, "question": e.question, "query": e.query}
            for e in examples
        ],
        "selected": chosen.id if chosen else None,
    }
    items = "".join(
        f'<li><button type="button" class="example{" selected" if e is chosen else ""}" '
        f'data-example="{html.escape(e.id)}" title="{html.escape(e.question)}">'
        f'<span class="example-title">{html.escape(e.title)}</span>'
        f'<span class="example-question">{html.escape(e.question)}</span></button></li>'
        for e in examples
    )
    downloads = " ".join(
        f'<a class="download" data-format="{name}" data-kind="results" '
        f'href="/sparql?format={name}">{label}</a>'
        for name, label in _RESULT_DOWNLOADS
    ) + " ".join(
        f'<a class="download" data-format="{name}" data-kind="graph" '
        f'href="/sparql?format={name}">{label}</a>'
        for name, label in _GRAPH_DOWNLOADS
    )
    dumps = ", ".join(f'<a href="/dump?format={name}">{label}</a>' for name, label in _DUMP_FORMATS)
    body = f"""
<div class="query-layout">
<aside class="examples" aria-label="examples">
  <h2>Questions to try</h2>
  <p class="hint">The competency questions of the ontology. Click one to load and run it.</p>
  <ul>{items}</ul>
</aside>
<section class="workbench">
  <h1>Query the graph</h1>
  <p class="lead">Write SPARQL 1.1 and press <kbd>Ctrl</kbd>+<kbd>Enter</kbd> (or Run). The default
  graph is the union of every source document's graph. IRIs in the results link to their
  linked-data pages.</p>
  <form id="query-form" method="get" action="/sparql">
    <div class="editor" id="editor">
      <pre class="gutter" id="gutter" aria-hidden="true">1</pre>
      <textarea id="query" name="query" spellcheck="false" autocomplete="off"
        autocapitalize="off" aria-label="SPARQL query" rows="16">{html.escape(text)}</textarea>
    </div>
    <div class="toolbar">
      <button type="submit" id="run">Run</button>
      <span id="status" class="status" role="status" aria-live="polite"></span>
      <span class="downloads">Download: {downloads}</span>
    </div>
  </form>
  <div id="results" class="results" data-state="idle"></div>
  <section class="more">
    <h2>More</h2>
    <ul>
      <li><a href="/ns">The ontology</a> (classes, properties, code lists:
        <a href="/kw/">kw</a>, <a href="/cameo/">CAMEO</a>, <a href="/plover/">PLOVER</a>),
        <a href="/shapes">the SHACL shapes</a> and <a href="/schema">the facts JSON Schema</a></li>
      <li><a href="/.well-known/void">The dataset description (VoID)</a></li>
      <li>Dumps: {dumps}</li>
      <li><a href="/sparql">The SPARQL endpoint</a> (its service description) and
        <a href="/api-docs">the HTTP API reference</a></li>
    </ul>
  </section>
</section>
</div>
<script type="application/json" id="dg-config">{json_for_script(config)}</script>
"""
    return HTMLResponse(page("Query", body, scripts=["query.js"]))


# --- GET /api-docs --------------------------------------------------------------------------------

_METHOD_ORDER = ("get", "head", "post", "put", "patch", "delete", "options")


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


def _operation_html(path: str, method: str, op: Mapping[str, Any]) -> str:
    anchor = re.sub(r"[^A-Za-z0-9]+", "-", f"{method}-{path}").strip("-")
    parts = [
        f'<section class="operation" id="{html.escape(anchor)}">',
        f'<h3><span class="method method-{method}">{method.upper()}</span> '
        f"<code>{html.escape(path)}</code></h3>",
    ]
    if op.get("summary"):
        parts.append(f"<p><strong>{html.escape(str(op['summary']))}</strong></p>")
    if op.get("description"):
        for para in str(op["description"]).split("\n\n"):
            parts.append(f"<p>{html.escape(para.strip())}</p>")
    params = [p for p in op.get("parameters", []) if isinstance(p, Mapping)]
    if params:
        rows = "".join(
            f"<tr><td><code>{html.escape(str(p.get('name')))}</code></td>"
            f"<td>{html.escape(str(p.get('in')))}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td>"
            f"<td>{html.escape(_schema_text(p.get('schema', {})))}</td>"
            f"<td>{html.escape(str(p.get('description', '')))}</td></tr>"
            for p in params
        )
        parts.append(
            "<table><thead><tr><th>Parameter</th><th>In</th><th>Required</th><th>Type</th>"
            f"<th>Description</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    body = op.get("requestBody")
    if isinstance(body, Mapping) and isinstance(body.get("content"), Mapping):
        types = ", ".join(f"<code>{html.escape(t)}</code>" for t in body["content"])
        parts.append(f"<p>Request body: {types}</p>")
    responses = op.get("responses")
    if isinstance(responses, Mapping) and responses:
        items = "".join(
            f"<li><code>{html.escape(str(code))}</code> "
            f"{html.escape(str(r.get('description', '')) if isinstance(r, Mapping) else '')}</li>"
            for code, r in responses.items()
        )
        parts.append(f"<p>Responses:</p><ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def api_reference(spec: Mapping[str, Any]) -> str:
    """The body of the API reference page, built from an OpenAPI document."""
    info = spec.get("info", {})
    groups: dict[str, list[str]] = {}
    toc: dict[str, list[tuple[str, str]]] = {}
    for path, item in spec.get("paths", {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in _METHOD_ORDER:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            tag = (op.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(_operation_html(path, method, op))
            anchor = re.sub(r"[^A-Za-z0-9]+", "-", f"{method}-{path}").strip("-")
            toc.setdefault(tag, []).append((anchor, f"{method.upper()} {path}"))
    contents = "".join(
        f"<li>{html.escape(tag)}<ul>"
        + "".join(f'<li><a href="#{a}"><code>{html.escape(t)}</code></a></li>' for a, t in entries)
        + "</ul></li>"
        for tag, entries in toc.items()
    )
    sections = "".join(
        f'<section class="api-group"><h2>{html.escape(tag)}</h2>{"".join(ops)}</section>'
        for tag, ops in groups.items()
    )
    title = html.escape(str(info.get("title", "API")))
    summary = html.escape(str(info.get("summary") or info.get("description") or ""))
    return (
        f'<h1>{title} HTTP API</h1><p class="lead">{summary}</p>'
        '<p>Generated from the OpenAPI document at <a href="/openapi.json">/openapi.json</a>. '
        "The project's docs/api.md describes every route, setting and status code in prose.</p>"
        f'<nav class="toc" aria-label="operations"><ul>{contents}</ul></nav>{sections}'
    )


@router.get(
    "/api-docs", summary="The HTTP API reference (HTML, offline)", response_class=HTMLResponse
)
async def api_docs(request: Request) -> HTMLResponse:
    return HTMLResponse(page("API reference", api_reference(request.app.openapi())))


@router.get("/docs", include_in_schema=False)
async def docs_redirect() -> RedirectResponse:
    return RedirectResponse("/api-docs", status_code=307)
