"""What a process holds for as long as it runs, kept out of the cyclic garbage collector's walk.

A process that loads into a large store holds what it has read of it: the claims of every
stored document (loader/reconcile.py) and, in a server, the events its checks read
(loader/conflicts/held.py). Python's cyclic collector walks every container it tracks at each
full collection, and a full collection comes each time the containers that survived the last one
have grown by a quarter. At 100k documents a full collection took about 0.55 s, and one came
about every other request of 100 documents to a server; reading the claims itself set off
twelve (see docs/benchmarks.md). Nothing held this way is in a reference cycle that would need
the collector to free it.

* :func:`building` collects the garbage there is, pauses the collector while such a structure
  is built, then freezes (``gc.freeze``) every object alive: later collections no longer walk
  them.
* :func:`keep` freezes what is alive now: a server calls it after each load, so that what the
  load added to what it holds is not walked again either.

A frozen object is still freed when its last reference goes; only a reference cycle of frozen
objects that becomes garbage is never collected. After loads into the 100k store, each followed
by a freeze, unfreezing and collecting found 90 unreachable objects.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["building", "keep"]


@contextmanager
def building() -> Iterator[None]:
    """Build something the process keeps: the collector paused meanwhile (if it was running),
    then every object alive frozen. A build that fails freezes nothing: what it left is garbage
    for the collector."""
    # The garbage there is now is collected first, so as not to be frozen with the rest:
    # cheap, as what earlier builds kept is frozen already.
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


def keep() -> None:
    """Freeze every object alive now: a long-lived process keeps them (see the module). The
    youngest garbage is collected first (a short walk of the objects made since the last
    collections), so as not to be frozen."""
    gc.collect(1)
    gc.freeze()
