"""A TCP listener on 127.0.0.1 that records every connection: proof nothing was fetched.

Tests of SERVICE, LOAD, XML entities and JSON-LD contexts point the request at it and then
assert it saw no connection. It answers like a tiny SPARQL endpoint (POST), JSON-LD context
server (``*.jsonld``) or document server (anything else), so that an *allowed* fetch — the
positive control — succeeds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

__all__ = ["Listener", "listener"]

_ANSWERS = {
    "POST": (
        b"application/sparql-results+json",
        b'{"head":{"vars":["x"]},"results":{"bindings":[]}}',
    ),
    ".jsonld": (b"application/ld+json", b'{"@context": {"name": "urn:x:name"}}'),
    "": (b"text/turtle", b"<urn:x:a> <urn:x:b> <urn:x:c> ."),
}


class Listener:
    """Accepts connections on a free port of 127.0.0.1; ``requests`` holds their request lines."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    head = conn.recv(65536).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    head = "?"
                self.requests.append(head)
                path = head.split(" ")[1] if head.count(" ") >= 2 else ""
                kind = (
                    "POST"
                    if head.startswith("POST")
                    else ".jsonld"
                    if path.endswith(".jsonld")
                    else ""
                )
                ctype, body = _ANSWERS[kind]
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n%s" % (ctype, len(body), body)
                )

    def settled_connections(self) -> int:
        """How many connections came, once a request already made has had time to arrive."""
        time.sleep(0.2)
        return len(self.requests)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A :class:`Listener` for one test."""
    server = Listener()
    yield server
    server.close()
