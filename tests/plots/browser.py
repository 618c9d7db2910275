"""A real browser for the report test: headless Chromium driven over the DevTools protocol.

Chromium's ``--remote-debugging-pipe`` reads JSON commands from file descriptor 3 and writes
replies and events to descriptor 4, each message ending in a NUL byte, so the standard
library is enough (no websocket client, no Playwright). A page is loaded from a file:// URL
into a fresh browser profile with networking features off; the result holds what the page's
console and the browser's log reported, the state of each image, the layout width and a
PNG screenshot.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe")
# Not a time limit on the page: only a guard so that a browser that hangs cannot hang the tests.
REPLY_GUARD_SECONDS = 120
READ_BYTES = 1 << 20
# Reads each image's state after load: [src prefix, complete, natural width, natural height].
IMAGES_SCRIPT = ("JSON.stringify(Array.from(document.images).map(i => "
                 "[i.getAttribute('src').slice(0, 30), i.complete, i.naturalWidth, i.naturalHeight]))")
LAYOUT_SCRIPT = ("JSON.stringify([document.documentElement.scrollWidth, window.innerWidth, "
                 "document.documentElement.clientWidth, document.documentElement.scrollHeight])")


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)   # console errors, exceptions, log errors
    images: list[list] = field(default_factory=list)  # [src prefix, complete, width, height]
    scroll_width: int = 0                             # the page's layout width
    viewport_width: int = 0                           # the window's, scroll bar included
    client_width: int = 0                             # the window's, scroll bar excluded
    page_height: int = 0
    screenshot: bytes = b""                           # PNG


class Chromium:
    """``with Chromium() as browser: result = browser.open(path, width, height)``."""

    def __init__(self, executable: str | None = None):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("no chromium on PATH")
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []

    def __enter__(self) -> "Chromium":
        self._profile = tempfile.mkdtemp(prefix="embedtrain-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def descriptors():
            # In the child: the pipe ends become 3 and 4, as Chromium expects (copied above
            # 9 first, in case one of them is 3 or 4 already). dup2 makes them inheritable;
            # every other descriptor Python opened is not (PEP 446), so nothing else leaks.
            reads = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            writes = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(reads, 3)
            os.dup2(writes, 4)

        self._process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            preexec_fn=descriptors, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self._process.wait(REPLY_GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self._profile, ignore_errors=True)

    # ------------------------------------------------------------------ protocol
    def _send(self, method: str, params: dict | None, session: str | None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError("chromium exited") from None
        return self._next_id

    def _receive(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], REPLY_GUARD_SECONDS)
            if not ready:
                raise BrowserError("chromium stopped answering")
            chunk = os.read(self._from_browser, READ_BYTES)
            if not chunk:
                raise BrowserError("chromium exited")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        wanted = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._events.append(message)

    def _wait_for(self, method: str, session: str) -> None:
        while not any(e.get("method") == method and e.get("sessionId") == session
                      for e in self._events):
            self._events.append(self._receive())

    def _evaluate(self, expression: str, session: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session)
        return json.loads(result["result"]["value"])

    # ------------------------------------------------------------------ pages
    def open(self, path: Path, width: int, height: int, mobile: bool = False,
             scale: float = 1.0) -> PageResult:
        """Load ``path`` in a new tab of the given viewport and report on it."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                  "deviceScaleFactor": scale, "mobile": mobile}, session)
        self._events = [e for e in self._events if e.get("sessionId") != session]
        navigation = self.call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session)
        if navigation.get("errorText"):
            raise BrowserError(f"cannot open {path}: {navigation['errorText']}")
        self._wait_for("Page.loadEventFired", session)
        result = PageResult()
        result.images = self._evaluate(IMAGES_SCRIPT, session)
        result.scroll_width, result.viewport_width, result.client_width, result.page_height = \
            self._evaluate(LAYOUT_SCRIPT, session)
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                         session)
        result.screenshot = base64.b64decode(shot["data"])
        result.errors = [text for e in self._events if e.get("sessionId") == session
                         for text in [_error_text(e)] if text]
        self.call("Target.closeTarget", {"targetId": target})
        return result


def _error_text(event: dict) -> str | None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return "exception: " + params.get("exceptionDetails", {}).get("text", "")
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
        return f"console.{params['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                       for a in params.get("args", []))
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
        entry = params["entry"]
        return f"{entry.get('source')} {entry['level']}: {entry.get('text')}"
    return None
