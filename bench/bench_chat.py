"""Realtime chat under 1,000 open sockets (run: .venv/bin/python bench/bench_chat.py).

Starts a real `souk serve` (one worker, embedded mode: SQLite in a temporary SOUK_DATA_DIR)
on 127.0.0.1, seeds one event with 10 vendor stalls and 990 visitor devices (each visitor has
one conversation, with stall number `visitor % 10`), then measures twice:

- baseline: only the 20 sockets the measurements need (the 10 vendors, 10 visitors);
- loaded: 1,000 sockets on /api/live (the 10 vendors and all 990 visitors).

In each: the sends per second the worker accepts from 100 concurrent visitor senders for
10 s (and whether every accepted message reached the vendor's socket), then delivery latency
at a modest open-loop rate: the clock starts just before the POST and stops when the
recipient's socket reads the message frame (one process, one clock); the two directions
alternate in one stream at a third of the measured throughput (5–20 messages/s). The flood
limit (30 messages a minute per visitor, 120 per vendor) is respected by spreading the load
over many senders; no sender is reused across phases beyond its budget.

The machine may be shared, so the load average is printed, and so is the server's CPU time
per accepted message (less sensitive to neighbours than wall-clock figures); after closing the
extra 980 sockets the baseline throughput runs once more, to show how far the neighbours moved
the figures during the run.
No timing is asserted: this prints figures.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx
from chat_bench.config import BASELINE_VISITORS, SOCKETS, THROUGHPUT_POOLS, VENDORS, VISITORS, WORKERS
from chat_bench.phase import measure, report
from chat_bench.seed import World, seed
from chat_bench.sends import throughput_pools, throughput_run
from chat_bench.sockets import Inbox, Live, close_sockets, open_sockets
from harness.client import live_url
from harness.machine import cpu_seconds, load_average, open_fds, raise_fd_limit, rss_mb
from harness.process import check_log, start_souk, stop_souk
from harness.stats import counts

from server.settings import Settings


async def timed(label: str, job: Awaitable[Any]) -> Any:
    began = time.perf_counter()
    result = await job
    print(f"{label} in {time.perf_counter() - began:.1f} s", flush=True)
    return result


async def main() -> None:
    print(f"load average at start: {load_average()}")
    print(raise_fd_limit(2 * SOCKETS + 1024))
    client_cpu = time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({"SOUK_DATA_DIR": folder})
        world: World = await timed(
            f"seeded 1 event, {VENDORS} vendor stalls, {VISITORS} visitors with a conversation each",
            seed(settings),
        )
        log = Path(folder) / "server.log"
        # The server inherits this process's raised file limit.
        server = start_souk(settings.data_dir, log, {"SOUK_DATABASE_URL": settings.database_url})
        process, base = server.process, server.base
        ws_url = live_url(base)
        inbox = Inbox()
        sockets: list[Live] = []
        try:
            limits = httpx.Limits(max_connections=WORKERS + 20, max_keepalive_connections=WORKERS + 20)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
                first = [(v.name, v.token) for v in world.vendors] + [
                    (world.visitors[n].name, world.visitors[n].token) for n in BASELINE_VISITORS
                ]
                opened, failed = await timed(f"opened {len(first)} sockets", open_sockets(ws_url, first, inbox))
                sockets += opened
                rss_before = rss_mb(process.pid)
                baseline = await measure(
                    "baseline", len(sockets), http, inbox, world, THROUGHPUT_POOLS[0], False, process.pid, None
                )
                rest = [(v.name, v.token) for v in world.visitors if v.n not in BASELINE_VISITORS]
                began_cpu = cpu_seconds(process.pid)
                more, failures = await timed(f"opened {len(rest)} more sockets", open_sockets(ws_url, rest, inbox))
                sockets += more
                failed += failures
                print(
                    f"  server: {len(sockets)} sockets, {open_fds(process.pid)} open fds, "
                    f"RSS {rss_before:.0f} → {rss_mb(process.pid):.0f} MB, "
                    f"{(cpu_seconds(process.pid) - began_cpu) / max(len(more), 1) * 1000:.1f} ms CPU per connect"
                )
                if failed:
                    print(f"  {len(failed)} sockets failed to open: {Counter(failed).most_common(3)}")
                await asyncio.sleep(1)
                loaded = await measure(
                    "1,000 sockets",
                    len(sockets),
                    http,
                    inbox,
                    world,
                    THROUGHPUT_POOLS[1],
                    True,
                    process.pid,
                    baseline.rate,  # the same probe rate, so the two are comparable
                )
                still_open = sum(1 for s in sockets if not s.reader.done())
                report(baseline, loaded)
                print(f"\nsockets still open after the 1,000-socket phase: {still_open} of {len(sockets)}")
                print(f"frames received by type: {dict(inbox.frames)}")
                if inbox.closed:
                    print(f"sockets the server closed during the run: {dict(inbox.closed)}")
                # The neighbours' load drifts: run the baseline's throughput once more to see by how much.
                await timed(f"closed the {len(more)} extra sockets", close_sockets(more))
                sockets = opened
                await asyncio.sleep(1)
                again = await throughput_run(
                    http, inbox, throughput_pools(world, THROUGHPUT_POOLS[2], False), process.pid
                )
                first_run = baseline.throughput
                print(
                    f"baseline throughput repeated ({len(sockets)} sockets, load {os.getloadavg()[0]:.2f}): "
                    f"{again.per_second:.1f} sends/s (first {first_run.per_second:.1f}), "
                    f"{again.server_cpu_ms:.1f} ms server CPU per message (first {first_run.server_cpu_ms:.1f}), "
                    f"{again.delivered} of {again.accepted} delivered, {counts(again.statuses)}"
                )
        finally:
            began = time.perf_counter()
            await close_sockets(sockets)
            stop_souk(server)
            print(f"closed {len(sockets)} sockets and stopped the server in {time.perf_counter() - began:.1f} s")
            check_log(log, "server log")
    print(f"bench process CPU: {time.process_time() - client_cpu:.1f} s")
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
