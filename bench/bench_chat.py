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
import contextlib
import json
import os
import resource
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from harness import start_souk, stop_souk
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.auth.tokens import create_device
from server.database import bind_tables, build_engine, prepare_sqlite_file
from server.domain import chat, events, stalls
from server.domain.accounts import NewAccount, create_account
from server.domain.actors import Actor
from server.domain.context import Market
from server.migrate import migrate
from server.photos import PhotoStore
from server.settings import Settings
from sync.log import ensure_log_head, unit_of_work

SLUG = "bench-market"
VENDORS = 10
SOCKETS = 1000
VISITORS = SOCKETS - VENDORS  # every visitor device holds a socket in the loaded phase
LATENCY_MESSAGES = 150  # per direction and phase
WORKERS = 100  # concurrent senders in the throughput runs
DEVICES_PER_WORKER = 3  # each worker moves to its next visitor device before the flood limit
PER_DEVICE_BUDGET = 28  # under the visitor flood limit of 30 a minute
# Which visitors do what (by number), so no device sends more than its budget in a minute:
LATENCY_SENDERS = range(0, LATENCY_MESSAGES)  # one message per latency run
_POOL = WORKERS * DEVICES_PER_WORKER
BASELINE_VISITORS = range(VISITORS - VENDORS, VISITORS)  # one per stall: recipients in the baseline
THROUGHPUT_POOLS = (  # fresh senders for each throughput run (the last: the baseline repeated)
    range(LATENCY_MESSAGES, LATENCY_MESSAGES + _POOL),
    range(LATENCY_MESSAGES + _POOL, LATENCY_MESSAGES + 2 * _POOL),
    range(LATENCY_MESSAGES + 2 * _POOL, BASELINE_VISITORS.start),
)
THROUGHPUT_SECONDS = 10.0
MAX_LATENCY_RATE = 20.0  # messages/s, both directions together: a third of the measured
MIN_LATENCY_RATE = 5.0  # throughput, within these bounds, so latency is not queueing
CONNECT_CONCURRENCY = 50
DELIVERY_WAIT = 15.0
IDLE_SECONDS = 5.0


# --- seeding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    n: int
    token: str
    conversation_id: str
    stall: int

    @property
    def name(self) -> str:
        return f"visitor:{self.n}"


@dataclass(frozen=True)
class Vendor:
    n: int
    token: str

    @property
    def name(self) -> str:
        return f"vendor:{self.n}"


@dataclass(frozen=True)
class World:
    vendors: list[Vendor]
    visitors: list[Visitor]


async def seed(settings: Settings) -> World:
    """Migrate, then make the market through the domain functions, before the server starts."""
    prepare_sqlite_file(settings)
    engine = build_engine(settings)
    bind_tables(engine)
    await migrate(engine)
    await ensure_log_head()
    market = Market(engine, settings, PhotoStore(settings.photos_dir, settings.max_upload_bytes))
    organizer = Actor(
        "organizer", account_id=await create_account(NewAccount("org@example.org", "correct horse", "Org"), "organizer")
    )
    await events.create_event(
        market,
        organizer,
        events.EventInput(
            name="Bench Market",
            slug=SLUG,
            hashtag="#BenchMarket",
            starts_at=datetime(2027, 1, 9, 9, tzinfo=UTC),
            ends_at=datetime(2027, 1, 9, 17, tzinfo=UTC),
            time_zone="Europe/London",
            currency="GBP",
            venue="Old Station Yard",
        ),
    )
    codes = await events.create_invites(market, organizer, SLUG, VENDORS)
    vendors, stall_codes = [], []
    for n, code in enumerate(codes):
        joined = await stalls.join_event(
            market,
            None,
            code,
            stalls.StallInput(name=f"Stall {n}", store_tag=f"#Shop{n}", number=f"A{n:02d}"),
            NewAccount(f"vendor{n}@example.org", "vendor-pass", f"Vendor {n}"),
        )
        assert joined.token is not None
        vendors.append(Vendor(n, joined.token))
        stall_codes.append(joined.stall.code)
    visitors: list[Visitor] = []
    for start in range(0, VISITORS, 110):  # one transaction per batch: seeding is not what we measure
        async with unit_of_work(engine, None):
            for n in range(start, min(start + 110, VISITORS)):
                device_id, token = await create_device()
                stall = n % VENDORS
                view = await chat.open_conversation(market, Actor("device", device_id=device_id), stall_codes[stall])
                visitors.append(Visitor(n, token, str(view.id), stall))
    return World(vendors, visitors)


# --- the server process --------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit(needed: int) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return f"open-file limit {soft} (hard {hard}): enough for the {needed} wanted"
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        return f"open-file limit raised {soft} → {target} (hard limit {hard}); {needed} wanted, expect failures"
    return f"open-file limit raised {soft} → {target} (hard {hard})"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


# --- sockets -------------------------------------------------------------------------------


@dataclass
class Inbox:
    """What every open socket received: message frames by (socket name, message id)."""

    got: dict[tuple[str, str], float] = field(default_factory=dict)
    frames: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Live:
    name: str
    connection: ClientConnection
    reader: asyncio.Task[None]


async def read_frames(name: str, connection: ClientConnection, inbox: Inbox) -> None:
    try:
        async for raw in connection:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = str(frame.get("type"))
            inbox.frames[kind] += 1
            if kind == "message":
                inbox.got[(name, str(frame["message"]["id"]))] = now
                inbox.arrived.set()
    except ConnectionClosed as exc:
        inbox.closed[f"{type(exc).__name__} {exc.rcvd.code if exc.rcvd else ''}"] += 1
        return
    inbox.closed["closed cleanly"] += 1


async def open_socket(ws_url: str, name: str, token: str, inbox: Inbox) -> Live:
    connection = await connect(ws_url, open_timeout=60, ping_interval=None, close_timeout=5)
    await connection.send(json.dumps({"type": "auth", "token": token, "event": SLUG}))
    async with asyncio.timeout(60):
        while True:
            frame = json.loads(await connection.recv())
            if frame.get("type") == "ready":
                break
    return Live(name, connection, asyncio.create_task(read_frames(name, connection, inbox)))


async def open_sockets(ws_url: str, who: list[tuple[str, str]], inbox: Inbox) -> tuple[list[Live], list[str]]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    failures: list[str] = []

    async def one(name: str, token: str) -> Live | None:
        async with gate:
            try:
                return await open_socket(ws_url, name, token, inbox)
            except (OSError, TimeoutError, ConnectionClosed) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                return None

    opened = await asyncio.gather(*(one(name, token) for name, token in who))
    return [s for s in opened if s is not None], failures


async def close_sockets(sockets: list[Live]) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(live: Live) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await live.connection.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(live.reader, 5)

    await asyncio.gather(*(one(s) for s in sockets))


# --- measuring -----------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


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


# --- report --------------------------------------------------------------------------------


def statuses(counter: Counter[str]) -> str:
    return ", ".join(f"{k}×{v}" for k, v in sorted(counter.items())) or "-"


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
    text("HTTP statuses (both ways)", lambda p: statuses(p.to_vendor.statuses + p.to_visitor.statuses))
    print(f"  -- saturation: {WORKERS} concurrent visitor senders for {THROUGHPUT_SECONDS:.0f} s")
    row("accepted sends/s in the window (one worker)", lambda p: p.throughput.per_second)
    count("accepted in all (incl. in flight at the end)", lambda p: p.throughput.accepted)
    row("last in-flight send returned after (s)", lambda p: p.throughput.drain_seconds, ratio=False)
    text("HTTP statuses", lambda p: statuses(p.throughput.statuses))
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


# --- main ----------------------------------------------------------------------------------


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
        ws_url = base.replace("http", "ws", 1) + "/api/live"
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
                    f"{again.delivered} of {again.accepted} delivered, {statuses(again.statuses)}"
                )
        finally:
            began = time.perf_counter()
            await close_sockets(sockets)
            stop_souk(server)
            print(f"closed {len(sockets)} sockets and stopped the server in {time.perf_counter() - began:.1f} s")
            server_log = log.read_text(errors="replace")
            tracebacks = server_log.count("Traceback")
            print(f"server log: {len(server_log.splitlines())} lines, {tracebacks} tracebacks")
            if tracebacks:
                print(server_log[-3000:])
    print(f"bench process CPU: {time.process_time() - client_cpu:.1f} s")
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
