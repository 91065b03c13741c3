"""Chromium as a phone for bench_pwa.py: a persistent profile, optionally on a Slow-4G-like network
(the service worker too, through a second CDP connection) and a 4x slower CPU; the page's marks."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.chromium import CHROMIUM, CHROMIUM_ARGS, wait_for_function
from playwright.sync_api import BrowserContext, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from pwa_bench.scripts import MARKS_SCRIPT, READ_MARKS

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
}


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    latency_ms: float  # added to every request (CDP: request sent -> response headers)
    down_kbit: float
    up_kbit: float

    def cdp(self) -> dict[str, Any]:
        return {
            "offline": False,
            "latency": self.latency_ms,
            "downloadThroughput": self.down_kbit * 1000 / 8,  # bytes per second
            "uploadThroughput": self.up_kbit * 1000 / 8,
        }

    def describe(self) -> str:
        return (
            f"{self.name}: {self.latency_ms:.0f} ms latency per request, {self.down_kbit / 1000:.1f} Mbit/s down, "
            f"{self.up_kbit:.0f} kbit/s up"
        )


SLOW_4G = NetworkProfile("Slow-4G-like", latency_ms=150, down_kbit=1600, up_kbit=750)
CPU_SLOWDOWN = 4


class WorkerThrottle:
    """A second CDP connection (browser level, flat sessions) that gives every service worker the
    network conditions as it starts: the page's Network.emulateNetworkConditions does not reach
    the worker's own fetches (its precache, its network-first fetch of the stall page)."""

    def __init__(self, ws_url: str, conditions: dict[str, Any] | None) -> None:
        self._ws: ClientConnection = connect(ws_url, max_size=None, open_timeout=10)
        self._conditions = conditions
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._answers: dict[int, threading.Event] = {}
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        only_workers = [{"type": "service_worker", "exclude": False}, {"exclude": True}]
        self._call(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True, "filter": only_workers},
        )

    def _send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        with self._lock:
            self._answers[ident] = threading.Event()
            self._ws.send(json.dumps(message))
        return ident

    def _call(self, method: str, params: dict[str, Any]) -> None:
        if not self._answers[self._send(method, params)].wait(10):
            raise RuntimeError(f"no answer to {method}")

    def _listen(self) -> None:
        try:
            for raw in self._ws:
                message = json.loads(raw)
                if "id" in message and message["id"] in self._answers:
                    self._answers[message["id"]].set()
                elif message.get("method") == "Target.attachedToTarget":
                    session = message["params"]["sessionId"]
                    if self._conditions:
                        self._send("Network.emulateNetworkConditions", self._conditions, session)
                    self._send("Runtime.runIfWaitingForDebugger", {}, session)
        except ConnectionClosed:
            return

    def close(self) -> None:
        self._ws.close()
        self._thread.join(timeout=5)


@contextmanager
def phone(pw: Playwright, profile: Path, throttled: bool) -> Iterator[tuple[BrowserContext, Page]]:
    """Chromium on a persistent profile, phone-sized, optionally on a slow network and a slow CPU."""
    context = pw.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--remote-debugging-port=0"],
        headless=True,
        service_workers="allow",
        **PHONE,
    )
    workers: WorkerThrottle | None = None
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(100):
            if port_file.exists() and len(port_file.read_text().split()) >= 2:
                break
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        workers = WorkerThrottle(f"ws://127.0.0.1:{port}{path}", SLOW_4G.cdp() if throttled else None)
        context.add_init_script(MARKS_SCRIPT)
        page = context.pages[0] if context.pages else context.new_page()
        if throttled:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_4G.cdp())
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        yield context, page
    finally:
        if workers:
            workers.close()
        context.close()


def wait_marks(page: Page, names: tuple[str, ...], timeout_s: float, *, synced_within_s: float = 0) -> dict[str, float]:
    """Wait for the marks `names` (failing after `timeout_s`), then, if asked, for the full replica
    (giving up quietly after `synced_within_s`: that figure is then left out)."""
    condition = " && ".join(f"window.__bench.{n} !== undefined" for n in names)
    wait_for_function(page, f"() => window.__bench !== undefined && {condition}", polling=50, timeout=timeout_s * 1000)
    if synced_within_s:
        try:
            wait_for_function(
                page, "() => window.__bench.synced !== undefined", polling=100, timeout=synced_within_s * 1000
            )
        except (PlaywrightTimeoutError, TimeoutError):
            print(f"   (the replica was not complete within {synced_within_s:.0f} s: figure left out)")
    marks: dict[str, float] = page.evaluate(READ_MARKS)
    marks["usable"] = max(marks["dom_painted"], marks["fcp"])  # the list, prices and link drawn, and painted
    return marks


def visit(
    pw: Playwright, profile: Path, url: str, *, throttled: bool, repeat: bool, wait_synced: bool = False
) -> dict[str, float]:
    with phone(pw, profile, throttled) as (_, page):
        page.goto(url, wait_until="commit", timeout=60_000)
        names = ("dom", "dom_painted", "fcp", "app", "app_view")
        return wait_marks(page, names, 120 if throttled else 60, synced_within_s=120 if wait_synced else 0)
