"""The pulls bench_sync.py measures: every page from a cursor, in process with the bytes the API
would send (raw and gzipped), and a new device's first pull over HTTP from a real server."""

from __future__ import annotations

import gzip
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness.data import open_market
from litestar.serialization import encode_json

from server.domain.actors import Actor
from server.domain.context import Services
from server.domain.feed import pull

BASE_URL = "http://127.0.0.1:8000"


def market_at(data_dir: Path, base_url: str = BASE_URL) -> Services:
    """A Market on the SQLite database of `data_dir`. The base URL matters to the bytes: stall
    records carry their page's URL."""
    return open_market(data_dir, SOUK_BASE_URL=base_url)


PULL_RUNS = 5
GZIP_LEVEL = 6


@dataclass(frozen=True)
class PullFigures:
    pages: int
    records: int
    raw_bytes: int
    gzip_bytes: int
    pull_seconds: float
    encode_seconds: float
    cursor: str


async def pull_all(market: Services, actor: Actor, slug: str, cursor: str | None) -> PullFigures:
    """Every page from `cursor` (None: the snapshot first) until `has_more` is false."""
    pages = records = raw = zipped = 0
    pulling = encoding = 0.0
    while True:
        began = time.perf_counter()
        page = await pull(market, actor, slug, cursor)
        encode_began = time.perf_counter()
        body = encode_json(page)
        pulling += encode_began - began
        encoding += time.perf_counter() - encode_began
        pages, records = pages + 1, records + len(page.changes)
        raw, zipped = raw + len(body), zipped + len(gzip.compress(body, GZIP_LEVEL))
        cursor = page.cursor
        if not page.has_more:  # the snapshot's pages, then the log after it, as the app pulls
            return PullFigures(pages, records, raw, zipped, pulling, encoding, cursor)


async def median_pull(market: Services, actor: Actor, slug: str, cursor: str | None) -> PullFigures:
    runs = [await pull_all(market, actor, slug, cursor) for _ in range(PULL_RUNS)]
    by_time = sorted(runs, key=lambda r: r.pull_seconds + r.encode_seconds)
    return by_time[len(by_time) // 2]


def describe(label: str, figures: PullFigures) -> None:
    total = (figures.pull_seconds + figures.encode_seconds) * 1000
    print(
        f"  {label}: {figures.pages} page(s), {figures.records:,} records, "
        f"{figures.raw_bytes:,} bytes JSON ({figures.raw_bytes / 1024:,.1f} KiB), "
        f"{figures.gzip_bytes:,} gzipped ({figures.gzip_bytes / max(1, figures.raw_bytes):.0%}); "
        f"{total:.1f} ms (pull {figures.pull_seconds * 1000:.1f} + encoding {figures.encode_seconds * 1000:.1f})"
    )


def indexer_behind(database: Path) -> int:
    """Item and stall changes the server's search indexer has not handled yet."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT seq FROM log_cursor WHERE name = 'search'").fetchone()
        (behind,) = conn.execute(
            "SELECT count(*) FROM change_log WHERE seq > ? AND entity IN ('item', 'stall')", (row[0] if row else -1,)
        ).fetchone()
    conn.close()
    return int(behind)


@dataclass(frozen=True)
class WirePull:
    body_bytes: int  # JSON bodies, as decoded by the client
    wire_bytes: int  # as received: gzipped by the server when a body is 1 KiB or more
    seconds: float


def http_snapshot(base: str, slug: str, database: Path) -> WirePull:
    """A new device's first pull over HTTP, every page; median time of 3."""
    deadline = time.monotonic() + 180
    while behind := indexer_behind(database):  # at start the server indexes the market: let it finish
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server's search indexer still has {behind} changes to index after 180 s")
        time.sleep(0.5)
    with httpx.Client(base_url=base, timeout=120) as http:
        token = http.post("/api/devices").json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        runs = []
        for _ in range(3):
            cursor, body, wire = None, 0, 0
            began = time.perf_counter()
            while True:
                response = http.post("/api/sync/pull", json={"event": slug, "cursor": cursor}, headers=headers)
                response.raise_for_status()
                body, wire = body + len(response.content), wire + response.num_bytes_downloaded
                page = response.json()
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
            runs.append(WirePull(body, wire, time.perf_counter() - began))
    return sorted(runs, key=lambda run: run.seconds)[1]
