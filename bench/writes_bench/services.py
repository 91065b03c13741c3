"""What bench_writes.py runs against: PostgreSQL and Redis reachable, and its `souk serve`
processes (one with N workers, or N of one worker each when the settings refuse N)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from harness.process import Server, start_souk, stop_souk
from redis.asyncio import Redis

from server.settings import Settings, SettingsError
from writes_bench.raw_driver import asyncpg_dsn


async def ensure_postgres(url: str) -> str:
    """Create the benchmark's database if missing; its name. Exits when PostgreSQL is unreachable,
    or when the database's name does not say it is a benchmark's (its tables are dropped)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench_writes: refusing to empty the database {name!r}: its name must contain 'bench'.")
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        sys.exit(
            f"bench_writes: PostgreSQL is unreachable at {parts.hostname}:{parts.port or 5432}: {exc}. "
            "Start it or pass --postgres-url."
        )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def ensure_redis(url: str) -> None:
    redis: Any = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        await redis.ping()
    except Exception as exc:  # redis raises its own ConnectionError/TimeoutError types
        where = f"{urlsplit(url).hostname}:{urlsplit(url).port or 6379}"
        sys.exit(
            f"bench_writes: Redis is unreachable at {where}: {str(exc).rstrip('.')}. Start it or pass --redis-url."
        )
    finally:
        await redis.aclose()


def scale_out_plan(base_env: dict[str, str], workers: int) -> tuple[int, str]:
    """(souk serve processes, why): one process with SOUK_WORKERS=N if the settings accept it,
    else N separate processes of one worker each."""
    if workers == 1:
        return 1, "one `souk serve` process, one worker, in-process pub/sub (no Redis)"
    try:
        Settings.from_env({**base_env, "SOUK_DATA_DIR": tempfile.gettempdir(), "SOUK_WORKERS": str(workers)})
    except SettingsError as exc:
        return workers, (
            f"{workers} separate `souk serve` processes (one worker each, ports of their own, clients spread "
            f"over them), same PostgreSQL and Redis: the settings refuse SOUK_WORKERS={workers} ({exc})"
        )
    return 1, f"one `souk serve` process with SOUK_WORKERS={workers}"


def start_servers(
    folder: Path, env: dict[str, str], processes: int, workers_each: int
) -> tuple[list[Server], list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    logs = [folder / f"serve-{k}.log" for k in range(processes)]
    try:
        for k in range(processes):
            data = folder / f"data-{k}"
            data.mkdir(exist_ok=True)
            servers.append(start_souk(data, logs[k], {**env, "SOUK_WORKERS": str(workers_each)}))
    except BaseException:
        for server in servers:
            stop_souk(server)
        raise
    return servers, logs
