"""The remote store: any SPARQL 1.1 triple store, reached over the standard protocols.

* :mod:`~loader.store.remote.store` — :class:`RemoteStore`, the :class:`~loader.store.Store`
  over SPARQL 1.1 Query, Update and the Graph Store HTTP Protocol;
* :mod:`~loader.store.remote.protocol` — the HTTP requests and the parsing of their answers;
* :mod:`~loader.store.remote.commit` — the plan of a commit (staging graphs, swaps, requests).
"""

from __future__ import annotations

from diplograph.loader.store.remote.store import STAGING_PREFIX, RemoteStore, UnionMode

__all__ = ["STAGING_PREFIX", "RemoteStore", "UnionMode"]
