"""The three tables bench_pwa.py prints: transfer, timings, storage."""

from __future__ import annotations

import statistics
from typing import Any

from pwa_bench.browser import CPU_SLOWDOWN, SLOW_4G
from pwa_bench.transfer import Row, Transfer


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
    ("usable", "usable: items, local prices, link; painted"),
    ("app", "app started (modules loaded and run)"),
    ("app_view", "app drew the stall from its replica"),  # first visit: once the stall's page is in
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


GOAL_REPLICA_BYTES = 1.5 * 1024 * 1024
GOAL_USABLE_MS = 400
GOAL_SYNCED_MS = 3000


def print_goals(results: dict[tuple[str, bool], list[dict[str, float]]], storage: dict[str, Any], disk: int) -> None:
    """The issue's goals for a first visit, met or not (figures from this same run)."""
    print("\n4. Goals (issue 15; first visit, Slow-4G-like network and 4x CPU unless said)")
    indexed = float(storage["details"].get("indexedDB", 0))
    rows: list[tuple[str, str, bool | None]] = [
        (
            "replica in IndexedDB < 1.5 MB",
            f"{kb(indexed)} (storage estimate; folder on disk {kb(disk)})",
            indexed < GOAL_REPLICA_BYTES if indexed else None,
        )
    ]
    cold = results[("cold", True)]
    for key, label, goal in (
        ("usable", "scanned stall usable < 400 ms", GOAL_USABLE_MS),
        ("app_view", "app drew the scanned stall < 400 ms", GOAL_USABLE_MS),
        ("synced", "whole replica < 3 s", GOAL_SYNCED_MS),
    ):
        found = stat(cold, key)
        rows.append((label, f"{found[0]:,.0f} ms" if found else "not measured", found[0] < goal if found else None))
    for label, figure, met in rows:
        verdict = "MET" if met else "not met" if met is False else "?"
        print(f"   {label:<40} {figure:<52} {verdict}")
