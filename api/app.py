"""The application factory: ``create_app(settings, store=None) -> FastAPI``.

There is no module-level app or settings: every app is built from the :class:`Settings` it is
given (the CLI builds them once from flags and ``DIPLOGRAPH_*`` variables). What the app holds,
on ``app.state``: ``settings``, ``store``, ``runner`` (the query workers,
:mod:`diplograph.api.execution`), ``write_lock`` (one write at a time) and, while it runs,
``write_preparation`` (reading what the first write needs: :mod:`diplograph.api.preparation`).

Middleware, outermost first:

* request log – one line per request on the ``diplograph.api.access`` logger: client, method, path,
  status,
  milliseconds, bytes sent (``%``-style; :mod:`diplograph.api.server` configures the handlers);
* body cap – ``Content-Length`` over ``max_body_bytes`` is refused with 413 before anything is
  read; a chunked body is counted as it arrives and refused the same way;
* CORS – only when ``cors_origins`` is set. Credentials are allowed only with an explicit list of
  origins, never with ``"*"`` (then the answer is ``Access-Control-Allow-Origin: *`` and no
  credentials), so an origin is never reflected together with credentials. ``Location`` and
  ``Content-Disposition`` are exposed to scripts;
* HEAD – every ``GET`` resource answers ``HEAD`` (:class:`HeadMiddleware`).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diplograph.api import (
    assets,
    charts,
    check,
    curation,
    dump,
    graph_store,
    ingest,
    linked_data,
    network,
    sparql,
    ui,
    vocabulary,
    void,
)
from diplograph.api.errors import PayloadTooLargeError, error_response, install_error_handlers
from diplograph.api.execution import QueryRunner, Runner
from diplograph.api.metrics import CONTENT_TYPE as METRICS_TYPE
from diplograph.api.metrics import Metrics
from diplograph.api.preparation import WritePreparation
from diplograph.api.store_size import known_quads
from diplograph.api.void_cache import VoidCache
from diplograph.loader.config import Settings
from diplograph.loader.conflicts import hold_events
from diplograph.loader.errors import ConfigError, StoreError
from diplograph.loader.reconcile import keep_claims
from diplograph.loader.store import Store, open_store

__all__ = ["DEFAULT_QUERY_PROCESSES", "DEFAULT_QUERY_WORKERS", "create_app", "default_runner"]

log = logging.getLogger(__name__)
access_log = logging.getLogger("diplograph.api.access")

#: Query worker threads (in-memory and remote stores): at most this many queries at once
#: (``query_workers`` unset).
DEFAULT_QUERY_WORKERS = min(8, max(2, os.cpu_count() or 2))
#: Query worker processes (on-disk store): two per core, so that while heavy queries compute
#: (at a lower priority, see api.workers) other clients' queries still find a worker, and one
#: client (at most workers - 1 at once) still keeps every core busy.
DEFAULT_QUERY_PROCESSES = min(16, max(4, 2 * (os.cpu_count() or 2)))


def default_runner(store: Store, settings: Settings | None = None) -> Runner:
    """Worker processes over snapshots for a store that makes checkpoints (the on-disk embedded
    store; a query past its timeout is killed); worker threads for the in-memory and the remote
    store. Sized by the ``query_*`` settings (defaults without ``settings``)."""
    if store.checkpoints_home() is not None:
        from diplograph.api.workers import ProcessRunner

        workers = _setting(settings, "query_workers") or DEFAULT_QUERY_PROCESSES
        return ProcessRunner(
            workers,
            max_workers=_setting(settings, "query_max_processes"),
            spares=_setting(settings, "query_spare_processes", 0),
            **_queue_options(settings),
        )
    return _threads(settings)


def _threads(settings: Settings | None) -> QueryRunner:
    workers = _setting(settings, "query_workers") or DEFAULT_QUERY_WORKERS
    return QueryRunner(workers, **_queue_options(settings))


def _setting(settings: Settings | None, name: str, default: Any = None) -> Any:
    return default if settings is None else getattr(settings, name)


def _queue_options(settings: Settings | None) -> dict[str, Any]:
    if settings is None:
        return {}
    return {
        "client_limit": settings.query_client_limit,
        "client_waiting": settings.query_client_queue,
        "waiting": settings.query_queue,
        "heavy_seconds": settings.query_heavy_seconds,
    }


def _bind_default_runner(store: Store, settings: Settings, metrics: Metrics) -> Runner:
    """:func:`default_runner`, bound to ``store``; worker threads when the worker processes'
    snapshots cannot be made (a read-only or full disk, no permission), with a warning."""
    runner = default_runner(store, settings)
    try:
        runner.bind(store, metrics)
    except (OSError, StoreError) as exc:  # the directory, or the first checkpoint in it
        if runner.kind != "processes":
            raise
        log.warning(
            "query worker processes are off: the store's snapshots cannot be made in %s (%s). "
            "Queries run on threads in this process instead, and a query past its timeout can "
            "no longer be killed: it keeps its worker busy until the engine returns",
            store.checkpoints_home(), exc,
        )  # fmt: skip
        runner = _threads(settings)
        runner.note = f"worker processes are off: the store's snapshots cannot be made ({exc})"
        runner.bind(store, metrics)
    return runner


def _refuse_in_worker_start() -> None:
    """Fail clearly when a worker process, starting, runs the user's script again.

    Worker processes start from a *forkserver*, which imports the script that started the
    server (as ``__mp_main__``) before it runs a worker; a script that builds the app outside
    ``if __name__ == "__main__":`` would build it again there (and fail on the store's lock).
    ``_inheriting`` is what ``multiprocessing`` itself checks for the same mistake.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ConfigError(
            "create_app() was called while a query worker process was starting: the script "
            'that builds the app must do so under `if __name__ == "__main__":` (worker '
            "processes import the script again; see docs/api.md, Serving from a script)"
        )


def create_app(
    settings: Settings, store: Store | None = None, *, runner: Runner | None = None
) -> FastAPI:
    """Build the app serving ``store`` (opened from ``settings`` when not given).

    A store opened here is closed when the app shuts down; a store passed in belongs to the
    caller. ``runner`` replaces the default query workers (:func:`default_runner`; tests use
    small chunk sizes).
    """
    _refuse_in_worker_start()
    owns_store = store is None
    the_store = open_store(settings) if store is None else store
    if runner is None:
        the_runner = _bind_default_runner(the_store, settings, Metrics())
    else:
        the_runner = runner
        the_runner.bind(the_store, Metrics())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("serving the %s store; queries on %d worker %s; writes %s", the_store.kind,
                 the_runner.workers, the_runner.kind,
                 "enabled" if settings.write_token else "disabled")  # fmt: skip
        the_runner.warm()
        preparation: WritePreparation | None = None
        if WritePreparation.wanted(the_store, settings):
            preparation = WritePreparation(the_store, settings, app.state.write_lock)
            preparation.start()
        app.state.write_preparation = preparation
        try:
            yield
        finally:
            if preparation is not None:
                preparation.join()
            the_runner.close()
            try:
                # For the next process that opens the store, whoever owns it: `diplograph
                # serve` is stopped by a signal that uvicorn raises again once the app has shut
                # down, so the command's own close never runs.
                keep_claims(the_store)
            finally:
                if owns_store:
                    the_store.close()

    app = FastAPI(
        title="diplograph",
        summary="SPARQL endpoint and linked data for diplomacy and conflict news",
        version="0.1.0",
        lifespan=lifespan,
        # Swagger UI and ReDoc load from a CDN by default; the page (api.ui) serves offline docs.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = the_store
    if settings.write_token and settings.hold_events:
        # Load after load checks the same states' events: they are held once read.
        hold_events(the_store)
    app.state.runner = the_runner
    app.state.write_lock = threading.Lock()
    app.state.void_cache = VoidCache(functools.partial(void.void_stats, the_store, settings))
    install_error_handlers(app)

    # GET and POST /sparql go straight to their handlers (sparql.LeanRoute); the router's
    # routes, behind it, describe the endpoint in the API description.
    app.router.routes.append(sparql.LeanRoute())
    app.include_router(sparql.router)
    app.include_router(graph_store.router)
    app.include_router(ingest.router)
    # The order of the routes is the order of the OpenAPI document (and of /api-docs).
    app.include_router(assets.router)
    app.include_router(ui.router)
    app.include_router(vocabulary.router)
    app.include_router(linked_data.router)
    app.include_router(void.router)
    app.include_router(dump.router)
    app.include_router(check.router)
    app.include_router(curation.router)
    app.include_router(network.router)
    app.include_router(charts.router)
    app.add_api_route("/health", health, methods=["GET"],
                      summary="Liveness, store status and query capacity",
                      tags=["service"])  # fmt: skip
    app.add_api_route("/metrics", metrics_route, methods=["GET"],
                      summary="Counters in the Prometheus text format",
                      tags=["service"])  # fmt: skip
    for path, endpoint in (("/health", health), ("/metrics", metrics_route)):
        app.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)

    app.add_middleware(HeadMiddleware)
    if settings.cors_origins:
        any_origin = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if any_origin else list(settings.cors_origins),
            allow_credentials=not any_origin,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=["Accept", "Authorization", "Content-Type"],
            # Scripts may read where a new graph went and the name a download suggests.
            expose_headers=["Location", "Content-Disposition"],
            max_age=600,
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    return app


# --- /health -----------------------------------------------------------------------------------


async def health(request: Request) -> JSONResponse:
    """Liveness, the store's state and size, and the query workers' load.

    200 ``"ok"`` when the store answers and a worker can take a query now; 503 ``"degraded"``
    when no worker can (every one busy, or being replaced); 503 ``"error"`` when the store does
    not answer. The body has the same shape in each case. With writes enabled,
    ``writes_ready`` is false while the server still reads what its first write needs
    (:mod:`diplograph.api.preparation`): a write sent then waits for the read.
    """
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    runner: Runner = request.app.state.runner
    queries = runner.status()
    body: dict[str, Any] = {
        "status": "ok" if queries["available"] > 0 else "degraded",
        "store": {"kind": store.kind, "ok": True},
        "queries": queries,
        "writes": "enabled" if settings.write_token is not None else "disabled",
    }
    if settings.write_token is not None:
        # Whether the claims a write needs are read yet (api/preparation.py): a write sent
        # before waits for them.
        preparation: WritePreparation | None = getattr(request.app.state, "write_preparation", None)
        body["writes_ready"] = preparation is None or preparation.state != "preparing"
    try:
        with anyio.fail_after(max(settings.query_timeout, 1.0)):
            body["store"]["quads"] = await anyio.to_thread.run_sync(
                lambda: known_quads(store, settings.base_iri), abandon_on_cancel=True
            )
    except Exception as exc:  # the store is down: say so, with 503
        body["status"] = "error"
        body["store"].update(ok=False, message=f"{type(exc).__name__}: {exc}")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


async def metrics_route(request: Request) -> Response:
    """The service's counters (:mod:`diplograph.api.metrics`), in the Prometheus text format."""
    runner: Runner = request.app.state.runner
    status = runner.status()
    workers = {
        "busy": status["busy"],
        "available": status["available"],
        "unavailable": max(status["workers"] - status["busy"] - status["available"], 0),
        "extra": status.get("extra", 0),
    }
    text = runner.metrics.render(workers, status["queued"], status["kind"])
    return Response(text, media_type=METRICS_TYPE)


# --- middleware --------------------------------------------------------------------------------


class RequestLogMiddleware:
    """One log line per HTTP request, with its status, duration and size."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        sent = 0
        complete = False

        async def logged_send(message: Message) -> None:
            nonlocal status, sent, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            client = scope.get("client")
            path = scope.get("path", "")
            query = scope.get("query_string", b"")
            if query:
                text = query.decode("latin-1")
                path += "?" + (text if len(text) <= 200 else text[:200] + "…")
            access_log.info(
                "%s %s %s %s %.1f ms %d bytes%s",
                client[0] if client else "-",
                scope.get("method", "-"),
                path,
                status or "-",
                (time.perf_counter() - started) * 1000,
                sent,
                "" if complete or not status else " (incomplete)",
            )


class HeadMiddleware:
    """``HEAD`` on every ``GET`` resource: a route without a ``HEAD`` of its own answers it as
    the ``GET``, with the same status and headers and no body.

    The ``GET`` runs until its status and headers exist (a query until its first chunk, as for a
    ``GET``); then the request reads as disconnected, which stops a streamed body (a dump, a
    large result) instead of computing it for nobody.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not self._as_get(scope):
            await self.app(scope, receive, send)
            return
        started = False

        async def head_receive() -> Message:
            if started:
                return {"type": "http.disconnect"}
            return await receive()

        async def head_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, head_receive, head_send)

    @staticmethod
    def _as_get(scope: Scope) -> bool:
        """Whether no route takes ``HEAD`` here but one takes ``GET``."""
        routes = scope["app"].router.routes

        def taken(method: str) -> bool:
            probe = {**scope, "method": method}
            return any(route.matches(probe)[0] == Match.FULL for route in routes)

        return not taken("HEAD") and taken("GET")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    response = error_response(self._error())
                    await response(scope, receive, send)
                    return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._error()
            return message

        await self.app(scope, counted_receive, send)

    def _error(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"the request body is larger than {self.max_bytes} bytes, the limit of this server "
            "(DIPLOGRAPH_MAX_BODY_BYTES)"
        )
