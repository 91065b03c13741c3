"""Web-app figures for a visitor scanning a stall's QR code (run: .venv/bin/python bench/bench_pwa.py).

Loads the demo market (84 stalls, 2,100 items) into a temporary SQLite data folder, starts a real
`souk serve` process on a free port of 127.0.0.1 and drives Debian's Chromium (never a downloaded
browser) through Playwright, each visit in a persistent (non-incognito) profile, phone-sized.
The stall opened is the one with the median number of items. Prints:

1. First-visit transfer of `/s/{code}`: requests and bytes per kind (HTML, CSS, JS, manifest,
   icons, photos, API JSON), split into what the page fetches, what the service worker fetches
   (its install precaches the whole shell) and the replica download; bytes on the wire as
   Chromium received them (body + headers) and, next to them, the size the bodies would have
   gzipped at level 6 (Python's gzip; labelled as an estimate), plus whether the server
   compressed anything at all.
2. Time until the stall page is usable (its whole item list and a visible, enabled "Message the
   seller" link, painted), from navigation start: first visit (fresh profile) and repeat visit
   (service worker and caches warm), median of --runs runs, unthrottled and under a Slow-4G-like
   profile (the numbers are printed) with a 4x CPU slowdown; the ratio throttled/unthrottled.
   The page gets the conditions through CDP (Network.emulateNetworkConditions,
   Emulation.setCPUThrottlingRate); DevTools throttling is per target, so the service worker is
   attached to separately (a second CDP connection) and given the same network conditions (its
   own link of that speed; its CPU is not slowed). "HTML received" is Navigation Timing's
   responseEnd: its responseStart is taken before DevTools' added latency, so it is not reported.
3. The visitor's storage once the first sync has filled the replica: navigator.storage.estimate(),
   the IndexedDB "souk" stores (records and JSON-encoded bytes, the replica per entity), the Cache
   Storage caches (entries and body bytes) and the profile's folders on disk.

Options: --runs N (default 5); --data-dir DIR reuses a folder where `souk demo --no-serve` already
loaded the market (skips the ~45 s load). No figure is asserted: they are printed to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import load_demo, souk_serve
from playwright.sync_api import BrowserContext, Page, Playwright, Request, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import wait_for_function  # the CSP-proof one: no eval inside the page

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

# Runs in every document before its own scripts: records, in ms since navigation start, when the
# stall page became usable, when the app started, drew the stall from its replica and synced.
MARKS_SCRIPT = """(() => {
  if (window !== window.top || !location.pathname.startsWith("/s/")) return;
  const marks = (window.__bench = {});
  const now = () => performance.now();
  const usable = (section) => {
    const heading = [...section.querySelectorAll("h2")].find((h) => /^Items \\(\\d+\\)$/.test(h.textContent.trim()));
    const rows = section.querySelectorAll("ul.items > li").length;
    if (!heading || rows === 0 || rows !== Number(heading.textContent.match(/\\d+/)[0])) return false;
    const link = [...section.querySelectorAll(".actions a, .actions button")]
      .find((el) => el.textContent.trim() === "Message the seller");
    if (!link || link.disabled || link.getAttribute("aria-disabled") === "true") return false;
    const box = link.getBoundingClientRect();
    const style = getComputedStyle(link);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.pointerEvents !== "none";
  };
  const check = () => {
    const section = document.querySelector("main section.stall");
    if (marks.dom === undefined && section && usable(section)) marks.dom = now();
    if (marks.app === undefined && document.body?.dataset.view) marks.app = now();
    if (marks.app_view === undefined && section && !section.dataset.event && usable(section)) marks.app_view = now();
    if (marks.synced === undefined && document.body?.dataset.synced === "yes") marks.synced = now();
  };
  new MutationObserver(check).observe(document, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-view", "data-synced"],
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.name === "first-contentful-paint") marks.fcp = entry.startTime;
  }).observe({ type: "paint", buffered: true });
})();"""

READ_MARKS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 1.5e7; i++) x += i % 7;
  return { ...window.__bench, html: nav.responseEnd, calibration: performance.now() - t0 + (x < 0 ? 1 : 0) };
}"""

STORAGE_SCRIPT = """async () => {
  const estimate = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : null;
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const encoder = new TextEncoder();
  const stores = {};
  const entities = {};
  for (const name of db.objectStoreNames) {
    const values = await new Promise((resolve, reject) => {
      const all = db.transaction(name).objectStore(name).getAll();
      all.onsuccess = () => resolve(all.result);
      all.onerror = () => reject(all.error);
    });
    let bytes = 0;
    for (const value of values) {
      const size = encoder.encode(JSON.stringify(value) ?? "").length;
      bytes += size;
      if (name === "records") {
        const entity = (entities[value.entity] ??= { count: 0, bytes: 0 });
        entity.count += 1;
        entity.bytes += size;
      }
    }
    stores[name] = { count: values.length, bytes };
  }
  db.close();
  const cached = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    let count = 0;
    let bytes = 0;
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      bytes += (await response.arrayBuffer()).byteLength;
      count += 1;
    }
    cached[name] = { count, bytes };
  }
  return {
    usage: estimate.usage, quota: estimate.quota, details: estimate.usageDetails || {}, persisted,
    stores, entities, caches: cached,
  };
}"""


# --- the market and the server ---------------------------------------------------------------


def median_stall(base: str) -> tuple[str, str, int]:
    """(code, name, items) of the stall whose item count is the event's median."""
    with httpx.Client(base_url=base, timeout=30) as http:
        events = http.get("/api/events").json()
        if not events:
            raise RuntimeError("the data folder holds no market (load one with `souk demo --no-serve`)")
        stalls = http.get(f"/api/events/{events[0]['slug']}/stalls").json()
        counted = sorted(
            ((len(http.get(f"/api/stalls/{s['code']}/items").json()), s["code"], s["name"]) for s in stalls),
            key=lambda row: (row[0], row[1]),
        )
    count, code, name = counted[len(counted) // 2]
    return code, name, count


# --- the browser ---------------------------------------------------------------------------------


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
    marks["usable"] = max(marks["dom"], marks["fcp"])  # the list and the link in the DOM, and painted
    return marks


def visit(
    pw: Playwright, profile: Path, url: str, *, throttled: bool, repeat: bool, wait_synced: bool = False
) -> dict[str, float]:
    with phone(pw, profile, throttled) as (_, page):
        page.goto(url, wait_until="commit", timeout=60_000)
        names = ("dom", "fcp", "app") + (("app_view",) if repeat else ())
        return wait_marks(page, names, 120 if throttled else 60, synced_within_s=120 if wait_synced else 0)


# --- transfer and storage ----------------------------------------------------------------------


@dataclass
class Row:
    requests: int = 0
    body: int = 0  # bytes of the bodies as received (encoded, if the server encoded them)
    headers: int = 0
    raw: int = 0  # bytes of the decoded bodies
    gzip6: int = 0  # what the decoded bodies would gzip to at level 6 (estimate)

    def add(self, body: int, headers: int, raw: bytes) -> None:
        self.requests += 1
        self.body += body
        self.headers += headers
        self.raw += len(raw)
        self.gzip6 += len(gzip.compress(raw, 6))


@dataclass
class Transfer:
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)  # (who, kind) -> totals
    encodings: set[str] = field(default_factory=set)
    accept_encoding: str = ""
    from_cache: int = 0
    from_worker: int = 0


def kind_of(path: str, content_type: str) -> str:
    if path.startswith("/api/"):
        return "API JSON"
    if path.startswith("/photos/"):
        return "photos"
    if path.startswith("/app/icons/"):
        return "icons"
    if path == "/manifest.webmanifest":
        return "manifest"
    for marker, kind in (("html", "HTML"), ("css", "CSS"), ("javascript", "JS"), ("image", "icons")):
        if marker in content_type:
            return kind
    return "other"


def account(requests: list[Request], base: str) -> Transfer:
    """Sort the finished requests of a first visit by who fetched them and what they are."""
    transfer = Transfer()
    with httpx.Client(timeout=30) as http:
        for request in requests:
            response = request.response()
            if response is None or not request.url.startswith(base):
                continue
            path = request.url[len(base) :].split("?")[0]
            if not transfer.accept_encoding and request.resource_type == "document":
                transfer.accept_encoding = request.all_headers().get("accept-encoding", "")
            if response.from_service_worker:
                transfer.from_worker += 1  # answered by the worker: its own fetch, if any, is counted
                continue
            sizes = request.sizes()
            body_size = sizes["responseBodySize"]
            raw: bytes | None = None
            if path == "/sw.js" and body_size <= 0:
                # Chromium reports the worker script with no body size: count the bytes it is served with.
                raw = http.get(request.url).content
                body_size = len(raw)
            elif body_size <= 0 and response.status != 204:
                transfer.from_cache += 1  # the HTTP cache answered: nothing on the wire
                continue
            headers = response.all_headers()
            if headers.get("content-encoding"):
                transfer.encodings.add(headers["content-encoding"])
            if raw is None:
                try:
                    raw = response.body()
                except Exception:
                    raw = b""
                if len(raw) < body_size and request.method == "GET":
                    raw = http.get(request.url).content  # Playwright hands no body for a worker's fetches
            who = "worker" if request.service_worker else ("replica" if path.startswith("/api/") else "page")
            row = transfer.rows.setdefault((who, kind_of(path, headers.get("content-type", ""))), Row())
            row.add(body_size, sizes["responseHeadersSize"], raw)
    return transfer


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


# --- printing --------------------------------------------------------------------------------------


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB"


def print_transfer(transfer: Transfer, server_encodings: dict[str, str]) -> None:
    print("\n1. First visit to the stall link: transfer")
    print(f"   Chromium sent Accept-Encoding: {transfer.accept_encoding or '(none seen)'}")
    sent = ", ".join(sorted(transfer.encodings)) or "none"
    print(f"   Content-Encoding on the responses: {sent}")
    for path, encoding in server_encodings.items():
        print(f"   httpx GET {path} with Accept-Encoding: gzip -> Content-Encoding: {encoding or '(none)'}")
    compressed = bool(transfer.encodings)
    label = "wire body" if compressed else "wire body (= raw)"
    print(
        f"   {'who / kind':<22} {'reqs':>5} {label:>18} {'headers':>10} {'wire total':>12} {'gzip -6 body (est.)':>20}"
    )
    groups = (
        ("page", "the page itself"),
        ("worker", "service worker (install precache, its script and imports, photos)"),
        ("replica", "first sync (the page's API calls)"),
    )
    for who, title in groups:
        rows = sorted((kind, row) for (w, kind), row in transfer.rows.items() if w == who)
        if not rows:
            continue
        print(f"   -- {title}")
        total = Row()
        for kind, row in rows:
            print(
                f"   {kind:<22} {row.requests:>5} {kb(row.body):>18} {kb(row.headers):>10} "
                f"{kb(row.body + row.headers):>12} {kb(row.gzip6):>20}"
            )
            for name in ("requests", "body", "headers", "raw", "gzip6"):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        print(
            f"   {'subtotal':<22} {total.requests:>5} {kb(total.body):>18} {kb(total.headers):>10} "
            f"{kb(total.body + total.headers):>12} {kb(total.gzip6):>20}"
        )
    core = [row for (who, kind), row in transfer.rows.items() if who == "page" and kind in ("HTML", "CSS", "JS")]
    wire = sum(r.body + r.headers for r in core)
    print(
        f"   => first-load HTML+CSS+JS of the page: {sum(r.requests for r in core)} requests, {kb(wire)} on the wire "
        f"({kb(sum(r.raw for r in core))} raw bodies; gzip -6 would make the bodies {kb(sum(r.gzip6 for r in core))})"
    )
    everything = sum(r.body + r.headers for r in transfer.rows.values())
    print(
        f"   => everything the first visit downloads until the replica is full: {kb(everything)} on the wire "
        f"(bodies gzipped at -6 would be {kb(sum(r.gzip6 for r in transfer.rows.values()))}); "
        f"{transfer.from_worker} page requests answered by the worker, {transfer.from_cache} by the HTTP cache"
    )


MILESTONES = (
    ("html", "stall HTML received (responseEnd)"),
    ("fcp", "first contentful paint"),
    ("usable", 'usable: all items + "Message the seller"'),
    ("app", "app started (modules loaded and run)"),
    ("app_view", "app drew the stall from its replica"),
    ("synced", "replica complete (run 1 only)"),
)


def stat(runs: list[dict[str, float]], key: str) -> tuple[float, float, float] | None:
    values = [r[key] for r in runs if key in r]
    return (statistics.median(values), min(values), max(values)) if values else None


def print_timings(results: dict[tuple[str, bool], list[dict[str, float]]], runs: int) -> None:
    print(f"\n2. Stall page timings (ms from navigation start; median of {runs} runs [min-max])")
    print(f"   throttled = {SLOW_4G.describe()}; CPU {CPU_SLOWDOWN}x slower (page only); phone 390x844 @3x")
    print(f"   {'':<44} {'unthrottled':>22} {'throttled':>22} {'ratio':>6}")
    for visit_kind, title in (("cold", "first visit (fresh profile)"), ("warm", "repeat visit (worker + caches warm)")):
        print(f"   -- {title}")
        for key, label in MILESTONES:
            if key == "app_view" and visit_kind == "cold":
                continue
            if key == "synced" and visit_kind == "warm":
                continue
            fast, slow = stat(results[(visit_kind, False)], key), stat(results[(visit_kind, True)], key)
            cells = [f"{s[0]:,.0f} [{s[1]:,.0f}-{s[2]:,.0f}]" if s else "-" for s in (fast, slow)]
            ratio = f"{slow[0] / fast[0]:.1f}x" if fast and slow and fast[0] > 0 else "-"
            print(f"   {label:<44} {cells[0]:>22} {cells[1]:>22} {ratio:>6}")
    fast_cal, slow_cal = (stat(results[("cold", t)] + results[("warm", t)], "calibration") for t in (False, True))
    if fast_cal and slow_cal:
        print(
            f"   (check: a fixed JS loop run on the page after each visit took {fast_cal[0]:.0f} ms unthrottled and "
            f"{slow_cal[0]:.0f} ms throttled, medians: a {slow_cal[0] / fast_cal[0]:.1f}x CPU slowdown in effect)"
        )


def print_storage(storage: dict[str, Any], disk: dict[str, int]) -> None:
    print("\n3. The visitor's storage after the first sync (replica full)")
    details = ", ".join(f"{k} {kb(v)}" for k, v in sorted(storage["details"].items()))
    print(f"   navigator.storage.estimate(): usage {kb(storage['usage'])} ({details})")
    print(f"   navigator.storage.persisted(): {storage['persisted']} (the app asks for it after each sync)")
    print("   IndexedDB 'souk' (JSON-encoded records):")
    for name, store in sorted(storage["stores"].items()):
        print(f"     {name:<22} {store['count']:>6} records {kb(store['bytes']):>12}")
    for entity, row in sorted(storage["entities"].items(), key=lambda e: -int(e[1]["bytes"])):
        print(f"       records: {entity:<12} {row['count']:>6} records {kb(row['bytes']):>12}")
    print("   Cache Storage (response bodies):")
    for name, cache in sorted(storage["caches"].items()):
        print(f"     {name:<30} {cache['count']:>4} entries {kb(cache['bytes']):>12}")
    print("   Profile folders on disk: " + ", ".join(f"{k} {kb(v)}" for k, v in disk.items()))


# --- the run -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed visits per configuration")
    parser.add_argument("--data-dir", type=Path, help="a folder that already holds the demo market")
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="souk-bench-pwa-") as scratch_name:
        scratch = Path(scratch_name)
        data_dir = args.data_dir.resolve() if args.data_dir else scratch / "data"
        if not args.data_dir:
            started = time.perf_counter()
            asyncio.run(load_demo(data_dir))
            print(f"demo market loaded in {time.perf_counter() - started:.1f} s (84 stalls, 2,100 items)")
        with souk_serve(data_dir, scratch / "server.log") as server, sync_playwright() as pw:
            base = server.base
            code, name, count = median_stall(base)
            url = f"{base}/s/{code}"
            print(f"stall: {name} ({count} items, the median stall), {url}")
            server_encodings = {}
            for path in (f"/s/{code}", "/app/app.js", "/app/app.css"):
                got = httpx.get(base + path, headers={"Accept-Encoding": "gzip"})
                server_encodings[path] = got.headers.get("content-encoding", "")

            # Run 1, unthrottled, fresh profile: count the bytes, wait for the full replica, measure it.
            warm_profile = scratch / "profile-warm"
            finished: list[Request] = []
            with phone(pw, warm_profile, throttled=False) as (context, page):
                context.on("requestfinished", lambda request: finished.append(request))
                print(f"browser: {CHROMIUM}, Chromium {context.browser.version if context.browser else '?'}")
                page.goto(url, wait_until="commit")
                first = wait_marks(page, ("dom", "fcp", "app", "synced"), 120)
                wait_for_function(page, "navigator.serviceWorker.controller !== null", timeout=30_000)
                storage: dict[str, Any] = page.evaluate(STORAGE_SCRIPT)
                transfer = account(finished, base)
            disk = {
                "IndexedDB": folder_size(warm_profile / "Default" / "IndexedDB"),
                "CacheStorage": folder_size(warm_profile / "Default" / "Service Worker" / "CacheStorage"),
                "worker scripts": folder_size(warm_profile / "Default" / "Service Worker" / "ScriptCache"),
            }

            results: dict[tuple[str, bool], list[dict[str, float]]] = {
                (k, t): [] for k in ("cold", "warm") for t in (False, True)
            }
            results[("cold", False)].append(first)
            for n in range(args.runs):
                if n > 0:
                    profile = scratch / f"profile-cold-{n}"
                    results[("cold", False)].append(visit(pw, profile, url, throttled=False, repeat=False))
                    shutil.rmtree(profile, ignore_errors=True)
                profile = scratch / f"profile-cold-slow-{n}"
                results[("cold", True)].append(
                    visit(pw, profile, url, throttled=True, repeat=False, wait_synced=n == 0)
                )
                shutil.rmtree(profile, ignore_errors=True)
            for _ in range(args.runs):
                for throttled in (False, True):
                    results[("warm", throttled)].append(visit(pw, warm_profile, url, throttled=throttled, repeat=True))

        print_transfer(transfer, server_encodings)
        print_timings(results, args.runs)
        print_storage(storage, disk)
        print(f"\n(bench ran {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
