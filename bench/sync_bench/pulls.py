"""The pulls bench_sync.py measures: every page from a cursor, in process with the bytes the API
would send (raw and gzipped), in either record format (sync/FORMAT.md), and a new device's
first pull over HTTP from a real server."""

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
from server.domain.feed import pull, pull_format2
from sync.pull import DEFAULT_LIMIT

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
    seconds: float  # pulling and encoding every page (format 2 encodes its records in the pull)
    cursor: str
    first_page_gzip: int = 0  # the first page alone (with `stall`: the scanned stall usable)
    bodies: tuple[bytes, ...] = ()  # every page's JSON, for the field breakdown


@dataclass(frozen=True)
class Way:
    """How a client pulls: the record format, the records a page, and for a first visit the
    stall it scanned (format 2) with the records of the first page."""

    fmt: int = 1
    limit: int = DEFAULT_LIMIT
    stall: str | None = None
    first_limit: int | None = None
    patches: bool = False  # format 2: item patches in log pages, as the apps ask since they merge them


async def pull_page(
    market: Services, actor: Actor, slug: str, cursor: str | None, way: Way, first: bool
) -> tuple[bytes, str, bool, int]:
    """One page as the API encodes it: (JSON, next cursor, more to pull, records)."""
    limit = (way.first_limit or way.limit) if first else way.limit
    if way.fmt == 2:
        stall = way.stall if first else None
        compact = await pull_format2(market, actor, slug, cursor, limit, stall, patches=way.patches)
        return encode_json(compact), compact.cursor, compact.more, len(compact.changes)
    page = await pull(market, actor, slug, cursor, limit)
    return encode_json(page), page.cursor, page.has_more, len(page.changes)


async def pull_all(market: Services, actor: Actor, slug: str, cursor: str | None, way: Way = Way()) -> PullFigures:
    """Every page from `cursor` (None: the snapshot first) until caught up, pulled `way`."""
    pages = records = raw = zipped = first = 0
    pulling = 0.0
    bodies: list[bytes] = []
    while True:
        began = time.perf_counter()
        body, cursor, more, count = await pull_page(market, actor, slug, cursor, way, first=not pages)
        pulling += time.perf_counter() - began
        size = len(gzip.compress(body, GZIP_LEVEL))
        pages, records = pages + 1, records + count
        raw, zipped, first = raw + len(body), zipped + size, first or size
        bodies.append(body)
        if not more:  # the snapshot's pages, then the log after it, as the app pulls
            return PullFigures(pages, records, raw, zipped, pulling, cursor, first, tuple(bodies))


async def median_pull(market: Services, actor: Actor, slug: str, cursor: str | None, way: Way = Way()) -> PullFigures:
    runs = [await pull_all(market, actor, slug, cursor, way) for _ in range(PULL_RUNS)]
    by_time = sorted(runs, key=lambda r: r.seconds)
    return by_time[len(by_time) // 2]


def describe(label: str, figures: PullFigures) -> None:
    print(
        f"  {label}: {figures.pages} page(s), {figures.records:,} records, "
        f"{figures.raw_bytes:,} bytes JSON ({figures.raw_bytes / 1024:,.1f} KiB), "
        f"{figures.gzip_bytes:,} gzipped ({figures.gzip_bytes / max(1, figures.raw_bytes):.0%}); "
        f"{figures.seconds * 1000:.1f} ms (pull and encoding)"
    )


def side_by_side(label: str, one: PullFigures, two: PullFigures, patched: PullFigures | None = None) -> None:
    """One line per format (and format 2 with patches, when given) and the ratio of the gzipped bytes."""
    print(f"  {label}:")
    ways = [("format 1", one), ("format 2", two)] + ([("format 2, patches", patched)] if patched else [])
    for name, figures in ways:
        total = figures.seconds * 1000
        print(
            f"    {name}: {figures.pages} page(s), {figures.records:,} records, "
            f"{figures.raw_bytes:,} bytes JSON, {figures.gzip_bytes:,} gzipped "
            f"({figures.gzip_bytes / 1024:,.1f} KiB); {total:.1f} ms"
        )
    print(f"    format 2 / format 1 gzipped: {two.gzip_bytes / max(1, one.gzip_bytes):.1%}")
    if patched:
        print(f"    format 2 with patches / format 1 gzipped: {patched.gzip_bytes / max(1, one.gzip_bytes):.1%}")


def indexer_behind(database: Path) -> int:
    """Item and stall changes the server's search indexer has not handled yet (its cursor is
    `search`, or `search@<index id>` for a machine's own index: search/indexer.py)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT max(seq) FROM log_cursor WHERE name = 'search' OR name LIKE 'search@%'").fetchone()
        (behind,) = conn.execute(
            "SELECT count(*) FROM change_log WHERE seq > ? AND entity IN ('item', 'stall')",
            (row[0] if row and row[0] is not None else -1,),
        ).fetchone()
    conn.close()
    return int(behind)


@dataclass(frozen=True)
class WirePull:
    body_bytes: int  # JSON bodies, as decoded by the client
    wire_bytes: int  # as received: gzipped by the server when a body is 1 KiB or more
    seconds: float


def http_snapshot(base: str, slug: str, database: Path, fmt: int = 1) -> WirePull:
    """A new device's first pull over HTTP in format `fmt`, every page; median time of 3."""
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
                body_json = {"event": slug, "cursor": cursor, "format": fmt}
                response = http.post("/api/sync/pull", json=body_json, headers=headers)
                response.raise_for_status()
                body, wire = body + len(response.content), wire + response.num_bytes_downloaded
                page = response.json()
                cursor = page["cursor"]
                if not page["more" if fmt == 2 else "has_more"]:
                    break
            runs.append(WirePull(body, wire, time.perf_counter() - began))
    return sorted(runs, key=lambda run: run.seconds)[1]
