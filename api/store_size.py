"""How many quads the store holds, answered cheaply, for ``/health`` and the service description.

Counting the quads scans the whole store: 1.9 s for the 3.1M quads of 10k documents on the
2-core machine, and more than the query timeout at 100k documents, where a ``/health`` that
counted answered 503 on every probe (docs/benchmarks.md, "100k documents end to end"). A probe
must cost the same on any store, so the count comes from where it is already kept:

* the summary graph keeps the number of quads exact at every commit through the loader and the
  write API (loader/summary/); while it is current, one small read gives it;
* otherwise (no summary yet, or one marked stale by a raw write) the quads are counted up to
  :data:`COUNT_LIMIT`: exact for a small store, unknown (None) for a larger one.
"""

from __future__ import annotations

from diplograph.loader.store import Store
from diplograph.loader.summary import Summary

__all__ = ["COUNT_LIMIT", "known_quads"]

#: The most quads counted one by one when the summary cannot say: about 50 ms on
#: Oxigraph, graph by graph over a store of 100k documents (loader/store/embedded.py).
COUNT_LIMIT = 10_000


def known_quads(store: Store, base_iri: str) -> int | None:
    """The number of quads in the store's named graphs when it is known without a scan (the
    current summary's count, or a store of at most :data:`COUNT_LIMIT` quads); else None."""
    kept = Summary(store, base_iri).quads()
    if kept is not None:
        return kept
    return store.count_at_most(COUNT_LIMIT)
