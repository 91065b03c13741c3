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
4. The issue's goals for the first visit under Slow-4G/4x CPU, each with "MET" or "not met":
   replica < 1.5 MB in IndexedDB (the storage estimate), the scanned stall usable < 400 ms (and
   the app's own drawing of it from the replica: on a first visit, once the stall's page of the
   staged pull is in) and the whole replica < 3 s.

Options: --runs N (default 5); --data-dir DIR reuses a folder where `souk demo --no-serve` already
loaded the market (skips the ~45 s load). No figure is asserted: they are printed to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from harness.chromium import CHROMIUM, wait_for_function
from harness.data import load_demo
from harness.process import souk_serve
from playwright.sync_api import Request, sync_playwright
from pwa_bench.browser import phone, visit, wait_marks
from pwa_bench.report import print_goals, print_storage, print_timings, print_transfer
from pwa_bench.scripts import STORAGE_SCRIPT
from pwa_bench.transfer import PageNetwork, account, folder_size


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
                network = PageNetwork(context.new_cdp_session(page))
                print(f"browser: {CHROMIUM}, Chromium {context.browser.version if context.browser else '?'}")
                page.goto(url, wait_until="commit")
                first = wait_marks(page, ("dom", "dom_painted", "fcp", "app", "synced"), 120)
                wait_for_function(page, "navigator.serviceWorker.controller !== null", timeout=30_000)
                storage: dict[str, Any] = page.evaluate(STORAGE_SCRIPT)
                transfer = account(finished, base, network)
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
        print_goals(results, storage, disk["IndexedDB"])
        print(f"\n(bench ran {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
