"""diplograph's HTTP service: the SPARQL endpoint, the Graph Store protocol, linked data, ingest
and the query page, as one FastAPI application.

    create_app(settings, store=None) -> FastAPI     api.app
    serve(settings, store=None) -> None             api.server (what `diplograph serve` runs)

Modules, one concern each:

* :mod:`diplograph.api.app` – the application factory, middleware (request log, body cap, CORS),
  ``/health``.
* :mod:`diplograph.api.deps` – ``Annotated`` dependencies: settings, store, query runner, write
  token.
* :mod:`diplograph.api.errors` – the one error handler: every error becomes ``{error, message,
  status}``.
* :mod:`diplograph.api.formats` – media types, ``Accept`` negotiation and streaming result writers.
* :mod:`diplograph.api.guard` – inspects queries and updates before they run (SERVICE, LOAD, FROM).
* :mod:`diplograph.api.execution` – runs queries on worker threads with a deadline and a row cap.
* :mod:`diplograph.api.sparql` – the SPARQL 1.1 Protocol at ``/sparql`` (query, update, service
  description).
* :mod:`diplograph.api.graph_store` – the SPARQL 1.1 Graph Store HTTP Protocol at ``/store``.
* :mod:`diplograph.api.linked_data`, :mod:`diplograph.api.ingest`, :mod:`diplograph.api.ui` –
  dereferencing, ``/facts``, the page.

The routes, settings and status codes are documented in ``docs/api.md``.
"""

from __future__ import annotations

from diplograph.api.app import create_app

__all__ = ["create_app"]
