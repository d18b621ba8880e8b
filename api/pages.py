"""Page rendering: the Jinja2 environment every HTML answer of the server is rendered with.

Templates live in ``api/templates``: ``base.html`` is the page scaffolding (header with the site
navigation, main, footer; ``lang`` and landmarks), ``_terms.html`` the macros that show RDF
terms as links; the other templates are one page each. Autoescape is on for every template, so
whatever the data says (labels, literals, IRIs) is escaped where it is written.
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from pyoxigraph import BlankNode, Literal, NamedNode

from diplograph.api.assets import static_url

__all__ = ["NAV", "environment", "html_response", "json_for_script", "render"]

#: The site navigation of every page: (path, label).
NAV = (
    ("/", "Query"),
    ("/network", "Network"),
    ("/ns", "Ontology"),
    ("/.well-known/void", "Dataset (VoID)"),
    ("/dump", "Dump"),
    ("/api-docs", "API"),
)


def _escape(value: object) -> object:
    """Escape every ``{{ … }}`` the way :func:`html.escape` does.

    Jinja's own autoescape (markupsafe) writes quotes as ``&#39;`` and ``&#34;``; the pages have
    always used ``&#x27;`` and ``&quot;`` (clients and tests match on them), so the environment
    escapes here, before autoescape, which then leaves the already safe markup alone.
    """
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


def json_for_script(value: Any) -> Markup:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


environment = Environment(
    loader=PackageLoader("diplograph.api", "templates"),
    autoescape=True,
    finalize=_escape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
environment.globals.update(nav=NAV, static_url=static_url)
environment.filters["json_for_script"] = json_for_script
environment.tests.update(
    named_node=lambda t: isinstance(t, NamedNode),
    blank_node=lambda t: isinstance(t, BlankNode),
    literal=lambda t: isinstance(t, Literal),
)


def render(template: str, /, **context: Any) -> str:
    """Render ``template`` (a file of ``api/templates``); ``title`` names the page."""
    context.setdefault("scripts", ())
    return environment.get_template(template).render(**context)


def html_response(text: str, status_code: int = 200) -> HTMLResponse:
    """An HTML answer; it varies with ``Accept`` wherever RDF is offered at the same URL."""
    return HTMLResponse(text, status_code=status_code, headers={"Vary": "Accept"})
