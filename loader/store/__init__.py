"""The store: one interface, an embedded and a remote implementation.

* :class:`~loader.store.embedded.EmbeddedStore` — Oxigraph (pyoxigraph) on disk, the default;
  in memory for tests.
* :class:`~loader.store.remote.RemoteStore` — any SPARQL 1.1 triple store reached over the
  standard protocols (Query, Update, Graph Store HTTP Protocol), for users who outgrow one machine.

RDF terms and query results are pyoxigraph's types everywhere, whichever store answers.
Every write goes through :meth:`Store.commit`, which replaces whole named graphs atomically:
readers see a document entirely or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diplograph.loader.store.base import GraphChange, QueryResult, Store

if TYPE_CHECKING:
    from diplograph.loader.config import Settings

__all__ = ["GraphChange", "QueryResult", "Store", "memory_store", "open_store"]


def open_store(settings: Settings) -> Store:
    """Open the store that ``settings`` describe (embedded on disk, in memory, or remote)."""
    if settings.store == "remote":
        from diplograph.loader.store.remote import RemoteStore

        return RemoteStore.from_settings(settings)
    from diplograph.loader.store.embedded import EmbeddedStore

    if settings.store == "memory":
        return EmbeddedStore(None)
    return EmbeddedStore(settings.store_path)


def memory_store() -> Store:
    """A new, empty store in memory (Oxigraph): scratch space that nothing else writes to."""
    from diplograph.loader.store.embedded import EmbeddedStore

    return EmbeddedStore(None)
