"""Headless Chromium driven over the DevTools protocol: open a page, read its own state, click.

A small client of the protocol over one WebSocket (the ``websockets`` package the server's
uvicorn already brings), for the network page's browser tests (tests/test_network_page.py) and
its first-paint benchmark (bench/network_page.py). The browser is the system's chromium: nothing
is downloaded. With ``offline=True`` every host name but 127.0.0.1 fails to resolve, so a page
that needs anything from outside shows it.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

__all__ = ["Chromium", "DevToolsError"]


class DevToolsError(RuntimeError):
    """The browser answered a command with an error, or a page script threw."""


class Chromium:
    """A headless chromium with one page; use as a context manager."""

    def __init__(self, program: str, profile: Path, *, offline: bool = True) -> None:
        self.program = program
        self.profile = profile
        self.offline = offline
        self.requests: list[str] = []  # every URL the page asked for (Network.requestWillBeSent)
        self.errors: list[str] = []  # uncaught script errors (Runtime.exceptionThrown)
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: ClientConnection | None = None
        self._next_id = 0

    def __enter__(self) -> Chromium:
        self.profile.mkdir(parents=True, exist_ok=True)
        (self.profile / "DevToolsActivePort").unlink(missing_ok=True)  # a former run's
        command = [
            self.program,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--window-size=1280,900",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
        ]
        if self.offline:
            command.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
        command.append("about:blank")
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            self._attach()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _attach(self) -> None:
        """Connect to the browser's one page and turn on the events the client records."""
        port = self._port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t.get("type") == "page")
        self._socket = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Network.enable")

    def __exit__(self, *exc: object) -> None:
        if self._socket is not None:
            self._socket.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def _port(self, timeout: float = 30.0) -> int:
        """The DevTools port chromium chose, from the file it writes into the profile."""
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise DevToolsError(f"chromium exited with status {self._process.returncode}")
            if marker.is_file():
                first = marker.read_text().splitlines()[:1]
                if first and first[0].isdigit():
                    return int(first[0])
            time.sleep(0.05)
        raise DevToolsError("chromium did not open its DevTools port")

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        """Send a command and return its result; events that arrive meanwhile are recorded."""
        assert self._socket is not None
        self._next_id += 1
        ident = self._next_id
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError(f"{method}: no answer in {timeout} s")
            message = json.loads(self._socket.recv(timeout=left))
            if message.get("id") == ident:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message.get("result", {})
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
            elif message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.errors.append(
                    details.get("exception", {}).get("description") or details["text"]
                )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        """Open ``url`` (returns once the navigation is committed, not when it is loaded)."""
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise DevToolsError(f"{url}: {answer['errorText']}")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except DevToolsError:
                value = None  # the page is between documents
            if value:
                return value
            time.sleep(0.05)
        raise DevToolsError(f"still false after {timeout} s: {expression}")

    def click(self, x: float, y: float) -> None:
        """A left click at page coordinates (x, y), as a mouse would."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            params: dict[str, Any] = {"type": kind, "x": x, "y": y}
            if kind != "mouseMoved":
                params.update(button="left", clickCount=1)
            self.send("Input.dispatchMouseEvent", params)

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to page coordinates (x, y)."""
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})

    def press_tab(self) -> None:
        """Press and release the Tab key, as a keyboard would."""
        key = {"key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9}
        self.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **key})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})
