"""Sync protocol figures on the demo market: pull sizes and times, push against direct calls.

Run: .venv/bin/python bench/bench_sync.py [--rounds 2] [--demo-data-dir DIR]

Loads the demo market (fixtures: 84 stalls, 2,100 items, through the domain functions as
`souk demo` does) into a temporary SQLite data folder (`--demo-data-dir DIR` copies the
database of a folder where `souk demo --no-serve` already ran instead), then prints:

1. A new visitor device's first pull in record format 1 and format 2 side by side
   (sync/FORMAT.md): every page of the snapshot and its catch-up (500 records a page), with
   the bytes of the JSON the HTTP API sends for it, raw and gzipped (see below), and its
   time (pulling and encoding), median of 5 pulls. Then format 2 as a first visit from a
   stall's QR code can pull it (the scanned stall first, a first page of 100 records, then
   2,000 a page: fewer pages, fewer repeated photo tables), with the first page's size; and
   what format 2's gzipped bytes are made of (each part's contribution), for both ways.
2. The pull of that device after one edit, and after 10 changes (5 edits, 2 reservations,
   2 sales, 1 message of this visitor opening a conversation), in both formats: records,
   bytes, time (median of 5; the same cursor gives the same answer).
   Goals (issue 15): full pull < 150 KB gzipped, delta after 10 changes < 1.5 KB gzipped.
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
from sync_bench.breakdown import contributions
from sync_bench.mutations import plan_mutations, run_on_copy, ten_changes, vendor_stalls
from sync_bench.pulls import (
    PULL_RUNS,
    PullFigures,
    Way,
    describe,
    http_snapshot,
    market_at,
    median_pull,
    pull_all,
    side_by_side,
)

from server.auth.tokens import create_device
from server.database import start_engine, stop_engine
from server.domain import items
from server.domain.actors import Actor
from server.domain.context import Services
from server.domain.items import ItemPatch
from server.migrate import migrate
from server.tables import Stall

FULL_PULL_GOAL, DELTA_GOAL = 150_000, 1_500  # gzipped bytes (KB as 1,000 bytes: the stricter reading)


def goal(figures: PullFigures, limit: int) -> str:
    met = "met" if figures.gzip_bytes < limit else "NOT met"
    return f"{figures.gzip_bytes / 1000:,.1f} KB gzipped, goal < {limit / 1000:,.1f} KB: {met}"


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

        print("\nPulls of one visitor device (JSON as the API encodes it), format 1 and format 2:")
        visitor = Actor("device", device_id=(await create_device())[0])
        one, two = Way(fmt=1), Way(fmt=2)
        snapshot = {way.fmt: await median_pull(market, visitor, slug, None, way) for way in (one, two)}
        side_by_side(f"first pull, snapshot and catch-up (median of {PULL_RUNS})", snapshot[1], snapshot[2])
        print(f"    format 2: {goal(snapshot[2], FULL_PULL_GOAL)}")
        code = (await Stall.select(Stall.code).order_by(Stall.number).first() or {"code": None})["code"]
        staged = await median_pull(market, visitor, slug, None, Way(fmt=2, limit=2000, stall=code, first_limit=100))
        describe(f"format 2, stall {code} first (first page 100 records, then 2,000 a page)", staged)
        print(f"    its first page (the scanned stall usable): {staged.first_page_gzip:,} bytes gzipped")
        print(f"    {goal(staged, FULL_PULL_GOAL)}")
        total, parts = contributions(snapshot[2].bodies)
        print(f"  format 2 full pull, {total:,} bytes gzipped, made of (bytes it adds, share):")
        for name, size in parts:
            print(f"    {name:<28} {size:>9,}  {size / total:>4.0%}")
        total, parts = contributions(staged.bodies)
        print(f"  format 2 full pull as the app pulls (stall first), {total:,} bytes gzipped, made of:")
        for name, size in parts[:6]:
            print(f"    {name:<28} {size:>9,}  {size / total:>4.0%}")

        vendor, _, rows = (await vendor_stalls(1, 1))[0]
        await items.update_item(market, vendor, rows[0]["id"], ItemPatch(price=int(rows[0]["price"]) + 1))
        # Deltas three ways: format 1, format 2 in whole records (its first clients), and format 2
        # with item patches (what the apps ask for now). The two format-2 ways share the cursor.
        patched = Way(fmt=2, patches=True)
        ways = {"1": one, "2": two, "2p": patched}
        start = {"1": snapshot[1].cursor, "2": snapshot[2].cursor, "2p": snapshot[2].cursor}
        after_one = {k: await median_pull(market, visitor, slug, start[k], w) for k, w in ways.items()}
        side_by_side("pull after 1 edit", after_one["1"], after_one["2"], after_one["2p"])
        await ten_changes(market, visitor)
        after_ten = {k: await median_pull(market, visitor, slug, after_one[k].cursor, w) for k, w in ways.items()}
        side_by_side("pull after 10 changes", after_ten["1"], after_ten["2"], after_ten["2p"])
        print(f"    format 2, whole records: {goal(after_ten['2'], DELTA_GOAL)}")
        print(f"    format 2, patches (as the apps pull): {goal(after_ten['2p'], DELTA_GOAL)}")
        total, parts = contributions(after_ten["2p"].bodies)
        print(f"  format 2 pull after 10 changes, patches: {total:,} bytes gzipped, made of (bytes it adds, share):")
        for name, size in parts[:8]:
            print(f"    {name:<28} {size:>9,}  {size / total:>4.0%}")

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
        encoded = {way.fmt: await pull_all(checked, fresh, slug, None, way) for way in (one, two)}
        await stop_engine(checked.engine)
        with souk_serve(folder, Path(scratch) / "serve.log", port=port) as server:
            for fmt in (1, 2):
                wire = await asyncio.to_thread(http_snapshot, server.base, slug, market.settings.sqlite_path, fmt)
                raw = encoded[fmt].raw_bytes
                same = "equal" if wire.body_bytes == raw else f"differs by {wire.body_bytes - raw:+,}"
                print(
                    f"  format {fmt}: JSON bodies {wire.body_bytes:,} bytes vs {raw:,} from the encoder: {same}; "
                    f"received {wire.wire_bytes:,} bytes gzipped by the server vs {encoded[fmt].gzip_bytes:,} "
                    f"estimated; {encoded[fmt].pages} pages in {wire.seconds * 1000:.0f} ms over HTTP (median of 3)"
                )
    print(f"\nload average at end: {load_average()}   (total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
