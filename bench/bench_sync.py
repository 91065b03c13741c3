"""Sync protocol figures on the demo market: pull sizes and times, push against direct calls.

Run: .venv/bin/python bench/bench_sync.py [--rounds 2] [--demo-data-dir DIR]

Loads the demo market (fixtures: 84 stalls, 2,100 items, through the domain functions as
`souk demo` does) into a temporary SQLite data folder (`--demo-data-dir DIR` copies the
database of a folder where `souk demo --no-serve` already ran instead), then prints:

1. A new visitor device's first pull: every page of the snapshot (500 records a page), with
   the bytes of the JSON the HTTP API sends for it, raw and gzipped (see below), and its
   time, median of 5 pulls, split into `sync.pull.pull` (database and views) and encoding.
2. The pull of that device after one edit, and after 10 changes (5 edits, 2 reservations,
   2 sales, 1 message of this visitor opening a conversation): records, bytes, time (median
   of 5; the same cursor gives the same answer).
3. 500 queued mutations (200 edits, 70 reservations, 80 sales by 10 vendors; 150 messages by
   6 visitor devices, 25 each: under the flood limit of 30 a minute per device) applied
   through `sync.push.push` (each client pushes its own outbox, one client after another), against
   the baseline of the same changes as direct domain calls in the same process. Each run
   starts from its own copy of the same database, so both apply exactly the same changes;
   `--rounds` runs of each, alternating, and the ratio of the medians.

Bytes are those of `litestar.serialization.encode_json(PullResult)`, the encoder Litestar
renders the route's return value with (msgspec, no type encoders configured in the app), and
that JSON gzipped at level 6 page by page, as the app's CompressionConfig sends any response
of 1 KiB or more. At the end both are checked against the real endpoint: a `souk serve`
process on the same data folder answering `POST /api/sync/pull` over 127.0.0.1 (decoded body
bytes, bytes received, and the time of the whole first pull over HTTP).
The load average is printed at start and end: the machine may be shared. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from harness import free_port, souk_serve
from litestar.serialization import encode_json

from server.auth.tokens import create_device
from server.database import bind_tables, build_engine, prepare_sqlite_file, start_engine, stop_engine
from server.domain import chat, events, items
from server.domain.actors import Actor
from server.domain.chat import SendInput
from server.domain.context import Market
from server.domain.items import ItemPatch
from server.migrate import migrate
from server.photos import PhotoStore
from server.settings import Settings
from server.tables import Item, Stall
from sync.pull import pull
from sync.push import MAX_BATCH, Mutation, PushRequest, push

PULL_RUNS = 5
GZIP_LEVEL = 6
VENDORS = 10
EDITS, RESERVES, SELLS = 20, 7, 8  # per vendor: 35 x 10 = 350 item mutations
DEVICES, CONVERSATIONS, MESSAGES = 6, 5, 5  # 6 devices x 5 conversations x 5 messages = 150
BODIES = (
    "Hello! Is this still available?",
    "Could you keep it for me until 3pm?",
    "Do you take cards?",
    "Great, see you at the stall.",
    "Thanks a lot!",
)


@dataclass(frozen=True)
class PullFigures:
    pages: int
    records: int
    raw_bytes: int
    gzip_bytes: int
    pull_seconds: float
    encode_seconds: float
    cursor: str


async def pull_all(market: Market, actor: Actor, slug: str, cursor: str | None) -> PullFigures:
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


async def median_pull(market: Market, actor: Actor, slug: str, cursor: str | None) -> PullFigures:
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


# --- the database ----------------------------------------------------------------------------


def open_market(data_dir: Path, base_url: str = "http://127.0.0.1:8000") -> Market:
    """A Market on the SQLite database of `data_dir`, every table bound to it.

    The base URL matters to the bytes: stall records carry their page's URL.
    """
    settings = Settings.from_env({"SOUK_DATA_DIR": str(data_dir), "SOUK_BASE_URL": base_url})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    prepare_sqlite_file(settings)
    engine = build_engine(settings)
    bind_tables(engine)
    return Market(engine, settings, PhotoStore(settings.photos_dir, settings.max_upload_bytes))


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database after folding its write-ahead log into the file."""
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


async def load_demo(market: Market, reuse: Path | None) -> str:
    """The demo market in the database; its event slug."""
    from fixtures.load import load_market
    from fixtures.market import build_market

    await start_engine(market.engine)
    await migrate(market.engine)
    if reuse is not None:
        return str((await events.list_events())[0].slug)
    began = time.perf_counter()
    loaded = await load_market(market, build_market(stalls=84, items=2100))
    print(f"demo market loaded through the domain in {time.perf_counter() - began:.1f} s (84 stalls, 2,100 items)")
    return loaded.event_slug


# --- changes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One queued mutation: who queued it (its client) and what, in push form."""

    client: UUID
    actor: Actor
    mutation: Mutation


async def vendor_stalls(count: int, min_items: int) -> list[tuple[Actor, str, list[dict[str, Any]]]]:
    """(vendor, stall code, available items) of the first `count` stalls with enough items."""
    found = []
    for stall in await Stall.select(Stall.id, Stall.code, Stall.vendor).order_by(Stall.code):
        rows = (
            await Item.select(Item.id, Item.title, Item.price)
            .where((Item.stall == stall["id"]) & (Item.state == "available") & Item.deleted_at.is_null())
            .order_by(Item.id)
        )
        if len(rows) >= min_items:
            found.append((Actor("vendor", account_id=stall["vendor"]), str(stall["code"]), rows))
        if len(found) == count:
            return found
    raise RuntimeError(f"fewer than {count} stalls hold {min_items} available items")


async def ten_changes(market: Market, visitor: Actor) -> None:
    """5 edits, 2 reservations, 2 sales (two stalls), 1 message of `visitor`: direct calls."""
    (vendor, code, rows), (other, _, other_rows) = await vendor_stalls(2, 12)
    for n in range(5):
        await items.update_item(market, vendor, rows[n]["id"], ItemPatch(price=int(rows[n]["price"]) + 50))
    for row in rows[5:7]:
        await items.reserve_item(market, vendor, row["id"], 30, visitor.device_id)
    for row in other_rows[:2]:
        await items.sell_item(market, other, row["id"], 1, sale_id=uuid.uuid4())
    await chat.send_message(market, visitor, SendInput(uuid.uuid4(), uuid.uuid4(), BODIES[0], code, rows[8]["id"]))


async def plan_mutations() -> list[Planned]:
    """500 mutations: 10 vendors' edits, reservations and sales, 6 devices' messages."""
    devices = [Actor("device", device_id=(await create_device())[0]) for _ in range(DEVICES)]
    stalls = await vendor_stalls(VENDORS, RESERVES + SELLS + 5)
    queues: list[list[Planned]] = []
    for v, (vendor, _, rows) in enumerate(stalls):
        client = uuid.uuid4()
        to_sell, to_reserve, to_edit = rows[:SELLS], rows[SELLS : SELLS + RESERVES], rows[SELLS + RESERVES :]
        steps: list[tuple[str, dict[str, Any]]] = []
        for n in range(EDITS):
            row = to_edit[n % len(to_edit)]
            if n % 3 == 2:
                steps.append(("update_item", {"id": str(row["id"]), "title": f"{row['title']} - offer {n}"[:120]}))
            else:
                steps.append(("update_item", {"id": str(row["id"]), "price": int(row["price"]) + 10 * (n + 1)}))
        for n, row in enumerate(to_reserve):
            held_for = devices[(v + n) % DEVICES].device_id
            steps.append(("reserve_item", {"id": str(row["id"]), "minutes": 30, "device_id": str(held_for)}))
        steps += [("sell_item", {"id": str(row["id"]), "sale_id": str(uuid.uuid4()), "quantity": 1}) for row in to_sell]
        random.Random(v).shuffle(steps)  # a day's work in any order: the items of each kind are distinct
        queues.append([Planned(client, vendor, Mutation(n, name, a)) for n, (name, a) in enumerate(steps, start=1)])
    for d, device in enumerate(devices):
        client, queue = uuid.uuid4(), []
        number = 0
        for c in range(CONVERSATIONS):
            _, code, rows = stalls[(d + c) % len(stalls)]
            conversation = uuid.uuid4()
            for m in range(MESSAGES):
                number += 1
                args: dict[str, Any] = {
                    "conversation_id": str(conversation),
                    "message_id": str(uuid.uuid4()),
                    "body": BODIES[m],
                }
                if m == 0:
                    args |= {"stall_code": code, "item_id": str(rows[-1]["id"])}
                queue.append(Planned(client, device, Mutation(number, "send_message", args)))
        queues.append(queue)
    return [planned for queue in queues for planned in queue]  # one outbox after another


def batches_of(planned: Sequence[Planned]) -> Iterator[list[Planned]]:
    """Consecutive runs of one client, at most MAX_BATCH long: one push each."""
    batch: list[Planned] = []
    for p in planned:
        if batch and (p.client != batch[0].client or len(batch) == MAX_BATCH):
            yield batch
            batch = []
        batch.append(p)
    if batch:
        yield batch


async def apply_direct(market: Market, planned: Sequence[Planned]) -> float:
    """The same changes as the domain calls a REST route makes; seconds."""
    began = time.perf_counter()
    for p in planned:
        a, actor = p.mutation.args, p.actor
        if p.mutation.name == "update_item":
            patch = ItemPatch(title=a.get("title"), price=a.get("price"))
            await items.update_item(market, actor, UUID(a["id"]), patch)
        elif p.mutation.name == "reserve_item":
            await items.reserve_item(market, actor, UUID(a["id"]), a["minutes"], UUID(a["device_id"]))
        elif p.mutation.name == "sell_item":
            await items.sell_item(market, actor, UUID(a["id"]), a["quantity"], sale_id=UUID(a["sale_id"]))
        else:
            item = a.get("item_id")
            data = SendInput(
                UUID(a["conversation_id"]),
                UUID(a["message_id"]),
                a["body"],
                a.get("stall_code"),
                UUID(item) if item else None,
            )
            await chat.send_message(market, actor, data)
    return time.perf_counter() - began


async def apply_pushed(market: Market, planned: Sequence[Planned]) -> tuple[float, int]:
    """The changes as sync pushes, one per client batch; (seconds, mutations applied)."""
    applied = 0
    began = time.perf_counter()
    for batch in batches_of(planned):
        request = PushRequest(batch[0].client, [p.mutation for p in batch])
        result = await push(market, batch[0].actor, request)
        applied += sum(outcome.status == "applied" for outcome in result.results)
    return time.perf_counter() - began, applied


async def run_on_copy(source: Path, folder: Path, planned: Sequence[Planned], through_push: bool) -> float:
    """Apply `planned` on a fresh copy of the database in `folder`; seconds."""
    market = open_market(folder)
    copy_database(source, market.settings.sqlite_path)
    await start_engine(market.engine)
    try:
        if not through_push:
            return await apply_direct(market, planned)
        seconds, applied = await apply_pushed(market, planned)
        if applied != len(planned):
            raise RuntimeError(f"only {applied} of {len(planned)} mutations were applied")
        return seconds
    finally:
        await stop_engine(market.engine)


# --- the real endpoint -----------------------------------------------------------------------


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


# --- main ------------------------------------------------------------------------------------


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min; {os.cpu_count()} CPUs)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs of each way of applying the 500 mutations")
    parser.add_argument("--demo-data-dir", type=Path, help="copy the database of a `souk demo --no-serve` folder")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="souk-bench-sync-") as scratch:
        folder = Path(scratch) / "market"
        market = open_market(folder)
        if args.demo_data_dir is not None:
            source = Settings.from_env({"SOUK_DATA_DIR": str(args.demo_data_dir)}).sqlite_path
            copy_database(source, market.settings.sqlite_path)
        slug = await load_demo(market, args.demo_data_dir)

        print("\nPulls of one visitor device (JSON as the API encodes it):")
        visitor = Actor("device", device_id=(await create_device())[0])
        snapshot = await median_pull(market, visitor, slug, None)
        describe(f"first pull, snapshot (median of {PULL_RUNS})", snapshot)
        vendor, _, rows = (await vendor_stalls(1, 1))[0]
        await items.update_item(market, vendor, rows[0]["id"], ItemPatch(price=int(rows[0]["price"]) + 1))
        after_one = await median_pull(market, visitor, slug, snapshot.cursor)
        describe("pull after 1 edit", after_one)
        await ten_changes(market, visitor)
        describe("pull after 10 changes", await median_pull(market, visitor, slug, after_one.cursor))

        planned = await plan_mutations()
        kinds = Counter(p.mutation.name for p in planned)
        clients = len({p.client for p in planned})
        await stop_engine(market.engine)
        print(
            f"\n{len(planned)} queued mutations ({', '.join(f'{n} {k}' for k, n in kinds.items())}) "
            f"from {clients} clients, each run on a fresh copy of the database:"
        )
        runs_of: dict[bool, list[float]] = {False: [], True: []}
        for r in range(args.rounds):
            for through_push in (False, True) if r % 2 == 0 else (True, False):  # alternate who goes first
                copy = Path(scratch) / f"{'push' if through_push else 'direct'}{r}"
                runs_of[through_push].append(
                    await run_on_copy(market.settings.sqlite_path, copy, planned, through_push)
                )
        direct_runs, pushed_runs = runs_of[False], runs_of[True]
        direct, pushed = statistics.median(direct_runs), statistics.median(pushed_runs)
        runs = ", ".join(f"{d:.2f}/{p:.2f}" for d, p in zip(direct_runs, pushed_runs, strict=True))
        print(f"  direct domain calls: {direct:.2f} s ({direct / len(planned) * 1000:.1f} ms a change)")
        print(f"  through sync push:   {pushed:.2f} s ({pushed / len(planned) * 1000:.1f} ms a change)")
        print(f"  ratio push/direct {pushed / direct:.2f} (medians of {args.rounds} runs; direct/push s: {runs})")
        print(
            "  (a push applies a client's whole batch in one transaction, one commit, each mutation a\n"
            "   savepoint; called directly, every domain call commits on its own)"
        )

        print("\nCheck against the real endpoint (souk serve, POST /api/sync/pull, a new device):")
        port = free_port()
        checked = open_market(folder, f"http://127.0.0.1:{port}")  # the server's base URL
        await start_engine(checked.engine)
        fresh = Actor("device", device_id=(await create_device())[0])
        encoded = await pull_all(checked, fresh, slug, None)
        await stop_engine(checked.engine)
        with souk_serve(folder, Path(scratch) / "serve.log", port=port) as server:
            wire = await asyncio.to_thread(http_snapshot, server.base, slug, market.settings.sqlite_path)
        same = (
            "equal" if wire.body_bytes == encoded.raw_bytes else f"differs by {wire.body_bytes - encoded.raw_bytes:+,}"
        )
        print(
            f"  JSON bodies {wire.body_bytes:,} bytes vs {encoded.raw_bytes:,} from the encoder: {same}; "
            f"received {wire.wire_bytes:,} bytes gzipped by the server vs {encoded.gzip_bytes:,} estimated; "
            f"{encoded.pages} pages in {wire.seconds * 1000:.0f} ms over HTTP (median of 3)"
        )
    print(f"\nload average at end: {load_average()}   (total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
