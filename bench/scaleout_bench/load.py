"""One configuration's window of bench_scaleout.py: closed-loop write clients (bench_writes'
mixed operations, spread round-robin over the servers) and closed-loop search clients (queries
drawn from the demo market, also round-robin) run side by side; CPU of the servers, of the
PostgreSQL backends and of this client is metered."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from harness.machine import cpu_spent
from search_bench.paths import api_params
from search_bench.queries import BenchQuery
from writes_bench.level import Rig, make_clients, meter, settle, wait_for_frames
from writes_bench.load import Level, Tally, closed_loop

from scaleout_bench.config import RATE_LIMIT_FACTOR


@dataclass
class Searches:
    """What the search clients got back; a query in flight at the window's end counts by share."""

    stop: float
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    in_window: float = 0.0
    empty: int = 0  # 200 answers with no hit (an index not built would show here)


async def search_loop(
    n: int, https: list[httpx.AsyncClient], slug: str, queries: list[BenchQuery], s: Searches
) -> None:
    http = https[n % len(https)]
    url = f"/api/events/{slug}/search"
    k = n * 37
    while time.perf_counter() < s.stop:
        query = queries[k % len(queries)]
        k += 1
        began = time.perf_counter()
        try:
            response = await http.get(url, params=api_params(query))
        except httpx.HTTPError as exc:
            s.failures[type(exc).__name__] += 1
            continue
        finished = time.perf_counter()
        if finished <= s.stop:
            s.in_window += 1
        elif began < s.stop:
            s.in_window += (s.stop - began) / (finished - began)
        if response.status_code == 200:
            s.latencies.append(finished - began)
            body: Any = response.json()
            s.empty += int(body.get("total", 0) == 0)
        else:
            s.failures[str(response.status_code)] += 1


@dataclass(frozen=True)
class Window:
    clients: int
    search_clients: int
    seconds: float
    load: str
    writes: Tally
    searches: Searches
    server_cpu: float
    backend_cpu: float
    client_cpu: float
    wall: float
    message_frames: int
    pool_waits: int
    rounds: list[float] = field(default_factory=list)  # writes/s of each round, once combined

    @property
    def writes_per_second(self) -> float:
        return self.writes.writes_in_window / self.seconds

    @property
    def searches_per_second(self) -> float:
        return self.searches.in_window / self.seconds

    def share_of_machine(self, cpu: float) -> float:
        """CPU seconds as a share of all the machine's cores over the window."""
        return cpu / self.wall / (os.cpu_count() or 1)


def combined(windows: list[Window]) -> Window:
    """Several rounds' windows of one configuration as one: counts and CPU summed, samples pooled."""
    first = windows[0]
    writes = Tally(0.0)
    searches = Searches(0.0)
    for w in windows:
        for op, samples in w.writes.latencies.items():
            writes.latencies[op] += samples
        writes.failures += w.writes.failures
        writes.requests_in_window += w.writes.requests_in_window
        writes.writes_in_window += w.writes.writes_in_window
        writes.writes += w.writes.writes
        writes.messages += w.writes.messages
        writes.rejected += w.writes.rejected
        searches.latencies += w.searches.latencies
        searches.failures += w.searches.failures
        searches.in_window += w.searches.in_window
        searches.empty += w.searches.empty
    return Window(
        clients=first.clients,
        search_clients=first.search_clients,
        seconds=sum(w.seconds for w in windows),
        load="/".join(w.load for w in windows),
        writes=writes,
        searches=searches,
        server_cpu=sum(w.server_cpu for w in windows),
        backend_cpu=sum(w.backend_cpu for w in windows),
        client_cpu=sum(w.client_cpu for w in windows),
        wall=sum(w.wall for w in windows),
        message_frames=sum(w.message_frames for w in windows),
        pool_waits=sum(w.pool_waits for w in windows),
        rounds=[w.writes_per_second for w in windows],
    )


async def run_window(
    h: Rig, clients: int, search_clients: int, seconds: float, slug: str, queries: list[BenchQuery], mix: dict[str, int]
) -> Window:
    pids = h.deployment.pids()
    await settle(pids)
    load = f"{os.getloadavg()[0]:.2f}"
    frames, waits = h.inbox.frames["message"], h.pool.waits
    before = await meter(h, pids)
    level = Level(Tally(before.wall + seconds), h.pool)
    searches = Searches(before.wall + seconds)
    await asyncio.gather(
        *(closed_loop(client, level, mix) for client in make_clients(h, clients)),
        *(search_loop(n, h.https, slug, queries, searches) for n in range(search_clients)),
    )
    after = await meter(h, pids)
    await wait_for_frames(h.inbox, frames + level.tally.messages)
    return Window(
        clients=clients,
        search_clients=search_clients,
        seconds=seconds,
        load=load,
        writes=level.tally,
        searches=searches,
        server_cpu=cpu_spent(before.server, after.server),
        backend_cpu=cpu_spent(before.backends, after.backends),  # a backend born in the window counts whole
        client_cpu=after.client - before.client,
        wall=after.wall - before.wall,
        message_frames=h.inbox.frames["message"] - frames,
        pool_waits=h.pool.waits - waits,
    )


def server_env(database_url: str, redis_url: str, secret: str) -> dict[str, str]:
    """Every node alike: the database, Redis (also for one process, so only the count changes),
    one signing key, rate limits out of the way."""
    return {
        "SOUK_DATABASE_URL": database_url,
        "SOUK_REDIS_URL": redis_url,
        "SOUK_SECRET_KEY": secret,
        "SOUK_RATE_LIMIT_FACTOR": RATE_LIMIT_FACTOR,
    }
