"""The write path under a mixed load at rising concurrency, against the raw drivers' own limit.

Run: .venv/bin/python bench/bench_writes.py [--seconds 10] [--quick] [--postgres [--workers 1,4]]

Without `--postgres`: one `souk serve` process, embedded mode (SQLite in a temporary
SOUK_DATA_DIR). With `--postgres`: PostgreSQL (database `souk_bench_writes` on 127.0.0.1, made
if missing and emptied first) with `--workers 1` and `--workers 4` runs. More than one worker
needs Redis (SOUK_REDIS_URL=redis://127.0.0.1:6379/0); when the settings refuse several uvicorn
workers (older versions asked for Meilisearch too), N separate `souk serve` processes (one worker
each, their own data folders for the embedded search index, one SOUK_SECRET_KEY) run on N ports
against the same PostgreSQL and Redis, and the clients are spread over them; the output says which.
Every server runs with SOUK_RATE_LIMIT_FACTOR=1000 so the per-caller rate limits
(server/ratelimit.py) do not shape the figures.

Seeded through the domain functions before the server starts (seeding is not measured):
4 events, 5 vendor stalls per event with 10 items each (quantity 100,000, so sales never run
out), 500 visitor devices per event, each with a conversation with one of its event's stalls.
Every vendor keeps a WebSocket open on /api/live (spread over the servers), so chat messages and
the event's pokes fan out as in a real market; the message frames they receive are counted.

Per level (10, 100, 500 concurrent clients; `--quick`: 10 and 100, 2 s each), each client is a
closed loop over one shared httpx.AsyncClient per server (connection limit above the client
count): it picks an operation, sends it, waits for the answer, and sends the next, for
`--seconds`. The mix, by request: 40 % chat sends (POST /api/conversations/{id}/messages by a
visitor), 30 % item edits (PATCH /api/items/{id}, a new price), 20 % sales (POST
/api/items/{id}/sell, quantity 1, a fresh sale_id), 10 % sync pushes (POST /api/sync/push of 20
queued mutations: half of them a vendor's 20 `update_item`, half a visitor's 20 `send_message`).
A write is an acknowledged change: a 2xx chat send, edit or sale, or one mutation a push answers
"applied" (a push of 20 counts as 20 writes and 1 request); a 429 or any other non-2xx is not.
The flood limit (30 messages a minute per visitor device, server/domain/flood.py) holds: a client
borrows a visitor device for at most 28 messages and hands it back, and a device is lent again
only 61 s after it was handed back; a client that finds no device ready waits (counted).

Printed per database and level: acknowledged writes/s and requests/s in the window (a request
still in flight when the window closes counts by the share of its time inside it, so a long
push neither vanishes from a short window nor counts whole), p50/p99 latency per operation,
non-2xx answers and transport errors by status, the server's CPU per acknowledged write (user +
system from /proc/<pid>/stat, summed over every server process and its children, from the
level's start until the last in-flight request returned, so drained writes count too), on
PostgreSQL also the CPU of the database backends serving our database (pg_stat_activity; shared
PostgreSQL processes such as the WAL writer not included), the servers' RSS, this client's own
CPU (the load generator shares the machine's 2 cores), and our writes/s ÷ the raw driver's
single-connection writes/s. Then, per database, a chat-only run at 100 clients gives the server
CPU per accepted chat message. Before each level the servers are given up to 5 s to go idle, so
one level's tail (search indexing, pokes) is not billed to the next.

The raw drivers' limit, measured in the same run before the servers start, for `--seconds`
each: aiosqlite alone on a temporary file (WAL, synchronous=FULL), transactions of 2 INSERTs
into a small table, on one long-lived connection and with a new connection per transaction;
with `--postgres` also asyncpg alone, one connection, the same transactions. A raw "write" is
one such committed transaction (a change and its log entry, as one of ours is one transaction).

The machine may be shared, so the load average is printed at start, at each level and at the
end. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from harness.machine import load_average, raise_fd_limit
from harness.process import check_log, stop_souk
from writes_bench.config import CHAT_ONLY, MIXED
from writes_bench.level import Deployment, Inbox, LevelResult, Rig, open_socket, run_level
from writes_bench.load import DevicePool
from writes_bench.raw_driver import asyncpg_dsn, raw_postgres, raw_sqlite
from writes_bench.report import ConfigResult, report
from writes_bench.seed import World, seeded
from writes_bench.services import ensure_postgres, ensure_redis, scale_out_plan, start_servers

from server.settings import Settings

LEVELS = (10, 100, 500)
QUICK_LEVELS = (10, 100)
QUICK_SECONDS = 2.0
CHAT_LEVEL = 100  # the chat-only run
RATE_LIMIT_FACTOR = "1000"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/souk_bench_writes"
REDIS_URL = "redis://127.0.0.1:6379/0"
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Setup:
    """How to start the servers of one configuration."""

    short: str  # names it in progress lines
    folder: Path
    env: dict[str, str]
    processes: int = 1
    workers_each: int = 1
    database: str | None = None  # PostgreSQL's, whose backends' CPU is measured too


def base_env(database_url: str) -> dict[str, str]:
    return {"SOUK_DATABASE_URL": database_url, "SOUK_RATE_LIMIT_FACTOR": RATE_LIMIT_FACTOR}


async def measure(
    deployment: Deployment,
    world: World,
    pool: DevicePool,
    levels: Sequence[int],
    seconds: float,
    admin: asyncpg.Connection | None,
) -> tuple[list[LevelResult], LevelResult, Inbox]:
    """Open the vendors' sockets, run the mixed levels, then the chat-only level."""
    biggest = max(*levels, CHAT_LEVEL)
    limits = httpx.Limits(max_connections=biggest + 50, max_keepalive_connections=biggest + 50)
    inbox = Inbox()
    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=s.base, limits=limits, timeout=REQUEST_TIMEOUT))
            for s in deployment.servers
        ]
        sockets = [
            await open_socket(deployment.servers[v.n % len(deployment.servers)].base, v, inbox) for v in world.vendors
        ]
        h = Rig(deployment, https, world, pool, inbox, admin)
        try:
            results = []
            for clients in levels:
                print(f"  [{deployment.label}] {clients} clients, mixed writes, {seconds:g} s …", flush=True)
                results.append(await run_level(h, clients, seconds, MIXED))
            print(f"  [{deployment.label}] {CHAT_LEVEL} clients, chat only, {seconds:g} s …", flush=True)
            chat_only = await run_level(h, CHAT_LEVEL, seconds, CHAT_ONLY)
        finally:
            for connection, reader in sockets:
                with contextlib.suppress(Exception):
                    await connection.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader, 5)
    return results, chat_only, inbox


async def run_config(
    setup: Setup, world: World, pool: DevicePool, args: argparse.Namespace, admin: asyncpg.Connection | None = None
) -> tuple[list[LevelResult], LevelResult]:
    servers, logs = await asyncio.to_thread(start_servers, setup.folder, setup.env, setup.processes, setup.workers_each)
    deployment = Deployment(setup.short, servers, logs, setup.database)
    try:
        print(f"  started {len(servers)} server process(es): {', '.join(s.base for s in servers)}", flush=True)
        levels, chat_only, inbox = await measure(deployment, world, pool, args.levels, args.seconds, admin)
        print(f"  frames at the vendor sockets by type: {dict(inbox.frames)}; closed: {dict(inbox.closed) or 'none'}")
        return levels, chat_only
    finally:
        for server in servers:
            await asyncio.to_thread(stop_souk, server)
        for log in deployment.logs:
            check_log(log, f"  server log {log.name}")


async def sqlite_run(scratch: Path, args: argparse.Namespace, raw: dict[str, float]) -> list[ConfigResult]:
    settings = Settings.from_env({"SOUK_DATA_DIR": str(scratch / "data-0")})
    world, engine = await seeded(settings)
    pool = DevicePool(deque(world.visitors))
    label = f"SQLite, embedded, one `souk serve` process (engine {engine})"
    setup = Setup("SQLite", scratch, base_env(settings.database_url))
    levels, chat_only = await run_config(setup, world, pool, args)
    raw_label = "raw aiosqlite, one connection"
    return [ConfigResult(label, raw_label, raw[raw_label], levels, chat_only, postgres=False)]


async def postgres_run(scratch: Path, args: argparse.Namespace, raw: dict[str, float]) -> list[ConfigResult]:
    database = await ensure_postgres(args.postgres_url)
    settings = Settings.from_env({"SOUK_DATA_DIR": str(scratch / "seed"), "SOUK_DATABASE_URL": args.postgres_url})
    world, _ = await seeded(settings)
    pool = DevicePool(deque(world.visitors))
    admin = await asyncpg.connect(asyncpg_dsn(args.postgres_url, "postgres"))
    results = []
    try:
        for workers in args.workers:
            env = base_env(args.postgres_url)
            if workers > 1:
                env |= {"SOUK_REDIS_URL": args.redis_url, "SOUK_SECRET_KEY": secrets.token_hex(32)}
            processes, how = scale_out_plan(env, workers)
            label = f"PostgreSQL, {workers} worker(s): {how}"
            print(f"\n{label}", flush=True)
            short = f"PostgreSQL, {workers} worker(s)"
            setup = Setup(short, scratch / f"pg-{workers}", env, processes, workers // processes, database)
            levels, chat_only = await run_config(setup, world, pool, args, admin)
            raw_label = "raw asyncpg, one connection"
            results.append(ConfigResult(label, raw_label, raw[raw_label], levels, chat_only, postgres=True))
    finally:
        await admin.close()
    return results


async def raw_baselines(scratch: Path, args: argparse.Namespace) -> dict[str, float]:
    raw = {
        "raw aiosqlite, one connection": await raw_sqlite(scratch, args.seconds, reuse=True),
        "raw aiosqlite, a connection per transaction": await raw_sqlite(scratch, args.seconds, reuse=False),
    }
    if args.postgres:
        raw["raw asyncpg, one connection"] = await raw_postgres(asyncpg_dsn(args.postgres_url), args.seconds)
    print("raw drivers, committed transactions of 2 INSERTs per second (WAL, synchronous=FULL on SQLite):")
    for name, rate in raw.items():
        print(f"  {name:<46} {rate:>10,.0f}/s")
    return raw


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each level (default 10)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s per level, levels 10 and 100")
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=list(LEVELS))
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL instead of SQLite")
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4])
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.levels = QUICK_SECONDS, list(QUICK_LEVELS)
    return args


async def main() -> None:
    args = arguments()
    started = time.perf_counter()
    print(f"load average at start: {load_average()}")
    print(raise_fd_limit(4 * max(*args.levels, CHAT_LEVEL) + 1024))
    print(f"every server runs with SOUK_RATE_LIMIT_FACTOR={RATE_LIMIT_FACTOR}: rate limits do not shape the figures")
    if args.postgres:
        await ensure_postgres(args.postgres_url)
        if max(args.workers) > 1:
            await ensure_redis(args.redis_url)
    with tempfile.TemporaryDirectory(prefix="souk-bench-writes-") as scratch:
        raw = await raw_baselines(Path(scratch), args)
        run = postgres_run if args.postgres else sqlite_run
        results = await run(Path(scratch), args, raw)
    for result in results:
        report(result)
    print(f"\nload average at end: {load_average()}   (total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
