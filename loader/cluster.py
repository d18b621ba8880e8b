"""The Dask cluster a load's validation can run on (``--cluster``, ``DIPLOGRAPH_CLUSTER``).

The validation of a batch's chunks (loader/batch_validation.py) needs nothing but its input, so
it runs as well on other machines: a Dask ``distributed`` cluster takes the chunks through its
``concurrent.futures`` executor while the loading process reads, identifies, maps and commits,
and validates a chunk of each batch itself. Dask schedules; diplograph adds no scheduler of its
own. Each worker needs diplograph installed (it imports the validation function by name) and
builds its validator on its first chunk.

An address is ``tcp://host:port`` (a running scheduler: ``dask scheduler``, then ``dask worker
tcp://host:port --nthreads 1`` on each machine; one thread a worker process, since validation
holds the GIL) or ``local:N`` (a cluster of N worker processes on this machine, started and
stopped with the load; ``N`` may be 0 for the loading process alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Executor

from diplograph.loader.errors import ConfigError

__all__ = ["connect"]

_LOCAL = re.compile(r"local:(\d{1,3})")


def connect(address: str, *, timeout: float = 30.0) -> tuple[Executor, Callable[[], None]]:
    """An executor on the cluster at ``address``, and the function that lets it go (and stops
    a local cluster). Raises :class:`ConfigError` for an address that is neither form, a
    missing ``distributed`` package, or a scheduler that does not answer within ``timeout``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "--cluster needs Dask's distributed package: pip install 'diplograph[cluster]'"
        ) from None
    local = _LOCAL.fullmatch(address)
    if local is None and not address.startswith(("tcp://", "tls://", "ws://", "wss://")):
        raise ConfigError(
            f"cluster address {address!r}: give a scheduler's tcp://host:port, or local:N for "
            "N worker processes on this machine"
        )
    if local is not None:
        cluster = LocalCluster(
            n_workers=int(local.group(1)),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster, timeout=timeout)

        def close() -> None:
            client.close()
            cluster.close()

        return client.get_executor(pure=False), close
    try:
        client = Client(address, timeout=timeout)
    except OSError as exc:
        raise ConfigError(f"no Dask scheduler answers at {address}: {exc}") from None
    return client.get_executor(pure=False), client.close
