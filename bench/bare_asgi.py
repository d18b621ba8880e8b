"""The ceiling of one Python front process: a bare ASGI app under uvicorn, as ``diplograph serve``
runs it, answering every GET with the same bytes as the cheap lookup.

``python -m bench.bare_asgi BODY_FILE MEDIA_TYPE PORT``: ``GET /which`` says which event loop and
HTTP parser uvicorn chose (``auto``: uvloop and httptools when they are installed); any other
GET gets the body. No routing, no middleware, no query: what is left is uvicorn's own cost per
request, which no work on diplograph's side can go below.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import uvicorn


def make_app(body: bytes, media_type: str) -> Any:
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/which":
            loop = type(asyncio.get_running_loop())
            http = "httptools" if "uvicorn.protocols.http.httptools_impl" in sys.modules else "h11"
            which = json.dumps({"loop": f"{loop.__module__}.{loop.__name__}", "http": http})
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": which.encode()})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    body = Path(sys.argv[1]).read_bytes()
    app = make_app(body, sys.argv[2])
    # The settings of diplograph.api.server.serve.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=int(sys.argv[3]),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
