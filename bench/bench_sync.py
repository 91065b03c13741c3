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
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness.data import copy_database, demo_database, first_event_slug, load_demo_market
from harness.machine import load_average
from harness.process import free_port, souk_serve
from sync_bench.mutations import plan_mutations, run_on_copy, ten_changes, vendor_stalls
from sync_bench.pulls import PULL_RUNS, describe, http_snapshot, market_at, median_pull, pull_all

from server.auth.tokens import create_device
from server.database import start_engine, stop_engine
from server.domain import items
from server.domain.actors import Actor
from server.domain.context import Services
from server.domain.items import ItemPatch
from server.migrate import migrate


async def load_demo(market: Services, reuse: Path | None) -> str:
    """The demo market in the database (copied there already from `reuse`, if given); its event slug.
    The engine is left started."""
    await start_engine(market.engine)
    await migrate(market.engine)
    if reuse is not None:
        return await first_event_slug()
    began = time.perf_counter()
    slug = await load_demo_market(market)
    print(f"demo market loaded through the domain in {time.perf_counter() - began:.1f} s (84 stalls, 2,100 items)")
    return slug


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs of each way of applying the 500 mutations")
    parser.add_argument("--demo-data-dir", type=Path, help="copy the database of a `souk demo --no-serve` folder")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="souk-bench-sync-") as scratch:
        folder = Path(scratch) / "market"
        market = market_at(folder)
        if args.demo_data_dir is not None:
            copy_database(demo_database(args.demo_data_dir), market.settings.sqlite_path)
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
        checked = market_at(folder, f"http://127.0.0.1:{port}")  # the server's base URL
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
