"""The sends bench_chat.py times: throughput of concurrent senders, and delivery latency from
the POST to the recipient's socket at an open-loop rate."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
from harness.client import bearer
from harness.machine import cpu_seconds
from harness.stats import percentile

from chat_bench.config import (
    BASELINE_VISITORS,
    DELIVERY_WAIT,
    LATENCY_MESSAGES,
    LATENCY_SENDERS,
    PER_DEVICE_BUDGET,
    THROUGHPUT_SECONDS,
    VISITORS,
    WORKERS,
)
from chat_bench.seed import World
from chat_bench.sockets import Inbox


@dataclass(frozen=True)
class Send:
    token: str
    conversation_id: str
    recipient: str  # the socket that must receive it
    echo: str | None = None  # the sender's own socket, when it has one open


@dataclass
class Tally:
    """Outcome of a batch of sends: statuses, accepted ids with their start times."""

    statuses: Counter[str] = field(default_factory=Counter)
    accepted: list[tuple[Send, str, float]] = field(default_factory=list)
    post_seconds: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)  # when each accepted send's response came

    async def post(self, http: httpx.AsyncClient, send: Send, body: str) -> int:
        message_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            response = await http.post(
                f"/api/conversations/{send.conversation_id}/messages",
                json={"message_id": message_id, "body": body},
                headers=bearer(send.token),
            )
        except httpx.HTTPError as exc:
            self.statuses[type(exc).__name__] += 1
            return 0
        finished = time.perf_counter()
        self.post_seconds.append(finished - started)
        self.statuses[str(response.status_code)] += 1
        if response.status_code == 201:
            self.accepted.append((send, message_id, started))
            self.finished.append(finished)
        return response.status_code


async def await_deliveries(inbox: Inbox, tally: Tally) -> tuple[list[float], int, int, int]:
    """Latencies to the recipient socket; (latencies, missing, echoes expected, echoes missing)."""
    deadline = time.perf_counter() + DELIVERY_WAIT
    wanted = [(s.recipient, mid) for s, mid, _ in tally.accepted] + [
        (s.echo, mid) for s, mid, _ in tally.accepted if s.echo
    ]
    pending = set(wanted)
    while pending and (remaining := deadline - time.perf_counter()) > 0:
        inbox.arrived.clear()
        pending = {key for key in pending if key not in inbox.got}
        if pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(inbox.arrived.wait(), remaining)
    latencies = [inbox.got[(s.recipient, mid)] - t0 for s, mid, t0 in tally.accepted if (s.recipient, mid) in inbox.got]
    echoes = [(s.echo, mid) for s, mid, _ in tally.accepted if s.echo]
    echo_missing = sum(1 for key in echoes if key not in inbox.got)
    return latencies, len(tally.accepted) - len(latencies), len(echoes), echo_missing


@dataclass(frozen=True)
class LatencyResult:
    sent: int
    p50_ms: float
    p99_ms: float
    post_p50_ms: float
    missing: int
    echoes: int
    echo_missing: int
    statuses: Counter[str]


async def latency_run(
    http: httpx.AsyncClient, inbox: Inbox, to_vendor: list[Send], to_visitor: list[Send], rate: float
) -> tuple[LatencyResult, LatencyResult]:
    """Open loop, the two directions alternating: one send every 1/rate s in all, whether or
    not the previous one has returned (so a slow send does not hold the next one back)."""
    tallies = (Tally(), Tally())
    mixed = [
        (n % 2, send) for n, send in enumerate(s for pair in zip(to_vendor, to_visitor, strict=True) for s in pair)
    ]
    began = time.perf_counter()
    tasks: list[asyncio.Task[int]] = []
    for n, (way, send) in enumerate(mixed):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(tallies[way].post(http, send, f"latency probe {n}")))
    await asyncio.gather(*tasks)
    results = []
    for tally in tallies:
        latencies, missing, echoes, echo_missing = await await_deliveries(inbox, tally)
        results.append(
            LatencyResult(
                len(tally.post_seconds),
                percentile(latencies, 50) * 1000,
                percentile(latencies, 99) * 1000,
                percentile(tally.post_seconds, 50) * 1000,
                missing,
                echoes,
                echo_missing,
                tally.statuses,
            )
        )
    return results[0], results[1]


@dataclass(frozen=True)
class ThroughputResult:
    accepted: int  # in all, including sends still in flight when the window closed
    per_second: float  # accepted within the window, per second of the window
    drain_seconds: float  # how long after the window the last in-flight send returned
    statuses: Counter[str]
    delivered: int
    echoes: int
    echo_missing: int
    exhausted_workers: int
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float


async def throughput_run(
    http: httpx.AsyncClient, inbox: Inbox, pools: list[list[Send]], server_pid: int
) -> ThroughputResult:
    """Each worker sends back to back, moving to its next device before the flood limit."""
    tally = Tally()
    exhausted = 0
    cpu_before = cpu_seconds(server_pid)
    began = time.perf_counter()
    stop = began + THROUGHPUT_SECONDS

    async def worker(pool: list[Send]) -> None:
        nonlocal exhausted
        for send in pool:
            used = 0
            while used < PER_DEVICE_BUDGET:
                if time.perf_counter() >= stop:
                    return
                status = await tally.post(http, send, f"load {used}")
                used += 1
                if status == 429:
                    break
        exhausted += 1

    await asyncio.gather(*(worker(pool) for pool in pools))
    drained = time.perf_counter() - stop
    cpu = cpu_seconds(server_pid) - cpu_before
    latencies, missing, echoes, echo_missing = await await_deliveries(inbox, tally)
    accepted = len(tally.accepted)
    return ThroughputResult(
        accepted,
        sum(1 for t in tally.finished if t <= stop) / THROUGHPUT_SECONDS,
        drained,
        tally.statuses,
        accepted - missing,
        echoes,
        echo_missing,
        exhausted,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
        cpu / max(accepted, 1) * 1000,
    )


def throughput_pools(world: World, devices: range, with_sockets: bool) -> list[list[Send]]:
    chosen = [world.visitors[n] for n in devices]
    sends = [
        Send(v.token, v.conversation_id, world.vendors[v.stall].name, v.name if with_sockets else None) for v in chosen
    ]
    return [sends[w::WORKERS] for w in range(WORKERS)][: min(WORKERS, len(sends))]


def visitor_to_vendor(world: World, with_sockets: bool) -> list[Send]:
    return [
        Send(v.token, v.conversation_id, world.vendors[v.stall].name, v.name if with_sockets else None)
        for v in (world.visitors[n] for n in LATENCY_SENDERS)
    ]


def vendor_to_visitor(world: World, spread: bool) -> list[Send]:
    """Baseline: the 10 visitors with a socket; loaded: recipients spread over all 990 sockets.

    97 is prime to 990 and to 10, so recipients are distinct and every vendor sends 1/10th.
    """
    picks = [
        (j * 97) % VISITORS if spread else BASELINE_VISITORS[j % len(BASELINE_VISITORS)]
        for j in range(LATENCY_MESSAGES)
    ]
    sends = []
    for k in picks:
        visitor = world.visitors[k]
        vendor = world.vendors[visitor.stall]
        sends.append(Send(vendor.token, visitor.conversation_id, visitor.name, vendor.name))
    return sends
