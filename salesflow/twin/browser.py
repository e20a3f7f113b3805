"""A real mail-client stand-in: headless Chromium (Debian's ``chromium``) renders a local HTML file.

One browser process per call, driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
no port, no extra library): it loads the page, records every request the page makes, reads the rendered
text (``innerText``: what a reader sees) and the links, and takes a full-page PNG screenshot. The
browser runs with background networking off and every proxied request refused, so a page that tried
to fetch anything from outside would show it in ``requests`` and fail to load it.

    python -m salesflow.twin.browser out/iso_week=2026-W47/email.html docs/analyst-email.png
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get install -y --no-install-recommends chromium"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--remote-debugging-pipe",
)  # fmt: skip
TIMEOUT_SECONDS = 60
_WIRE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


class BrowserError(RuntimeError):
    """Chromium is missing or did not render the page; the message says how to fix it."""


@dataclass
class RenderedPage:
    text: str
    links: list[str]
    requests: list[str]
    png: bytes
    size: tuple[int, int] = (0, 0)
    console: list[str] = field(default_factory=list)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(f"headless Chromium is not installed: {INSTALL_HINT} (.ci/run does it)")


class _Pipe:
    """DevTools messages: JSON objects separated by NUL bytes on two pipes."""

    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.process, self.to_browser, self.from_browser = process, to_browser, from_browser
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._read()
            if event.get("method") == method:
                return event
            self.events.append(event)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium closed the DevTools pipe (exit code {self.process.poll()})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


def render(page: Path, width: int = 720, binary: str | None = None) -> RenderedPage:
    """Load ``page`` (a local file) in headless Chromium and return what it rendered."""
    binary = binary or chromium_binary()
    commands_read, commands_write = os.pipe()
    events_read, events_write = os.pipe()

    # DevTools reads commands on fd 3 and writes replies on fd 4: a Python trampoline wires the pipes to
    # them and execs the browser (a shell cannot: dash redirects single-digit descriptors only).
    with tempfile.TemporaryDirectory(prefix="salesflow-chromium-") as profile:
        process = subprocess.Popen(
            [sys.executable, "-c", _WIRE, str(commands_read), str(events_write), binary, *FLAGS,
             f"--user-data-dir={profile}", f"--window-size={width},900", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(commands_read, events_write),
        )  # fmt: skip
        os.close(commands_read)
        os.close(events_write)
        pipe = _Pipe(process, commands_write, events_read)
        try:
            return _drive(pipe, page.resolve().as_uri(), width)
        finally:
            with contextlib.suppress(BrowserError):
                pipe.call("Browser.close")
            os.close(commands_write)
            os.close(events_read)
            try:
                process.wait(timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _drive(pipe: _Pipe, url: str, width: int) -> RenderedPage:
    target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
    session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Network.enable", "Page.enable", "Runtime.enable"):
        pipe.call(domain, session)
    pipe.call("Page.navigate", session, url=url)
    pipe.wait_for("Page.loadEventFired")

    def evaluate(expression: str) -> Any:
        result = pipe.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    text = evaluate("document.body.innerText")
    links = evaluate("Array.from(document.querySelectorAll('a[href]'), a => a.getAttribute('href'))")
    height = int(evaluate("Math.ceil(document.documentElement.scrollHeight)"))
    shot = pipe.call(
        "Page.captureScreenshot",
        session,
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )
    requests = [
        event["params"]["request"]["url"]
        for event in pipe.events
        if event.get("method") == "Network.requestWillBeSent"
    ]
    console = [
        str(event["params"].get("args"))
        for event in pipe.events
        if event.get("method") == "Runtime.consoleAPICalled"
    ]
    return RenderedPage(text, links, requests, base64.b64decode(shot["data"]), (width, height), console)


def main(argv: list[str] | None = None) -> int:
    """Screenshot a local HTML file (the README's picture of the analysts' e-mail), as a small PNG."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m salesflow.twin.browser PAGE.html OUT.png", file=sys.stderr)
        return 2
    rendered = render(Path(args[0]))
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(rendered.png)).convert("RGB").quantize(colors=64)
    image.save(args[1], optimize=True)
    print(f"{args[1]}: {rendered.size[0]}x{rendered.size[1]}, {Path(args[1]).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
