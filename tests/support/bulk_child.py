"""``diplograph`` killed inside a bulk write, after part of a batch's quads are in the store.

Usage::

    python -m tests.support.bulk_child PART CALL MIN_DOCUMENTS -- ARGS…

runs the real command (``diplograph ARGS…``, the CLI's ``main``) with two changes made from
here, none in the code under test:

* a load switches to bulk mode (loader/bulk.py) after ``MIN_DOCUMENTS`` documents, so that a
  small load takes the bulk path;
* the embedded store's bulk write (``EmbeddedStore._bulk_write``, handed every quad of one
  batch after the batch's journal is written) is wrapped: its ``CALL``-th call writes ``PART``
  of the quads and then the process kills itself with SIGKILL. ``half``: the first half, in the
  order the store hands them (each triple's graph quad, then its union quad); ``union``: only
  the union's quads (the default graph), none of the batch's graphs.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

from pyoxigraph import DefaultGraph, Quad, RdfFormat, parse, serialize

import diplograph.loader.bulk
from diplograph.cli import main
from diplograph.loader.store.embedded import EmbeddedStore

PARTS: dict[str, Callable[[list[Quad]], list[Quad]]] = {
    "half": lambda quads: quads[: len(quads) // 2],
    "union": lambda quads: [q for q in quads if isinstance(q.graph_name, DefaultGraph)],
}


def _kill_inside_the_bulk_write(part: str, call: int) -> None:
    write = EmbeddedStore._bulk_write
    calls = 0

    def cut_short(store: EmbeddedStore, nquads: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls < call:
            write(store, nquads)
            return
        quads = list(parse(nquads, format=RdfFormat.N_QUADS))
        write(store, serialize(PARTS[part](quads), format=RdfFormat.N_QUADS) or b"")
        os.kill(os.getpid(), signal.SIGKILL)

    EmbeddedStore._bulk_write = cut_short  # type: ignore[method-assign]


if __name__ == "__main__":
    part, call, min_documents, separator, *args = sys.argv[1:]
    assert part in PARTS and separator == "--", sys.argv
    diplograph.loader.bulk.BULK_MIN_DOCUMENTS = int(min_documents)
    _kill_inside_the_bulk_write(part, int(call))
    sys.argv = ["diplograph", *args]
    main()
