"""One level of bench_writes.py: the running servers, the vendors' live sockets, the CPU meters,
and the clients run for the level's window."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from harness.client import live_url, open_live
from harness.machine import cpu_of, cpu_spent, process_tree, rss_mb
from harness.process import Server
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from writes_bench.load import Client, DevicePool, Level, Tally, closed_loop
from writes_bench.seed import Vendor, World


@dataclass(frozen=True)
class Deployment:
    """The running servers of one configuration, and how to find their processes."""

    label: str
    servers: list[Server]
    logs: list[Path]
    database: str | None = None  # the PostgreSQL database whose backends we also measure

    def pids(self) -> list[int]:
        return [pid for server in self.servers for pid in process_tree(server.process.pid)]


async def backend_pids(admin: asyncpg.Connection | None, database: str | None) -> list[int]:
    if admin is None or database is None:
        return []
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", database
    )
    return [int(row["pid"]) for row in rows]


async def settle(pids: Sequence[int], limit: float = 5.0) -> None:
    """Wait (a few seconds at most) until the servers are idle: the search indexer and push
    notifier finish the previous level's tail before the next level's CPU is counted."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_of(pids)
        await asyncio.sleep(0.5)
        if cpu_spent(before, cpu_of(pids)) < 0.05:
            return


@dataclass
class Inbox:
    frames: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)


async def read_frames(connection: ClientConnection, inbox: Inbox) -> None:
    try:
        async for raw in connection:
            inbox.frames[str(json.loads(raw).get("type"))] += 1
    except ConnectionClosed as exc:
        inbox.closed[f"closed {exc.rcvd.code if exc.rcvd else ''}"] += 1


async def open_socket(base: str, vendor: Vendor, inbox: Inbox) -> tuple[ClientConnection, asyncio.Task[None]]:
    connection = await open_live(live_url(base), vendor.token, vendor.event)
    return connection, asyncio.create_task(read_frames(connection, inbox))


@dataclass(frozen=True)
class LevelResult:
    clients: int
    seconds: float
    load: str
    tally: Tally
    drain_seconds: float
    server_cpu: float
    backend_cpu: float
    client_cpu: float
    rss_mb: list[float]
    message_frames: int
    pool_waits: int

    @property
    def writes_per_second(self) -> float:
        return self.tally.writes_in_window / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.tally.requests_in_window / self.seconds

    def cpu_ms_per_write(self, cpu: float) -> float:
        return cpu / max(self.tally.writes, 1) * 1000


@dataclass
class Rig:
    """What the levels of one configuration share."""

    deployment: Deployment
    https: list[httpx.AsyncClient]
    world: World
    pool: DevicePool
    inbox: Inbox
    admin: asyncpg.Connection | None


async def wait_for_frames(inbox: Inbox, expected: int, polls: int = 50) -> None:
    """Give the fan-out of the last messages up to `polls` tenths of a second to arrive."""
    for _ in range(polls):
        if inbox.frames["message"] >= expected:
            return
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Meter:
    """The counters of one moment, to subtract: CPU of the servers, of PostgreSQL's backends
    and of this process, and the wall clock."""

    server: dict[int, float]
    backends: dict[int, float]
    client: float
    wall: float


async def meter(h: Rig, pids: Sequence[int]) -> Meter:
    backends = cpu_of(await backend_pids(h.admin, h.deployment.database))
    return Meter(cpu_of(pids), backends, time.process_time(), time.perf_counter())


def make_clients(h: Rig, count: int) -> list[Client]:
    """Client n talks to server n mod servers, as vendor n mod vendors."""
    vendors = h.world.vendors
    return [Client(n, h.https[n % len(h.https)], vendors[n % len(vendors)], random.Random(n)) for n in range(count)]


async def run_level(h: Rig, clients: int, seconds: float, mix: dict[str, int]) -> LevelResult:
    pids = h.deployment.pids()
    await settle(pids)
    load = f"{os.getloadavg()[0]:.2f}"
    frames, waits = h.inbox.frames["message"], h.pool.waits
    before = await meter(h, pids)
    level = Level(Tally(before.wall + seconds), h.pool)
    await asyncio.gather(*(closed_loop(client, level, mix) for client in make_clients(h, clients)))
    after = await meter(h, pids)
    rss = [rss_mb(pid) for pid in pids]
    await wait_for_frames(h.inbox, frames + level.tally.messages)
    return LevelResult(
        clients=clients,
        seconds=seconds,
        load=load,
        tally=level.tally,
        drain_seconds=after.wall - level.tally.stop,
        server_cpu=cpu_spent(before.server, after.server),
        backend_cpu=cpu_spent(before.backends, after.backends),
        client_cpu=(after.client - before.client) / (after.wall - before.wall),
        rss_mb=rss,
        message_frames=h.inbox.frames["message"] - frames,
        pool_waits=h.pool.waits - waits,
    )
