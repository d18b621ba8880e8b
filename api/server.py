"""Running the app with uvicorn: what ``diplograph serve`` calls.

This is the one place that configures logging handlers for the server: request lines go to the
``diplograph.api.access`` logger at INFO, everything else of ``api`` at INFO as well.
"""

from __future__ import annotations

import logging

import uvicorn

from diplograph.api.app import create_app
from diplograph.loader.config import Settings
from diplograph.loader.store import Store

__all__ = ["serve"]

log = logging.getLogger(__name__)


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    for name in ("diplograph.api", "uvicorn.error"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def serve(settings: Settings, store: Store | None = None) -> None:
    """Serve ``store`` (or the store ``settings`` describe) on ``settings.host:settings.port``.

    Blocks until the server is stopped (Ctrl-C or SIGTERM). Streams still running at shutdown get
    a few seconds to finish; query workers stuck in the engine do not keep the process alive.
    """
    _configure_logging()
    app = create_app(settings, store)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    log.info("diplograph: SPARQL endpoint at http://%s:%d/sparql", settings.host, settings.port)
    uvicorn.Server(config).run()
