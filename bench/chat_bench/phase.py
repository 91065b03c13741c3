"""One phase of bench_chat.py (the sockets' idle cost, throughput, then latency), and the table
comparing the baseline with the loaded phase."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from harness.machine import cpu_seconds, load_average
from harness.stats import counts

from chat_bench.config import (
    IDLE_SECONDS,
    LATENCY_MESSAGES,
    MAX_LATENCY_RATE,
    MIN_LATENCY_RATE,
    THROUGHPUT_SECONDS,
    WORKERS,
)
from chat_bench.seed import World
from chat_bench.sends import (
    LatencyResult,
    ThroughputResult,
    latency_run,
    throughput_pools,
    throughput_run,
    vendor_to_visitor,
    visitor_to_vendor,
)
from chat_bench.sockets import Inbox


@dataclass(frozen=True)
class Phase:
    label: str
    sockets: int
    load: str
    idle_cpu: float  # % of one core the server uses with the sockets open and no traffic
    rate: float  # latency probes per second, both directions together
    throughput: ThroughputResult
    to_vendor: LatencyResult
    to_visitor: LatencyResult


async def measure(
    label: str,
    sockets: int,
    http: httpx.AsyncClient,
    inbox: Inbox,
    world: World,
    pool: range,
    loaded: bool,
    server_pid: int,
    rate: float | None,
) -> Phase:
    """Idle cost, then throughput, then latency at `rate` (default: a third of the throughput,
    within bounds, so latency is measured rather than queueing)."""
    load = load_average()
    before = cpu_seconds(server_pid)
    await asyncio.sleep(IDLE_SECONDS)
    idle_cpu = (cpu_seconds(server_pid) - before) / IDLE_SECONDS * 100
    print(f"[{label}] throughput: {WORKERS} visitor senders for {THROUGHPUT_SECONDS:.0f} s …", flush=True)
    throughput = await throughput_run(http, inbox, throughput_pools(world, pool, loaded), server_pid)
    per_second = rate or max(MIN_LATENCY_RATE, min(MAX_LATENCY_RATE, throughput.per_second / 3))
    print(
        f"[{label}] latency: {LATENCY_MESSAGES} messages each way, alternating, {per_second:.1f}/s in all …",
        flush=True,
    )
    to_vendor, to_visitor = await latency_run(
        http, inbox, visitor_to_vendor(world, loaded), vendor_to_visitor(world, loaded), per_second
    )
    return Phase(label, sockets, load, idle_cpu, per_second, throughput, to_vendor, to_visitor)


def echo(expected: int, missing: int) -> str:
    return f"{expected} ({missing})"


def report(base: Phase, loaded: Phase) -> None:
    def row(name: str, get: Callable[[Phase], float], fmt: str = "{:.1f}", ratio: bool = True) -> None:
        a, b = get(base), get(loaded)
        shown = f"{b / a:.2f}" if ratio and a else ""
        print(f"  {name:<46} {fmt.format(a):>14} {fmt.format(b):>14} {shown:>7}")

    def count(name: str, get: Callable[[Phase], float]) -> None:
        row(name, get, "{:.0f}", ratio=False)

    def text(name: str, get: Callable[[Phase], str]) -> None:
        print(f"  {name:<46} {get(base):>14} {get(loaded):>14}")

    print()
    print(f"  {'':<46} {f'{base.sockets} sockets':>14} {f'{loaded.sockets:,} sockets':>14} {'ratio':>7}")
    print(f"  -- delivery, POST start → recipient socket ({LATENCY_MESSAGES} each way, {base.rate:.1f}/s in all)")
    row("visitor → vendor socket p50 (ms)", lambda p: p.to_vendor.p50_ms)
    row("visitor → vendor socket p99 (ms)", lambda p: p.to_vendor.p99_ms)
    row("vendor → visitor socket p50 (ms)", lambda p: p.to_visitor.p50_ms)
    row("vendor → visitor socket p99 (ms)", lambda p: p.to_visitor.p99_ms)
    row("POST round trip p50, visitor sends (ms)", lambda p: p.to_vendor.post_p50_ms)
    count("not delivered to the recipient (both ways)", lambda p: p.to_vendor.missing + p.to_visitor.missing)
    text(
        "echo on the sender's own socket (missing)",
        lambda p: (
            f"{p.to_vendor.echoes + p.to_visitor.echoes} ({p.to_vendor.echo_missing + p.to_visitor.echo_missing})"
        ),
    )
    text("HTTP statuses (both ways)", lambda p: counts(p.to_vendor.statuses + p.to_visitor.statuses))
    print(f"  -- saturation: {WORKERS} concurrent visitor senders for {THROUGHPUT_SECONDS:.0f} s")
    row("accepted sends/s in the window (one worker)", lambda p: p.throughput.per_second)
    count("accepted in all (incl. in flight at the end)", lambda p: p.throughput.accepted)
    row("last in-flight send returned after (s)", lambda p: p.throughput.drain_seconds, ratio=False)
    text("HTTP statuses", lambda p: counts(p.throughput.statuses))
    count("delivered to the vendor's socket", lambda p: p.throughput.delivered)
    text(
        "echo on the sender's own socket (missing)",
        lambda p: echo(p.throughput.echoes, p.throughput.echo_missing),
    )
    row("send → vendor socket p50 (ms)", lambda p: p.throughput.p50_ms)
    row("send → vendor socket p99 (ms)", lambda p: p.throughput.p99_ms)
    row("server CPU per accepted message (ms)", lambda p: p.throughput.server_cpu_ms)
    count("senders that used up their devices' budget", lambda p: p.throughput.exhausted_workers)
    print("  -- the sockets themselves")
    row(f"server CPU with no traffic, {IDLE_SECONDS:.0f} s (% of a core)", lambda p: p.idle_cpu)
    text("load average at phase start (1 min)", lambda p: p.load.split()[0])
