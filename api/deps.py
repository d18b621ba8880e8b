"""Dependencies shared by every router, declared once as ``Annotated`` aliases.

    @router.post("/facts")
    async def post_facts(store: StoreDep, settings: SettingsDep, _: WriteAuth) -> ...

* :data:`SettingsDep`, :data:`StoreDep`, :data:`RunnerDep` – what
  :func:`diplograph.api.app.create_app`
  put on ``app.state``.
* :data:`WriteAuth` – every write route takes it: ``Authorization: Bearer <write_token>``.
  No token configured → 403 (writes disabled); no or wrong token → 401.
* :func:`run_write` – run a blocking write on a worker thread, one write at a time, with the
  summary graph marked stale around it and rebuilt after it
  (:func:`diplograph.loader.summary.guard_raw_writes`); :func:`run_load` – the same for a load,
  which commits through the guard's summary keeper and so keeps the summary exact itself. Both
  refresh the query workers' snapshot before they return: the next query sees the write.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends, Request

from diplograph.api.execution import Runner
from diplograph.loader.config import Settings
from diplograph.loader.conflicts import events_unchanged_since
from diplograph.loader.errors import AuthError
from diplograph.loader.long_lived import keep
from diplograph.loader.reconcile import claims_unchanged_since
from diplograph.loader.store import Store
from diplograph.loader.summary import Summary, guard_raw_writes

__all__ = [
    "RunnerDep",
    "SettingsDep",
    "StoreDep",
    "WriteAuth",
    "get_runner",
    "get_settings",
    "get_store",
    "require_write_token",
    "run_between_writes",
    "run_load",
    "run_write",
]

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The store the app serves."""
    store: Store = request.app.state.store
    return store


def get_runner(request: Request) -> Runner:
    """The query runner (worker processes or threads, with deadlines) of the app."""
    runner: Runner = request.app.state.runner
    return runner


# The dependencies are coroutines: FastAPI runs a plain function dependency on a worker
# thread, and three thread hops cost a cheap query about as much as its evaluation.


async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _store(request: Request) -> Store:
    return get_store(request)


async def _runner(request: Request) -> Runner:
    return get_runner(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
RunnerDep = Annotated[Runner, Depends(_runner)]


def require_write_token(request: Request) -> None:
    """Let the request through only with ``Authorization: Bearer <settings.write_token>``."""
    settings = get_settings(request)
    if settings.write_token is None:
        raise AuthError(
            "writes are disabled on this server: set DIPLOGRAPH_WRITE_TOKEN to enable them",
            status=403,
        )
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not header:
        raise AuthError("this is a write: send 'Authorization: Bearer <token>'", status=401)
    if scheme.lower() != "bearer" or not given.strip():
        raise AuthError("use 'Authorization: Bearer <token>' for writes", status=401)
    expected = settings.write_token.get_secret_value().encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        raise AuthError("the bearer token is not valid for writes", status=401)


async def _write_token(request: Request) -> None:
    require_write_token(request)


WriteAuth = Annotated[None, Depends(_write_token)]


async def run_write(request: Request, write: Callable[[], T]) -> T:
    """Run the blocking ``write`` on a worker thread while holding the app's write lock.

    One write at a time keeps writes from different routes (updates, Graph Store, ``/facts``)
    from failing on each other's transactions; readers are never blocked (Oxigraph reads a
    snapshot). Raw writes (SPARQL Update, Graph Store) cannot keep the summary graph up to
    date, so it is marked stale before and rebuilt after.
    """
    return await run_load(request, lambda _summary: write(), kind="write")


async def run_load(request: Request, load: Callable[[Summary], T], kind: str = "load") -> T:
    """Like :func:`run_write`, for a write that commits through the summary keeper it is
    given (``/facts``: ``Loader(..., summary=keeper)``), which keeps the summary exact."""
    store = get_store(request)
    base_iri = get_settings(request).base_iri
    runner = get_runner(request)

    def guarded() -> T:
        try:
            since = store.generation
            with guard_raw_writes(store, base_iri) as summary:
                # The guard's mark wrote the summary graph alone: the store's claims and the
                # events the server holds still hold (a raw write in ``load`` is seen as ever).
                claims_unchanged_since(store, since)
                events_unchanged_since(store, since)
                result = load(summary)
            # What the load added to the claims and the events held lives as long as they
            # do: out of the collector's walk (loader/long_lived.py).
            keep()
            return result
        finally:
            # Before the response: the next query sees this write (api/snapshot.py).
            runner.refresh()

    result = await run_between_writes(request, guarded)
    runner.metrics.write(kind)
    return result


async def run_between_writes(request: Request, work: Callable[[], T]) -> T:
    """Run the blocking ``work`` on a worker thread while holding the app's write lock: one at
    a time with the writes. A write runs so (:func:`run_load`), and so does work that writes
    nothing but reads what writes keep in memory (``/validate``: the store's claims,
    loader/reconcile.py), so that no write's commit changes them under it."""
    lock: threading.Lock = request.app.state.write_lock

    def locked() -> T:
        with lock:
            return work()

    return await anyio.to_thread.run_sync(locked)
