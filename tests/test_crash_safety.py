"""Crash safety: a server killed mid-load keeps every write it acknowledged, and a whole database.

What this proves, on the suite's database (SQLite by default, PostgreSQL when
SOUK_TEST_DATABASE_URL names one): `souk serve` runs as a real process under a mixed write load
(chat sends, item listings, sales, sync pushes of queued messages) from many concurrent clients,
and is SIGKILLed while requests are in flight: no shutdown code runs, as when the process crashes
or the OOM killer strikes. After a restart on the same data dir and database:

- every write the server acknowledged (a 2xx answer reached the client) is there: each message
  reads back for its sender, each item reads back, each sale is stored with its stock taken off
  the item, each acknowledged sync push is remembered as applied;
- the change log has no gap (sequence numbers run 1..head with nothing missing, and the head
  row agrees), and every message, conversation, item and sale has its change-log entry;
- on SQLite, `PRAGMA integrity_check` finds the file sound;
- the restarted server accepts writes again.

The kill happens twice, at different moments of the load, on the same database.

Why it matters: phones drop a write from their offline outbox once the server acknowledges it,
so an acknowledged write lost in a crash is lost for good; and sync, search and push read the
change log by sequence number, so a gap or a row without its entry is a change that no device,
index or notification ever hears of. Unacknowledged writes may or may not be there: the client
retries those with the same ids. The guarantee holds today; this test keeps it held while the
storage engine underneath changes (an engine that answered before its commit, or committed the
data and its change-log entries apart, fails here).

What it cannot show: a power cut also loses what the operating system had not yet written to
disk, and a killed process leaves that in the OS cache; fsync settings are not tested here.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from piccolo.table import Table

from server.database import bind_tables, build_engine, start_engine, stop_engine
from server.settings import Settings
from server.tables import ChangeLog, Conversation, Item, LogHead, Message, Sale, SyncClient
from tests.conftest import EVENT_BODY, bearer, make_organizer, make_vendor, start_server

# Each cycle drives load for LOAD_SECONDS and kills the server this far into it, or later (up to
# KILL_BY) while some kind of write still waits for its first acknowledgement of the cycle.
KILL_MOMENTS = (1.5, 0.8)
KILL_BY = 2.5
LOAD_SECONDS = 3.0
CHAT_SENDERS = 6  # visitors sending chat messages over REST, one request at a time each
PUSHERS = 3  # visitors pushing batches of queued messages through sync
PUSH_BATCH = 3
# The flood limit is 30 messages a minute per visitor device, counted from the stored messages
# (so across restarts): a device sends fewer, then a fresh one takes over.
SENDS_PER_DEVICE = 24
STOCK = 100_000  # of each pre-listed item, so sales never run out
SEEDED_ITEMS = 3  # per stall
HTTP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Seller:
    headers: dict[str, str]
    stall: str  # the stall's code
    items: tuple[str, ...]  # ids of items listed with STOCK units


@dataclass(frozen=True)
class Market:
    sellers: tuple[Seller, ...]


@dataclass(frozen=True)
class SentMessage:
    id: str
    conversation: str
    sender: str  # the sending visitor's token


@dataclass
class Acks:
    """What the server acknowledged, over every cycle; plus what it should never have said."""

    messages: list[SentMessage] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    sales: list[str] = field(default_factory=list)
    pushes: dict[str, int] = field(default_factory=dict)  # sync client id -> last acknowledged mutation id
    refused: list[str] = field(default_factory=list)  # answers other than 2xx while the server was up
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set on every acknowledgement

    def message(self, sent: SentMessage) -> None:
        self.messages.append(sent)
        self.changed.set()

    def item(self, item_id: str) -> None:
        self.items.append(item_id)
        self.changed.set()

    def sale(self, sale_id: str) -> None:
        self.sales.append(sale_id)
        self.changed.set()

    def push(self, client: str, last_mutation_id: int) -> None:
        self.pushes[client] = last_mutation_id
        self.changed.set()

    def counts(self) -> tuple[int, int, int, int]:
        """Acknowledged messages, items, sales and sync clients (each cycle pushes with new ones)."""
        return len(self.messages), len(self.items), len(self.sales), len(self.pushes)

    def grew_since(self, before: tuple[int, int, int, int]) -> bool:
        """Has every kind of write been acknowledged since `before`?"""
        return all(now > then for now, then in zip(self.counts(), before, strict=True))

    async def every_kind_since(self, before: tuple[int, int, int, int]) -> None:
        """Return once every kind of write has been acknowledged since `before`."""
        while not self.grew_since(before):
            self.changed.clear()
            await self.changed.wait()


@dataclass
class Load:
    """What every load task shares: the connection, the market, the deadline, the record."""

    http: httpx.AsyncClient
    market: Market
    acks: Acks
    deadline: float

    def on(self) -> bool:
        return time.monotonic() < self.deadline

    def accepted(self, response: httpx.Response, what: str) -> bool:
        if response.is_success:
            return True
        self.acks.refused.append(f"{what}: {response.status_code} {response.text[:300]}")
        return False

    async def new_visitor(self) -> str | None:
        response = await self.http.post("/api/devices")
        return str(response.json()["token"]) if self.accepted(response, "new device") else None


# --- the server process and the database -----------------------------------------------------


@dataclass
class Servers:
    """Every `souk serve` this test started, so a failing test leaves none running."""

    settings: Settings
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def start(self) -> tuple[subprocess.Popen[bytes], str]:
        process, base = await asyncio.to_thread(start_server, self.settings, SOUK_RATE_LIMIT_FACTOR="1000")
        self.started.append(process)
        return process, base

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


async def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server: no handler, no flush, no goodbye to the database.

    `souk serve` with one worker (the default, and what start_server runs on either database)
    serves in this very process, so on PostgreSQL this is the worker holding the connections."""
    process.kill()
    await asyncio.to_thread(process.wait, 10)


@asynccontextmanager
async def tables_bound(settings: Settings) -> AsyncIterator[None]:
    """The Piccolo tables pointed at the test database from this (test) process."""
    engine = build_engine(settings)
    await start_engine(engine)
    bind_tables(engine)
    try:
        yield
    finally:
        await stop_engine(engine)


def sqlite_integrity(path: Path) -> str:
    """`PRAGMA integrity_check`'s verdict: "ok", or what it found wrong (or why it could not run)."""
    try:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
    except sqlite3.DatabaseError as exc:
        return f"{type(exc).__name__}: {exc}"


# --- the market ------------------------------------------------------------------------------


async def seed_market(settings: Settings, base: str) -> Market:
    """Organizer, event, two vendors whose stalls each list a few items in deep stock."""
    async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT) as http:
        async with tables_bound(settings):  # the organizer account is made directly, as the CLI does
            organizer = await make_organizer(http, "org@example.org")
        response = await http.post("/api/events", json=EVENT_BODY, headers=organizer)
        assert response.status_code == 201, response.text
        sellers = []
        for n in (1, 2):
            headers, stall = await make_vendor(http, organizer, EVENT_BODY["slug"], n)
            listed = []
            for k in range(SEEDED_ITEMS):
                item = {"title": f"Honey jar {k}", "price": 450, "quantity": STOCK}
                response = await http.post(f"/api/stalls/{stall['code']}/items", json=item, headers=headers)
                assert response.status_code == 201, response.text
                listed.append(str(response.json()["id"]))
            sellers.append(Seller(headers, str(stall["code"]), tuple(listed)))
    return Market(tuple(sellers))


# --- the load: each task repeats one kind of write until the deadline or the server is gone ---


async def chat_sender(load: Load, n: int) -> None:
    """Visitors one after another, each chatting with both stalls until near the flood limit.

    The conversation id is chosen here and the stall named until the first send is acknowledged,
    as the app does when a visitor starts a conversation offline."""
    while load.on():
        visitor = await load.new_visitor()
        if visitor is None:
            return
        conversations = {seller.stall: str(uuid.uuid4()) for seller in load.market.sellers}
        opened: set[str] = set()
        for k in range(SENDS_PER_DEVICE):
            if not load.on():
                return
            stall = load.market.sellers[(n + k) % len(load.market.sellers)].stall
            conversation = conversations[stall]
            message = {"message_id": str(uuid.uuid4()), "body": f"Still there? ({n}/{k})"}
            if conversation not in opened:
                message["stall_code"] = stall
            response = await load.http.post(
                f"/api/conversations/{conversation}/messages", json=message, headers=bearer(visitor)
            )
            if not load.accepted(response, "chat send"):
                return
            opened.add(conversation)
            load.acks.message(SentMessage(message["message_id"], conversation, visitor))


async def pusher(load: Load, n: int) -> None:
    """Visitors whose outbox pushes queued messages in batches, mutation ids counting up."""
    stall = load.market.sellers[n % len(load.market.sellers)].stall
    while load.on():
        visitor = await load.new_visitor()
        if visitor is None:
            return
        client, conversation = str(uuid.uuid4()), str(uuid.uuid4())
        for first in range(1, SENDS_PER_DEVICE - PUSH_BATCH + 2, PUSH_BATCH):
            if not load.on():
                return
            ids = {m: str(uuid.uuid4()) for m in range(first, first + PUSH_BATCH)}
            mutations = [
                {
                    "id": m,
                    "name": "send_message",
                    "args": {"conversation_id": conversation, "message_id": message_id, "body": f"Queued {m}"}
                    | ({"stall_code": stall} if m == 1 else {}),
                }
                for m, message_id in ids.items()
            ]
            body = {"client_id": client, "mutations": mutations}
            response = await load.http.post("/api/sync/push", json=body, headers=bearer(visitor))
            if not load.accepted(response, "sync push"):
                return
            result = response.json()
            for outcome in result["results"]:
                if outcome["status"] != "applied":
                    load.acks.refused.append(f"pushed mutation {outcome}")
                    return
                load.acks.message(SentMessage(ids[outcome["id"]], conversation, visitor))
            load.acks.push(client, int(result["last_mutation_id"]))


async def lister(load: Load, seller: Seller) -> None:
    """A vendor listing new items, each with an id made on the phone."""
    while load.on():
        item_id = str(uuid.uuid4())
        item = {"id": item_id, "title": "Beeswax candle", "price": 300, "quantity": 5}
        response = await load.http.post(f"/api/stalls/{seller.stall}/items", json=item, headers=seller.headers)
        if not load.accepted(response, "item creation"):
            return
        load.acks.item(item_id)


async def cashier(load: Load, seller: Seller) -> None:
    """A vendor ringing up sales of the stocked items, each with a sale id made on the phone."""
    k = 0
    while load.on():
        sale_id, item = str(uuid.uuid4()), seller.items[k % len(seller.items)]
        k += 1
        response = await load.http.post(
            f"/api/items/{item}/sell", json={"sale_id": sale_id, "quantity": 1}, headers=seller.headers
        )
        if not load.accepted(response, "sale"):
            return
        load.acks.sale(sale_id)


async def until_cut_off(task: Awaitable[None]) -> None:
    """Run a load task; a failed connection ends it (the server is gone) and is no error."""
    with contextlib.suppress(httpx.TransportError):
        await task


@dataclass
class InFlight:
    """Requests sent whose answer has not come back (yet): those a kill cuts off."""

    count: int = 0

    async def sent(self, _: httpx.Request) -> None:
        self.count += 1

    async def answered(self, _: httpx.Response) -> None:
        self.count -= 1


@dataclass(frozen=True)
class Kill:
    after: float  # seconds into the load
    in_flight: int  # requests the server had not answered


async def load_and_kill(base: str, market: Market, acks: Acks, process: subprocess.Popen[bytes], at: float) -> Kill:
    """Drive the mixed load and SIGKILL the server `at` seconds into it (or once every kind of
    write has been acknowledged in this load, if that takes longer), mid-request."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    pending = InFlight()
    hooks: dict[str, list[Any]] = {"request": [pending.sent], "response": [pending.answered]}
    async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT, limits=limits, event_hooks=hooks) as http:
        load = Load(http, market, acks, time.monotonic() + LOAD_SECONDS)
        work: list[Awaitable[None]] = [chat_sender(load, n) for n in range(CHAT_SENDERS)]
        work += [pusher(load, n) for n in range(PUSHERS)]
        work += [lister(load, seller) for seller in market.sellers]
        work += [cashier(load, seller) for seller in market.sellers]
        before, started = acks.counts(), time.monotonic()
        tasks = [asyncio.create_task(until_cut_off(task)) for task in work]
        await asyncio.sleep(at)
        with contextlib.suppress(TimeoutError):  # then the check after the kill says what is missing
            await asyncio.wait_for(acks.every_kind_since(before), KILL_BY - at)
        cut = Kill(time.monotonic() - started, pending.count)
        await kill(process)
        await asyncio.gather(*tasks)
    return cut


# --- the checks after a restart --------------------------------------------------------------


async def check_acknowledged_writes_readable(base: str, acks: Acks) -> None:
    """Each acknowledged message reads back for its sender; each acknowledged item reads back."""
    by_conversation: dict[tuple[str, str], set[str]] = defaultdict(set)
    for message in acks.messages:
        by_conversation[(message.conversation, message.sender)].add(message.id)
    async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT) as http:
        for (conversation, sender), sent in by_conversation.items():
            response = await http.get(
                f"/api/conversations/{conversation}/messages", params={"limit": 500}, headers=bearer(sender)
            )
            assert response.status_code == 200, f"conversation {conversation}: {response.text}"
            missing = sent - {str(stored["id"]) for stored in response.json()}
            assert not missing, f"acknowledged messages lost in conversation {conversation}: {sorted(missing)}"
        answers = await get_all(http, [f"/api/items/{item}" for item in acks.items])
        lost = [item for item, answer in zip(acks.items, answers, strict=True) if answer.status_code != 200]
        assert not lost, f"acknowledged items lost: {lost}"


async def get_all(http: httpx.AsyncClient, paths: list[str], width: int = 8) -> list[httpx.Response]:
    """GET each path, a few at a time."""
    gate = asyncio.Semaphore(width)

    async def get(path: str) -> httpx.Response:
        async with gate:
            return await http.get(path)

    return list(await asyncio.gather(*(get(path) for path in paths)))


async def ids_of(table: type[Table]) -> set[str]:
    return {str(row["id"]) for row in await table.select(table._meta.primary_key)}


async def check_database(settings: Settings, market: Market, acks: Acks) -> None:
    """The stored data is whole: sales with their stock, pushes remembered, a gapless change log
    that names every stored message, conversation, item and sale."""
    async with tables_bound(settings):
        sales = await Sale.select(Sale.id, Sale.item, Sale.quantity)
        lost_sales = set(acks.sales) - {str(sale["id"]) for sale in sales}
        assert not lost_sales, f"acknowledged sales lost: {sorted(lost_sales)}"
        sold: dict[str, int] = defaultdict(int)
        for sale in sales:
            sold[str(sale["item"])] += int(sale["quantity"])
        for item_id in (item for seller in market.sellers for item in seller.items):
            row = await Item.select(Item.quantity).where(Item.id == item_id).first()
            assert row is not None
            assert int(row["quantity"]) + sold[item_id] == STOCK, f"item {item_id}: sales and stock disagree"

        remembered = {str(row["id"]): int(row["last_mutation_id"]) for row in await SyncClient.select()}
        behind = {c: last for c, last in acks.pushes.items() if remembered.get(c, 0) < last}
        assert not behind, f"sync clients whose acknowledged mutations are forgotten: {behind}"

        head = await LogHead.select(LogHead.seq, LogHead.floor).where(LogHead.id == 1).first()
        assert head is not None, "the log head row is gone"
        top, floor = int(head["seq"]), int(head["floor"])
        assert floor == 0, "nothing compacts the log in this test"
        seqs = [int(row["seq"]) for row in await ChangeLog.select(ChangeLog.seq).order_by(ChangeLog.seq)]
        assert seqs == list(range(floor + 1, top + 1)), describe_gaps(seqs, floor, top)

        logged = {
            (row["entity"], row["entity_id"]) for row in await ChangeLog.select(ChangeLog.entity, ChangeLog.entity_id)
        }
        for table, entity in ((Message, "message"), (Conversation, "conversation"), (Item, "item"), (Sale, "sale")):
            unlogged = {row_id for row_id in await ids_of(table) if (entity, row_id) not in logged}
            assert not unlogged, f"{entity} rows without a change-log entry: {sorted(unlogged)[:10]}"


def describe_gaps(seqs: list[int], floor: int, top: int) -> str:
    expected = set(range(floor + 1, top + 1))
    missing, extra = sorted(expected - set(seqs)), sorted(set(seqs) - expected)
    return f"change log is not {floor + 1}..{top}: missing {missing[:20]}, beyond the head {extra[:20]}"


async def check_after_restart(settings: Settings, base: str, market: Market, acks: Acks) -> None:
    await check_acknowledged_writes_readable(base, acks)
    await check_database(settings, market, acks)
    if settings.is_sqlite:
        verdict = sqlite_integrity(settings.sqlite_path)
        assert verdict == "ok", f"PRAGMA integrity_check: {verdict}"


async def check_serves_writes(base: str, market: Market) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT) as http:
        visitor = (await http.post("/api/devices")).json()["token"]
        stall = market.sellers[0].stall
        message = {"message_id": str(uuid.uuid4()), "body": "Open again?", "stall_code": stall}
        response = await http.post(f"/api/conversations/{uuid.uuid4()}/messages", json=message, headers=bearer(visitor))
        assert response.status_code == 201, response.text


# --- the test --------------------------------------------------------------------------------


async def test_killed_server_keeps_every_acknowledged_write(db: Settings) -> None:
    servers, acks = Servers(db), Acks()
    try:
        process, base = await servers.start()
        market = await seed_market(db, base)
        for at in KILL_MOMENTS:
            before = acks.counts()
            cut = await load_and_kill(base, market, acks, process, at)
            assert not acks.refused, f"the server refused part of the load: {acks.refused[:5]}"
            assert acks.grew_since(before), f"each kind of write must be acknowledged: {acks.counts()} vs {before}"
            assert cut.in_flight > 0, "the kill must cut off requests in flight"
            process, base = await servers.start()
            await check_after_restart(db, base, market, acks)
            messages, items, sales, pushes = acks.counts()
            print(
                f"killed {cut.after:.2f} s into the load with {cut.in_flight} requests in flight; acknowledged so far "
                f"{messages} messages, {items} items, {sales} sales, {pushes} sync clients: all there"
            )
        await check_serves_writes(base, market)
    finally:
        servers.stop_all()
