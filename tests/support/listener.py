"""A TCP listener on 127.0.0.1 that records every connection: proof nothing was fetched.

Tests of SERVICE, LOAD, XML entities and JSON-LD contexts point the request at it and then
assert it saw no connection (:meth:`Listener.fence`). It answers like a tiny SPARQL endpoint
(POST), JSON-LD context server (``*.jsonld``) or document server (anything else), so that an
*allowed* fetch — the positive control — succeeds.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
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

    def fence(self) -> list[str]:
        """The requests received before a request of our own (the fence).

        The listener accepts connections one at a time in the order they were made, and records
        each request before answering it; so when the fence is answered, every connection made
        before it (by the server, while it handled the request the test made first) has been
        recorded. No guessed wait that a loaded machine could outrun. The fence itself is taken
        off the record, so the listener can be asked again (as the examples of a property test
        do).
        """
        fence = "GET /fence HTTP/1.1"
        response = httpx.get(self.url + "/fence", timeout=30)
        assert response.status_code == 200
        seen = list(self.requests)
        assert seen and seen[-1] == fence, seen
        self.requests.remove(fence)
        return seen[:-1]

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A :class:`Listener` for one test."""
    server = Listener()
    yield server
    server.close()
