"""diplograph's HTTP service: the SPARQL endpoint, the Graph Store protocol, linked data, ingest
and the query page, as one FastAPI application.

    create_app(settings, store=None) -> FastAPI     api.app
    serve(settings, store=None) -> None             api.server (what `diplograph serve` runs)

Modules (``diplograph.api.<name>``), one job each:

The application
    app               the application factory: middleware, the routers, ``/health``
    server            running it with uvicorn (``diplograph serve``)
    deps              the ``Annotated`` dependencies: settings, store, query runner, write token
    errors            the one error shape (``{error, message, status}``) and its handlers
    urls              this server's URLs as its clients see them (``public_url``)

SPARQL and the Graph Store
    sparql            the SPARQL 1.1 Protocol at ``/sparql``: query, update, service description
    guard             inspecting queries and updates before they run (SERVICE, LOAD, FROM)
    query_text        the prefixes put in front of a query, and syntax errors a person can read
    execution         running queries with a deadline and a row cap, in processes or threads
    workers           query worker processes, killed and replaced when a query gives up
    snapshot          checkpoints of the on-disk store that the worker processes read
    admission         which query runs next: a bounded queue, fair between clients
    metrics           the service's counters at ``/metrics`` (Prometheus text format)
    formats           media types, ``Accept`` negotiation and the streaming result writers
    streaming         handing bytes from a worker thread to a response, with backpressure
    graph_store       the SPARQL 1.1 Graph Store HTTP Protocol at ``/store``
    rdf_body          reading the RDF a Graph Store write carries (one document, or multipart)
    ingest            ``POST /facts`` (loading facts documents) and ``POST /validate``
    preparation       reading what the first write needs while the server starts

Linked data
    linked_data       dereferencing data IRIs at ``/id/…``
    describe          reading a resource's description from the store
    store_reads       SELECT and CONSTRUCT over the union graph, on a thread with the timeout
    negotiation       the linked-data formats, choosing one, writing the answer, HEAD routes
    void              the VoID description at ``/.well-known/void``
    dump              the whole store (or one graph) streamed at ``/dump``
    check             conflicts between documents and candidate duplicates at ``/check`` (JSON)
    curation          curators' same/different statements at ``/curation`` (JSON)
    vocabulary        the ontology, code lists, shapes and facts schema routes
    vocabulary_store  the vocabulary documents and a private store for SPARQL over them

Pages
    pages             the Jinja2 environment every HTML answer is rendered with
    links             how IRIs appear on pages: local paths and short names
    resource_page     the HTML page of a resource, and the page for an unknown IRI
    ontology_page     the HTML documentation of the ontology at ``/ns``
    code_list_page    the HTML page of a code list (``/kw/``, ``/cameo/``, ``/plover/``)
    ui                the query page at ``/`` and the API reference at ``/api-docs``
    examples          the ontology's competency questions, the query page's examples
    network           the who-engages-whom network page at ``/network`` and ``/export/network``
    charts            the JSON the pages chart: events per month, an actor's timeline
    timeline          reading an actor's events and post holdings for its timeline
    assets            the pages' CSS, JavaScript and icons at ``/static/{name}``

The routes, settings and status codes are documented in ``docs/api.md``.
"""

from __future__ import annotations

from diplograph.api.app import create_app

__all__ = ["create_app"]
