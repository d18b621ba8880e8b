"""Headless Chromium driven over the DevTools protocol, for the page tests.

A small client of our own over ``websockets`` (already installed with uvicorn's extras): the
browser is the system's chromium, started with a throw-away profile and
``--remote-debugging-port=0``; nothing is downloaded. :class:`Browser` opens one page and can
evaluate JavaScript in it (the page's own state, the DOM), wait for a condition, press keys the
way a keyboard does, and tell every URL the page requested (to prove it used no network but the
server's) and every error its scripts met.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

__all__ = ["Browser", "browser"]

_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
)


class Browser:
    """One page of a running chromium, over one DevTools connection (flattened sessions)."""

    def __init__(self, socket: ClientConnection, session: str) -> None:
        self._socket = socket
        self._session = session
        self._next = 0
        self.requested: list[str] = []  #: every URL the page asked for, in order
        self.errors: list[str] = []  #: uncaught exceptions and console errors of the page

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send a command to the page and return its result (events met meanwhile are noted)."""
        self._next += 1
        ident = self._next
        self._socket.send(
            json.dumps(
                {"id": ident, "method": method, "params": params, "sessionId": self._session}
            )
        )
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            event, params = message.get("method"), message.get("params", {})
            if event == "Network.requestWillBeSent":
                self.requested.append(params["request"]["url"])
            elif event == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif event == "Runtime.consoleAPICalled" and params.get("type") == "error":
                self.errors.append(json.dumps(params.get("args"))[:500])

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        """Poll ``expression`` until it is truthy; its value, or AssertionError at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout} s: {expression}")
            time.sleep(0.05)

    def open(self, url: str) -> None:
        """Load ``url`` and wait until its document has loaded."""
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def press(self, key: str, code: str, key_code: int) -> None:
        """Press and release a key on whatever has the focus, as a keyboard would."""
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                text="\r" if key == "Enter" and kind == "keyDown" else "",
            )

    def screenshot(self, path: Path) -> None:
        import base64

        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))


@contextmanager
def browser(chromium: str, profile: Path) -> Iterator[Browser]:
    """A headless chromium with one blank page; closed (and waited for) on exit."""
    profile.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [chromium, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
            socket.send(
                json.dumps(
                    {"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}}
                )
            )
            target = _answer(socket, 1)["targetId"]
            socket.send(
                json.dumps(
                    {
                        "id": 2,
                        "method": "Target.attachToTarget",
                        "params": {"targetId": target, "flatten": True},
                    }
                )
            )
            page = Browser(socket, _answer(socket, 2)["sessionId"])
            page.call("Page.enable")
            page.call("Runtime.enable")
            page.call("Network.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answer(socket: ClientConnection, ident: int) -> dict[str, Any]:
    while True:
        message = json.loads(socket.recv(timeout=30))
        if message.get("id") == ident:
            if "error" in message:
                raise RuntimeError(str(message["error"]))
            result: dict[str, Any] = message["result"]
            return result
