"""The write path under a mixed load at rising concurrency, against the raw drivers' own limit.

Run: .venv/bin/python bench/bench_writes.py [--seconds 10] [--quick] [--postgres [--workers 1,4]]

Without `--postgres`: one `souk serve` process, embedded mode (SQLite in a temporary
SOUK_DATA_DIR). With `--postgres`: PostgreSQL (database `souk_bench_writes` on 127.0.0.1, made
if missing and emptied first) with `--workers 1` and `--workers 4` runs. More than one worker
needs Redis (SOUK_REDIS_URL=redis://127.0.0.1:6379/0); when the settings refuse several uvicorn
workers (they currently also ask for Meilisearch), N separate `souk serve` processes (one worker
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
import json
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
import asyncpg
import httpx
from harness import Server, start_souk, stop_souk
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.auth.tokens import actor_for_token, create_device
from server.database import bind_tables, build_engine, drop_all_tables, prepare_sqlite_file, start_engine, stop_engine
from server.domain import chat, events, items, stalls
from server.domain.accounts import NewAccount, create_account
from server.domain.actors import Actor
from server.domain.context import Market
from server.domain.items import ItemInput
from server.migrate import migrate
from server.photos import PhotoStore
from server.settings import Settings, SettingsError
from sync.log import ensure_log_head, unit_of_work

EVENTS = 4
VENDORS_PER_EVENT = 5
ITEMS_PER_STALL = 10
ITEM_QUANTITY = 100_000
VISITORS_PER_EVENT = 500
SEED_BATCH = 100  # visitors made in one transaction while seeding
LEVELS = (10, 100, 500)
QUICK_LEVELS = (10, 100)
QUICK_SECONDS = 2.0
CHAT_LEVEL = 100  # the chat-only run
PUSH_BATCH = 20
MESSAGE_BUDGET = 28  # messages per device lease: under the visitor flood limit of 30 a minute
DEVICE_REST_SECONDS = 61.0  # a handed-back device's messages have all left the flood window by then
RATE_LIMIT_FACTOR = "1000"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/souk_bench_writes"
REDIS_URL = "redis://127.0.0.1:6379/0"
REQUEST_TIMEOUT = 120.0
CHAT, EDIT, SALE, VENDOR_PUSH, VISITOR_PUSH = (
    "chat send",
    "item edit",
    "sale",
    "sync push: vendor, 20 update_item",
    "sync push: visitor, 20 send_message",
)
OPERATIONS = (CHAT, EDIT, SALE, VENDOR_PUSH, VISITOR_PUSH)
MIXED = {CHAT: 40, EDIT: 30, SALE: 20, VENDOR_PUSH: 5, VISITOR_PUSH: 5}  # % of requests
CHAT_ONLY = {CHAT: 100}


# --- seeding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vendor:
    n: int
    token: str
    event: str
    item_ids: list[str]


@dataclass
class Visitor:
    """A visitor device with its conversation; `used` counts the messages of its current lease."""

    n: int
    token: str
    conversation_id: str
    used: int = 0
    sync_client: str = ""
    next_mutation: int = 1

    @property
    def left(self) -> int:
        return MESSAGE_BUDGET - self.used


@dataclass(frozen=True)
class World:
    vendors: list[Vendor]
    visitors: list[Visitor]


def event_input(e: int) -> events.EventInput:
    return events.EventInput(
        name=f"Bench Writes {e}",
        slug=f"bench-writes-{e}",
        hashtag=f"#BenchWrites{e}",
        starts_at=datetime(2027, 1, 9, 9, tzinfo=UTC),
        ends_at=datetime(2027, 1, 9, 17, tzinfo=UTC),
        time_zone="Europe/London",
        currency="GBP",
        venue="Old Station Yard",
    )


async def seed_event(
    market: Market, organizer: Actor, e: int, first_visitor: int
) -> tuple[list[Vendor], list[Visitor]]:
    """One event: its vendor stalls with their items, its visitors each with a conversation."""
    slug = (await events.create_event(market, organizer, event_input(e))).slug
    codes = await events.create_invites(market, organizer, slug, VENDORS_PER_EVENT)
    vendors, stall_codes = [], []
    for v, code in enumerate(codes):
        n = e * VENDORS_PER_EVENT + v
        joined = await stalls.join_event(
            market,
            None,
            code,
            stalls.StallInput(name=f"Stall {n}", store_tag=f"#Shop{n}", number=f"A{n:02d}"),
            NewAccount(f"vendor{n}@example.org", "vendor-pass", f"Vendor {n}"),
        )
        assert joined.token is not None
        actor = await actor_for_token(joined.token)
        made = [
            await items.create_item(
                market, actor, joined.stall.code, ItemInput(f"Thing {k}", 500 + k, quantity=ITEM_QUANTITY)
            )
            for k in range(ITEMS_PER_STALL)
        ]
        vendors.append(Vendor(n, joined.token, slug, [str(item.id) for item in made]))
        stall_codes.append(joined.stall.code)
    visitors: list[Visitor] = []
    for start in range(0, VISITORS_PER_EVENT, SEED_BATCH):  # one transaction per batch
        async with unit_of_work(market.engine, None):
            for k in range(start, min(start + SEED_BATCH, VISITORS_PER_EVENT)):
                device_id, token = await create_device()
                device = Actor("device", device_id=device_id)
                view = await chat.open_conversation(market, device, stall_codes[k % VENDORS_PER_EVENT])
                visitors.append(Visitor(first_visitor + k, token, str(view.id)))
    return vendors, visitors


async def seed(settings: Settings) -> tuple[World, str]:
    """Empty the database, migrate, make the market; (world, name of the SQLite engine class)."""
    prepare_sqlite_file(settings)
    engine = build_engine(settings)
    bind_tables(engine)
    await start_engine(engine)
    try:
        if not settings.is_sqlite:
            await drop_all_tables(engine)
        await migrate(engine)
        await ensure_log_head()
        market = Market(engine, settings, PhotoStore(settings.photos_dir, settings.max_upload_bytes))
        account = await create_account(NewAccount("org@example.org", "correct horse", "Org"), "organizer")
        organizer = Actor("organizer", account_id=account)
        vendors: list[Vendor] = []
        visitors: list[Visitor] = []
        for e in range(EVENTS):
            more_vendors, more_visitors = await seed_event(market, organizer, e, len(visitors))
            vendors += more_vendors
            visitors += more_visitors
        return World(vendors, visitors), type(engine).__name__
    finally:
        await stop_engine(engine)


# --- visitor devices under the flood limit --------------------------------------------------


@dataclass
class DevicePool:
    """Lends visitor devices to clients; a device handed back rests until its messages left the
    server's one-minute flood window."""

    ready: deque[Visitor]
    resting: deque[tuple[float, Visitor]] = field(default_factory=deque)
    waits: int = 0

    async def take(self, stop: float) -> Visitor | None:
        """A rested device, waiting for one if need be; None once `stop` has passed."""
        while True:
            now = time.perf_counter()
            while self.resting and self.resting[0][0] <= now:
                self.ready.append(self.resting.popleft()[1])
            if self.ready:
                device = self.ready.popleft()
                device.used, device.sync_client, device.next_mutation = 0, str(uuid.uuid4()), 1
                return device
            if now >= stop:
                return None
            self.waits += 1
            await asyncio.sleep(0.05)

    def give_back(self, device: Visitor) -> None:
        self.resting.append((time.perf_counter() + DEVICE_REST_SECONDS, device))


# --- processes -----------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (uvicorn's workers, if any), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: Sequence[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots; a process born in between counts whole."""
    return sum(max(0.0, spent - before.get(pid, 0.0)) for pid, spent in after.items())


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def raise_fd_limit(needed: int) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return f"open-file limit {soft}: enough"
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return f"open-file limit raised {soft} → {target}"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


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


# --- vendor sockets ------------------------------------------------------------------------


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
    connection = await connect(base.replace("http", "ws", 1) + "/api/live", open_timeout=60, ping_interval=None)
    await connection.send(json.dumps({"type": "auth", "token": vendor.token, "event": vendor.event}))
    async with asyncio.timeout(60):
        while json.loads(await connection.recv()).get("type") != "ready":
            pass
    return connection, asyncio.create_task(read_frames(connection, inbox))


# --- the load ------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (a transport error)
    body: Any  # the decoded JSON of a 2xx answer, else None
    began: float
    finished: float


@dataclass
class Tally:
    """What one level's clients got back. A request still in flight when the window closes
    counts in the window's rates by the share of its time inside the window (so long pushes
    neither vanish from a short window nor count whole)."""

    stop: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    failures: Counter[str] = field(default_factory=Counter)  # "operation: status"
    requests_in_window: float = 0.0
    writes_in_window: float = 0.0
    writes: int = 0  # all, including those answered after the window
    messages: int = 0  # accepted chat messages, sent or pushed
    rejected: int = 0  # push mutations answered "rejected"

    def share(self, answer: Answer) -> float:
        if answer.finished <= self.stop:
            return 1.0
        if answer.began >= self.stop:
            return 0.0
        return (self.stop - answer.began) / (answer.finished - answer.began)

    def answered(self, op: str, answer: Answer) -> None:
        self.requests_in_window += self.share(answer)
        if 200 <= answer.status < 300:
            self.latencies[op].append(answer.finished - answer.began)
        else:
            self.failures[f"{op}: {answer.status}"] += 1

    def acknowledged(self, answer: Answer, writes: int, messages: int = 0) -> None:
        self.writes += writes
        self.writes_in_window += writes * self.share(answer)
        self.messages += messages


@dataclass
class Client:
    """One closed-loop client: its server, its vendor, its sync outbox, its borrowed device."""

    n: int
    http: httpx.AsyncClient
    vendor: Vendor
    rng: random.Random
    sync_client: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_mutation: int = 1
    device: Visitor | None = None


@dataclass
class Level:
    tally: Tally
    pool: DevicePool


async def request(
    client: Client, tally: Tally, op: str, method: str, url: str, body: dict[str, Any], token: str
) -> Answer:
    began = time.perf_counter()
    try:
        response = await client.http.request(method, url, json=body, headers=bearer(token))
    except httpx.HTTPError as exc:
        tally.failures[f"{op}: {type(exc).__name__}"] += 1
        return Answer(0, None, began, time.perf_counter())
    ok = 200 <= response.status_code < 300
    answer = Answer(
        response.status_code, response.json() if ok and response.content else None, began, time.perf_counter()
    )
    tally.answered(op, answer)
    return answer


async def borrow(client: Client, level: Level, messages: int) -> Visitor | None:
    """A device with `messages` left in its lease (handing back the current one if not)."""
    if client.device is not None and client.device.left >= messages:
        return client.device
    if client.device is not None:
        level.pool.give_back(client.device)
    client.device = await level.pool.take(level.tally.stop)
    return client.device


async def chat_send(client: Client, level: Level) -> None:
    device = await borrow(client, level, 1)
    if device is None:
        return
    device.used += 1
    url = f"/api/conversations/{device.conversation_id}/messages"
    body = {"message_id": str(uuid.uuid4()), "body": f"Is this still available? ({device.used})"}
    answer = await request(client, level.tally, CHAT, "POST", url, body, device.token)
    if answer.status == 201:
        level.tally.acknowledged(answer, 1, messages=1)
    elif answer.status == 429:
        device.used = MESSAGE_BUDGET  # the server disagrees about the budget: rest this device


async def item_edit(client: Client, level: Level) -> None:
    item = client.rng.choice(client.vendor.item_ids)
    body = {"price": client.rng.randrange(100, 10_000)}
    url = f"/api/items/{item}"
    answer = await request(client, level.tally, EDIT, "PATCH", url, body, client.vendor.token)
    if answer.status == 200:
        level.tally.acknowledged(answer, 1)


async def sale(client: Client, level: Level) -> None:
    item = client.rng.choice(client.vendor.item_ids)
    body = {"quantity": 1, "sale_id": str(uuid.uuid4())}
    url = f"/api/items/{item}/sell"
    answer = await request(client, level.tally, SALE, "POST", url, body, client.vendor.token)
    if answer.status == 201:
        level.tally.acknowledged(answer, 1)


def mutations(first: int, name: str, args: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": first + k, "name": name, "args": args()} for k in range(PUSH_BATCH)]


async def push(
    client: Client, level: Level, op: str, token: str, outbox: str, batch: list[dict[str, Any]]
) -> tuple[int | None, int]:
    """Push `batch`; (the next mutation number, or None to start a new outbox; applied count)."""
    body = {"client_id": outbox, "mutations": batch}
    answer = await request(client, level.tally, op, "POST", "/api/sync/push", body, token)
    if answer.status != 200 or not isinstance(answer.body, dict):
        return None, 0  # what the server kept of it is unknown here: a new outbox starts clean
    results = answer.body["results"]
    applied = sum(1 for outcome in results if outcome["status"] == "applied")
    level.tally.rejected += len(results) - applied
    level.tally.acknowledged(answer, applied, messages=applied if op == VISITOR_PUSH else 0)
    return int(answer.body["last_mutation_id"]) + 1, applied


async def vendor_push(client: Client, level: Level) -> None:
    rng, vendor = client.rng, client.vendor

    def edit() -> dict[str, Any]:
        return {"id": rng.choice(vendor.item_ids), "price": rng.randrange(100, 10_000)}

    batch = mutations(client.next_mutation, "update_item", edit)
    following, _ = await push(client, level, VENDOR_PUSH, vendor.token, client.sync_client, batch)
    if following is None:
        client.sync_client, client.next_mutation = str(uuid.uuid4()), 1
    else:
        client.next_mutation = following


async def visitor_push(client: Client, level: Level) -> None:
    device = await borrow(client, level, PUSH_BATCH)
    if device is None:
        return
    device.used += PUSH_BATCH

    def message() -> dict[str, Any]:
        return {"conversation_id": device.conversation_id, "message_id": str(uuid.uuid4()), "body": "Sent offline"}

    batch = mutations(device.next_mutation, "send_message", message)
    following, _ = await push(client, level, VISITOR_PUSH, device.token, device.sync_client, batch)
    if following is None:
        device.used = MESSAGE_BUDGET  # a 429 or an error: rest this device, its outbox too
    else:
        device.next_mutation = following


STEPS: dict[str, Callable[[Client, Level], Awaitable[None]]] = {
    CHAT: chat_send,
    EDIT: item_edit,
    SALE: sale,
    VENDOR_PUSH: vendor_push,
    VISITOR_PUSH: visitor_push,
}


async def closed_loop(client: Client, level: Level, mix: dict[str, int]) -> None:
    names, weights = list(mix), list(mix.values())
    while time.perf_counter() < level.tally.stop:
        await STEPS[client.rng.choices(names, weights)[0]](client, level)
    if client.device is not None:
        level.pool.give_back(client.device)
        client.device = None


# --- one level -----------------------------------------------------------------------------


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
class Harness:
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


async def meter(h: Harness, pids: Sequence[int]) -> Meter:
    backends = cpu_of(await backend_pids(h.admin, h.deployment.database))
    return Meter(cpu_of(pids), backends, time.process_time(), time.perf_counter())


def make_clients(h: Harness, count: int) -> list[Client]:
    """Client n talks to server n mod servers, as vendor n mod vendors."""
    vendors = h.world.vendors
    return [Client(n, h.https[n % len(h.https)], vendors[n % len(vendors)], random.Random(n)) for n in range(count)]


async def run_level(h: Harness, clients: int, seconds: float, mix: dict[str, int]) -> LevelResult:
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


# --- raw drivers ---------------------------------------------------------------------------

RAW_TABLE = "bench_raw_writes"
RAW_CREATE = f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, n INTEGER NOT NULL)"


async def sqlite_transaction(db: aiosqlite.Connection, n: int) -> None:
    await db.execute("BEGIN IMMEDIATE")
    await db.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('change', ?)", (n,))
    await db.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('log', ?)", (n,))
    await db.commit()


async def open_sqlite(path: Path) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA synchronous=FULL")
    return db


async def raw_sqlite(folder: Path, seconds: float, reuse: bool) -> float:
    """Committed 2-INSERT transactions per second: one connection, or a new one each time."""
    path = folder / f"raw-{'one' if reuse else 'each'}.sqlite3"
    db = await open_sqlite(path)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute(RAW_CREATE)
    done, stop = 0, time.perf_counter() + seconds
    began = time.perf_counter()
    try:
        while time.perf_counter() < stop:
            if reuse:
                await sqlite_transaction(db, done)
            else:
                fresh = await open_sqlite(path)
                await sqlite_transaction(fresh, done)
                await fresh.close()
            done += 1
    finally:
        await db.close()
    return done / (time.perf_counter() - began)


async def raw_postgres(dsn: str, seconds: float) -> float:
    """Committed 2-INSERT transactions per second on one asyncpg connection."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        await conn.execute(f"CREATE TABLE {RAW_TABLE} (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, n INTEGER)")
        done, stop = 0, time.perf_counter() + seconds
        began = time.perf_counter()
        while time.perf_counter() < stop:
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('change', $1)", done)
                await conn.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('log', $1)", done)
            done += 1
        rate = done / (time.perf_counter() - began)
        await conn.execute(f"DROP TABLE {RAW_TABLE}")
        return rate
    finally:
        await conn.close()


# --- reachability --------------------------------------------------------------------------


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path=f"/{database}")) if database else urlunsplit(parts)


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


# --- starting the servers ------------------------------------------------------------------


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


# --- reporting -----------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def statuses(counter: Counter[str]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counter.items())) or "none"


@dataclass(frozen=True)
class ConfigResult:
    label: str
    raw_label: str
    raw_rate: float
    levels: list[LevelResult]
    chat: LevelResult
    postgres: bool


def p50_p99(latencies: list[float]) -> str:
    return f"{percentile(latencies, 50) * 1000:.0f}/{percentile(latencies, 99) * 1000:.0f}"


def latency_cell(op: str) -> Callable[[LevelResult], str]:
    return lambda r: p50_p99(r.tally.latencies[op])


def report(result: ConfigResult) -> None:
    levels = result.levels
    width = 16

    def row(name: str, cell: Callable[[LevelResult], str]) -> None:
        print(f"  {name:<44}" + "".join(f"{cell(r):>{width}}" for r in levels))

    print(f"\n== {result.label}")
    row("concurrent clients", lambda r: f"{r.clients}")
    row("acknowledged writes/s", lambda r: f"{r.writes_per_second:,.0f}")
    row("requests/s (answered, any status)", lambda r: f"{r.requests_per_second:,.0f}")
    for op in OPERATIONS:
        row(f"{op} p50/p99 ms", latency_cell(op))
    row("non-2xx answers and errors", lambda r: f"{sum(r.tally.failures.values())}")
    row("push mutations rejected", lambda r: f"{r.tally.rejected}")
    row("server CPU ms per write", lambda r: f"{r.cpu_ms_per_write(r.server_cpu):.2f}")
    if result.postgres:
        row("PostgreSQL backends' CPU ms per write", lambda r: f"{r.cpu_ms_per_write(r.backend_cpu):.2f}")
    row("server RSS MB (sum of processes)", lambda r: f"{sum(r.rss_mb):.0f}")
    row("this client's CPU (% of a core)", lambda r: f"{r.client_cpu * 100:.0f}")
    row(f"writes/s ÷ {result.raw_label}", lambda r: f"{r.writes_per_second / result.raw_rate:.3f}")
    row("last in-flight answer after window (s)", lambda r: f"{r.drain_seconds:.2f}")
    row("messages accepted / frames at vendor sockets", lambda r: f"{r.tally.messages}/{r.message_frames}")
    row("waits for a rested visitor device", lambda r: f"{r.pool_waits}")
    row("load average (1 min) at level start", lambda r: r.load)
    for r in levels:
        if r.tally.failures:
            print(f"  non-2xx at {r.clients} clients: {statuses(r.tally.failures)}")
    chat = result.chat
    print(
        f"  chat only, {chat.clients} clients, {chat.seconds:g} s: {chat.writes_per_second:,.0f} accepted messages/s, "
        f"p50/p99 {p50_p99(chat.tally.latencies[CHAT])} ms, "
        f"server CPU {chat.cpu_ms_per_write(chat.server_cpu):.2f} ms per accepted message"
        + (f" (+ {chat.cpu_ms_per_write(chat.backend_cpu):.2f} ms in PostgreSQL backends)" if result.postgres else "")
        + f", non-2xx: {statuses(chat.tally.failures)}, load {chat.load}"
    )


# --- one configuration ---------------------------------------------------------------------


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
        h = Harness(deployment, https, world, pool, inbox, admin)
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


def check_logs(deployment: Deployment) -> None:
    for log in deployment.logs:
        text = log.read_text(errors="replace")
        tracebacks = text.count("Traceback")
        print(f"  server log {log.name}: {len(text.splitlines())} lines, {tracebacks} tracebacks")
        if tracebacks:
            print(text[-3000:])


@dataclass(frozen=True)
class Setup:
    """How to start the servers of one configuration."""

    short: str  # names it in progress lines
    folder: Path
    env: dict[str, str]
    processes: int = 1
    workers_each: int = 1
    database: str | None = None  # PostgreSQL's, whose backends' CPU is measured too


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
        check_logs(deployment)


def base_env(database_url: str) -> dict[str, str]:
    return {"SOUK_DATABASE_URL": database_url, "SOUK_RATE_LIMIT_FACTOR": RATE_LIMIT_FACTOR}


async def seeded(settings: Settings) -> tuple[World, str]:
    began = time.perf_counter()
    world, engine = await seed(settings)
    print(
        f"seeded {EVENTS} events, {len(world.vendors)} vendor stalls × {ITEMS_PER_STALL} items "
        f"(quantity {ITEM_QUANTITY:,}), {len(world.visitors):,} visitor devices with a conversation each, "
        f"in {time.perf_counter() - began:.1f} s (engine {engine})",
        flush=True,
    )
    return world, engine


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
