"""Scale-out on PostgreSQL and Redis: writes/s and search p99 with 1, 2 and 4 processes (as ratios
to one process), and how long a new node needs to build its search index.

Run: .venv/bin/python bench/bench_scaleout.py [--quick] [--seconds 10] [--processes 1,2,4]
     [--forms workers,processes] [--items 100000] [--clients 40] [--search-clients 10]

Everything runs on this machine against PostgreSQL (database `souk_bench_scaleout` on 127.0.0.1,
dropped and created afresh at every run) and Redis (127.0.0.1:6379). Seeding goes through the
domain functions before any server starts and is not measured: the demo market (fixtures, what
`souk demo` serves: 84 stalls, 2,100 items; search queries run on it), then the write world of
bench_writes (`--write-events` events of 5 vendor stalls × 10 items and 500 visitor devices with a
conversation each). The database seeded with the demo market is kept as a template database
(`souk_bench_scaleout_demo`, its comment a fingerprint of fixtures/, the tables and the
migrations); later runs create theirs as a copy of it when the fingerprint still matches,
which saves the minute the demo takes to load (`--fresh-demo` loads it again).

1. Index build of a new node, on the demo market and again once synthetic items (search_bench's
   generator: titles, descriptions, tags, prices) were added with COPY, each with its change-log
   entry, to make `--items` live items in all (100,000; `--quick`: 20,000):
   - `souk reindex` in a new process on an empty data folder, start to exit;
   - a new node: `souk serve` (one worker) on an empty data folder, from its start until
     /api/health says `search.indexed_seq` >= the `log_seq` it first reported (the per-machine
     index builds itself from the database when its folder is new). Without `search.indexed_seq`
     in /api/health this row says so and is not timed.
2. The load, per configuration: 1 process (`souk serve`, one worker), then per N in `--processes`
   above 1 and per form in `--forms`: `workers` = one `souk serve` with SOUK_WORKERS=N on one port
   (uvicorn's workers; one machine's embedded index: one writer, N-1 readers); `processes` = N
   `souk serve` processes of one worker on N ports, each with its own data folder (N "machines",
   each keeping its own index), clients spread round-robin. Every node gets the same
   SOUK_DATABASE_URL, SOUK_REDIS_URL (one process too, so only the count changes),
   SOUK_SECRET_KEY and SOUK_RATE_LIMIT_FACTOR=1000 (rate limits do not shape the figures). A
   configuration the settings refuse is printed as refused. Before its window a configuration
   waits until every node's index caught up with the log; every vendor keeps a socket open on
   /api/live (chat frames fan out through Redis). Then `--clients` closed-loop write clients
   (bench_writes' mix: 40 % chat sends, 30 % item edits, 20 % sales, 10 % sync pushes of 20
   mutations; a write is an acknowledged change, a push's applied mutations count one each) and
   `--search-clients` closed-loop search clients (GET /api/events/{demo}/search with queries
   drawn from the demo market's items by search_bench's query maker: typed prefixes, words,
   typos, tag/price/state/stall filters) run together for a warm-up of `--warmup` s (not counted)
   and a window of `--seconds`. Every configuration runs once per round (`--rounds`, 2; `--quick`:
   1), each time on servers started afresh, the rounds one after the other so a busy spell of a
   shared machine falls on all configurations alike; a configuration's rounds are pooled (their
   writes over their seconds, their search samples together). Printed: acknowledged writes/s,
   search p50/p99 and searches/s, each as a ratio to one process; CPU of the servers, of
   PostgreSQL's backends and of this load generator as shares of the machine's cores.

`--quick` (a minute or two once the template exists): windows of 4 s, 20 write + 5 search
clients, one round, the `workers` form only, 20,000 items for the big build.

The machine may be shared and has few cores: the load generator, PostgreSQL, Redis and every
server process share them, so N processes cannot go faster than the cores allow; the CPU rows say
where the time went. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shlex
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from harness.machine import load_average, raise_fd_limit
from harness.process import Server, stop_souk
from scaleout_bench.config import (
    BIG_ITEMS,
    FORMS,
    NODE_WAIT_SECONDS,
    POSTGRES_URL,
    PROCESSES,
    QUERIES,
    QUERY_SEED,
    QUICK_BIG_ITEMS,
    QUICK_SEARCH_CLIENTS,
    QUICK_SECONDS,
    QUICK_WRITE_CLIENTS,
    REDIS_URL,
    REQUEST_TIMEOUT,
    SEARCH_CLIENTS,
    SECONDS,
    WRITE_CLIENTS,
    WRITE_EVENTS,
)
from scaleout_bench.database import (
    bulk_items,
    count_live_items,
    demo_fingerprint,
    fresh_database,
    save_template,
    template_name,
    template_ready,
)
from scaleout_bench.index_build import Build, search_state, timed_new_node, timed_reindex
from scaleout_bench.load import Window, combined, run_window, server_env
from scaleout_bench.logs import check_logs
from scaleout_bench.report import Run, report_builds, report_load
from scaleout_bench.seed import seed_demo, seed_settings, seed_writers
from search_bench.queries import BenchQuery, QueryMaker
from writes_bench.config import MIXED
from writes_bench.level import Deployment, Inbox, Rig, open_socket
from writes_bench.load import DevicePool
from writes_bench.raw_driver import asyncpg_dsn
from writes_bench.seed import World
from writes_bench.services import ensure_redis, start_servers

from server.settings import Settings, SettingsError


def plan(env: dict[str, str], n: int, form: str) -> tuple[int, int, str, str]:
    """(processes, workers each, how, refusal) for N processes in `form`."""
    if n == 1:
        return 1, 1, "one `souk serve` process, one worker", ""
    if form == "processes":
        return n, 1, f"{n} `souk serve` processes of one worker, ports and data folders of their own", ""
    try:
        Settings.from_env({**env, "SOUK_DATA_DIR": tempfile.gettempdir(), "SOUK_WORKERS": str(n)})
    except SettingsError as exc:
        return 1, n, f"one `souk serve` with SOUK_WORKERS={n}", f"refused by the settings: {exc}"
    return 1, n, f"one `souk serve` with SOUK_WORKERS={n} on one port (uvicorn workers, one data folder)", ""


async def caught_up(servers: list[Server], limit: float) -> float | None:
    """Seconds until every server's /api/health says its index caught up with the log; None if
    health does not say."""
    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as http:
        for server in servers:
            while True:
                state = search_state((await http.get(f"{server.base}/api/health")).json())
                if state is None:
                    return None
                if state[0] >= state[1] or time.perf_counter() - began > limit:
                    break
                await asyncio.sleep(0.1)
    return time.perf_counter() - began


async def measure(
    deployment: Deployment,
    world: World,
    pool: DevicePool,
    admin: asyncpg.Connection,
    args: argparse.Namespace,
    slug: str,
    queries: list[BenchQuery],
) -> Window:
    total = args.clients + args.search_clients
    limits = httpx.Limits(max_connections=total + 50, max_keepalive_connections=total + 50)
    inbox = Inbox()
    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=s.base, limits=limits, timeout=REQUEST_TIMEOUT))
            for s in deployment.servers
        ]
        servers = deployment.servers
        sockets = [await open_socket(servers[v.n % len(servers)].base, v, inbox) for v in world.vendors]
        h = Rig(deployment, https, world, pool, inbox, admin)
        try:
            if args.warmup > 0:
                await run_window(h, args.clients, args.search_clients, args.warmup, slug, queries, MIXED)
            print(
                f"  [{deployment.label}] {args.clients}+{args.search_clients} clients, {args.seconds:g} s …", flush=True
            )
            return await run_window(h, args.clients, args.search_clients, args.seconds, slug, queries, MIXED)
        finally:
            for connection, reader in sockets:
                with contextlib.suppress(Exception):
                    await connection.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader, 5)


async def run_once(
    n: int,
    processes: int,
    workers_each: int,
    folder: Path,
    env: dict[str, str],
    h: Shared,
    errors: Counter[str],
) -> tuple[Window, float | None]:
    """Start the servers afresh (empty data folders), wait for their indexes, load them, stop
    them; the tracebacks of their logs are added to `errors`."""
    servers, logs = await asyncio.to_thread(start_servers, folder, env, processes, workers_each)
    deployment = Deployment(f"{n} process(es), {folder.name}", servers, logs, h.database)
    try:
        catch_up = await caught_up(servers, NODE_WAIT_SECONDS)
        window = await measure(deployment, h.world, h.pool, h.admin, h.args, h.slug, h.queries)
        return window, catch_up
    finally:
        for server in servers:
            await asyncio.to_thread(stop_souk, server)
        errors += check_logs(logs, "server logs")


@dataclass
class Shared:
    """What every configuration's runs share."""

    world: World
    pool: DevicePool
    admin: asyncpg.Connection
    args: argparse.Namespace
    slug: str
    queries: list[BenchQuery]
    database: str


def builds_for(scratch: Path, name: str, env: dict[str, str], items: int) -> list[Build]:
    print(f"\nindex build, {name} ({items:,} live items): souk reindex …", flush=True)
    reindexed = timed_reindex(scratch / f"reindex-{name}", env, items)
    print(f"  {reindexed.seconds or 0:.1f} s; a new node …", flush=True)
    node = timed_new_node(scratch / f"node-{name}", scratch / f"node-{name}.log", env, items, NODE_WAIT_SECONDS)
    return [reindexed, node]


def arguments() -> argparse.Namespace:
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows, fewer clients, 20,000 items, workers form")
    parser.add_argument("--seconds", type=float, default=None, help=f"window per configuration (default {SECONDS:g})")
    parser.add_argument("--warmup", type=float, default=None, help="unmeasured load before each window (default 2)")
    parser.add_argument("--processes", type=ints, default=list(PROCESSES))
    parser.add_argument("--forms", type=lambda s: s.split(","), default=None, help="workers,processes")
    parser.add_argument("--items", type=int, default=None, help=f"live items of the big build (default {BIG_ITEMS:,})")
    parser.add_argument("--clients", type=int, default=None, help=f"write clients (default {WRITE_CLIENTS})")
    parser.add_argument("--search-clients", type=int, default=None, help=f"search clients (default {SEARCH_CLIENTS})")
    parser.add_argument("--write-events", type=int, default=WRITE_EVENTS)
    parser.add_argument("--rounds", type=int, default=None, help="each configuration this many times (default 2)")
    parser.add_argument("--fresh-demo", action="store_true", help="load the demo market even if a template is saved")
    parser.add_argument("--skip-load", action="store_true", help="index builds only")
    parser.add_argument("--skip-builds", action="store_true", help="the load only")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    quick = args.quick
    args.seconds = args.seconds or (QUICK_SECONDS if quick else SECONDS)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    args.rounds = args.rounds or (1 if quick else 2)
    args.forms = args.forms or (["workers"] if quick else list(FORMS))
    args.items = args.items or (QUICK_BIG_ITEMS if quick else BIG_ITEMS)
    args.clients = args.clients or (QUICK_WRITE_CLIENTS if quick else WRITE_CLIENTS)
    args.search_clients = args.search_clients or (QUICK_SEARCH_CLIENTS if quick else SEARCH_CLIENTS)
    if bad := [f for f in args.forms if f not in FORMS]:
        parser.error(f"--forms takes {', '.join(FORMS)}, not {', '.join(bad)}")
    return args


async def main() -> None:
    args = arguments()
    started = time.perf_counter()
    command = shlex.join([".venv/bin/python", "bench/bench_scaleout.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(f"load average at start: {load_average()}")
    print(raise_fd_limit(4 * (args.clients + args.search_clients) + 1024))
    await ensure_redis(args.redis_url)
    fingerprint = demo_fingerprint()
    reuse = not args.fresh_demo and await template_ready(args.postgres_url, fingerprint)
    database = await fresh_database(args.postgres_url, from_template=reuse)
    copied = f" as a copy of {template_name(args.postgres_url)!r} (the demo market)" if reuse else ""
    print(f"PostgreSQL database {database!r} dropped and created afresh{copied}; Redis at {args.redis_url}")
    env = server_env(args.postgres_url, args.redis_url, secrets.token_hex(32))
    db_env = {"SOUK_DATABASE_URL": args.postgres_url}
    builds: list[Build] = []
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="souk-bench-scaleout-") as folder:
        scratch = Path(folder)
        settings = seed_settings(scratch / "seed", args.postgres_url)
        slug, docs = await seed_demo(settings, loaded=reuse)
        if not reuse:
            await save_template(args.postgres_url, fingerprint)
        if not args.skip_builds:
            builds += builds_for(scratch, "demo", db_env, await count_live_items(args.postgres_url))
        if not args.skip_load:
            runs = await load_runs(scratch, settings, env, args, slug, docs, database)
        if not args.skip_builds:
            live = await count_live_items(args.postgres_url)
            if args.items > live:
                began = time.perf_counter()
                added = await bulk_items(args.postgres_url, slug, args.items - live)
                took = time.perf_counter() - began
                print(f"\n{added:,} synthetic items added with COPY (and their log entries) in {took:.1f} s")
            builds += builds_for(scratch, "big", db_env, await count_live_items(args.postgres_url))
    print(f"\ncommand: {command}")
    if runs:
        report_load(runs)
    if builds:
        report_builds(builds)
    print(f"\nload average at end: {load_average()}   (total {time.perf_counter() - started:.0f} s)")


async def load_runs(
    scratch: Path,
    settings: Settings,
    env: dict[str, str],
    args: argparse.Namespace,
    slug: str,
    docs: Any,
    database: str,
) -> list[Run]:
    """Every configuration once per round, the rounds one after the other (so a busy spell of a
    shared machine falls on all configurations alike); each configuration's rounds pooled."""
    world = await seed_writers(settings, args.write_events)
    queries = QueryMaker(docs, QUERY_SEED).make(QUERIES)
    admin = await asyncpg.connect(asyncpg_dsn(args.postgres_url, "postgres"))
    h = Shared(world, DevicePool(deque(world.visitors)), admin, args, slug, queries, database)
    configs = [(1, "workers")] + [(n, form) for form in args.forms for n in args.processes if n > 1]
    windows: dict[tuple[int, str], list[Window]] = {c: [] for c in configs}
    catch_ups: dict[tuple[int, str], list[float]] = {c: [] for c in configs}
    errors: dict[tuple[int, str], Counter[str]] = {c: Counter() for c in configs}
    plans = {c: plan(env, *c) for c in configs}
    try:
        for round_number in range(1, args.rounds + 1):
            for n, form in configs:
                processes, workers_each, how, refused = plans[n, form]
                if refused:
                    continue
                print(f"\nround {round_number}/{args.rounds}: {how}", flush=True)
                folder = scratch / f"{form}-{n}-round-{round_number}"
                window, catch_up = await run_once(n, processes, workers_each, folder, env, h, errors[n, form])
                windows[n, form].append(window)
                if catch_up is not None:
                    catch_ups[n, form].append(catch_up)
    finally:
        await admin.close()
    return [
        Run(
            n,
            form,
            plans[n, form][2],
            combined(windows[n, form]) if windows[n, form] else None,
            plans[n, form][3],
            catch_ups[n, form],
            errors[n, form],
        )
        for n, form in configs
    ]


if __name__ == "__main__":
    asyncio.run(main())
