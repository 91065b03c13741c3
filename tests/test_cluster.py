"""Issue 12's scale-out test: three real `souk serve` processes ("machines", each with its own
data dir) on one PostgreSQL and one Redis.

- a visitor's socket on node 1 receives a vendor's messages sent through node 3, in order, once;
- an item created through node 1 is found by search on node 2 within 2 s, and the photo uploaded
  on node 1 for it is served by node 3, byte for byte;
- a sync push on node 2 and a pull on node 3 agree;
- node 2 is SIGKILLed during a mixed write load (items, chat, sync pushes; on node 2 and on the
  others): every acknowledged write is there, node 2's clients retry their unanswered request on
  node 1 with the same ids (applied exactly once) and carry on there, node 2's socket reconnects to
  node 1 and catches up by sequence, node 2's market-wide jobs are taken over, and node 2
  restarted on its data dir catches up (its search finds what was written while it was down)
  without rebuilding its index.

Run it with SOUK_TEST_DATABASE_URL (PostgreSQL) and Redis on 127.0.0.1:6379; on SQLite it skips.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets
from PIL import Image

from search.machine import INDEX_ID_FILE
from server.settings import Settings
from server.tables import ChangeLog, Item, Message, Sale
from server.webpush.keys import PRIVATE_KEY_FILE, load_or_create_vapid_keys
from tests.conftest import EVENT_BODY, TEST_DATABASE_URL, bearer, make_organizer, make_vendor, start_server
from tests.test_chat_realtime import Socket

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="several nodes need PostgreSQL (SQLite is one process by design); set SOUK_TEST_DATABASE_URL",
)

# A Redis database of its own (other tests use 0), flushed first: rate-limit counts of an earlier
# run must not refuse this one's requests. (Pub/sub channels span databases; ours are per id.)
REDIS_URL = "redis://127.0.0.1:6379/12"
PUBLIC_URL = "https://market.example.org"
EVENT = EVENT_BODY["slug"]
MARKET_JOBS = {"webpush", "reservation-sweeper"}  # run by one node at a time (server/cluster_jobs.py)
SEARCH_DEADLINE = 2.0  # the "found by search on node 2 within 2 s"


# -- the cluster --------------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    data_dir: Path
    process: Any
    base: str


class Cluster:
    """Nodes on separate data dirs sharing what a scale-out market shares: the database, Redis,
    the public URL, the signing secret and the VAPID key."""

    def __init__(self, db: Settings, root: Path) -> None:
        self.db = db
        self.root = root
        self.nodes: dict[str, Node] = {}
        self.shared = {
            "SOUK_BASE_URL": PUBLIC_URL,  # the proxy in front of them all: links and QR codes name it
            "SOUK_REDIS_URL": REDIS_URL,
            "SOUK_SECRET_KEY": "three-nodes-one-secret",
            "SOUK_PHOTO_STORE": "database",
        }
        load_or_create_vapid_keys(root / "vapid")

    async def start(self, name: str) -> Node:
        folder = self.root / f"node{name}"
        if not folder.exists():
            folder.mkdir()
            shutil.copy(self.root / "vapid" / PRIVATE_KEY_FILE, folder / PRIVATE_KEY_FILE)
        # In a thread: the other nodes' clients and sockets carry on while this one starts.
        process, base = await asyncio.to_thread(start_server, self.db, SOUK_DATA_DIR=str(folder), **self.shared)
        self.nodes[name] = Node(name, folder, process, base)
        return self.nodes[name]

    def kill(self, name: str) -> None:
        process = self.nodes[name].process
        process.kill()  # SIGKILL: no lifespan shutdown, no socket closes, no goodbye
        process.wait(timeout=10)

    def stop(self) -> None:
        for node in self.nodes.values():
            if node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes.values():
            try:
                node.process.wait(timeout=20)
            except Exception:
                node.process.kill()
                node.process.wait(timeout=10)


def _health(base: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/health", timeout=5)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
    """Poll `check` until true; returns the seconds it took (fails after `within`)."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


# -- the market ---------------------------------------------------------------------------------


@dataclass
class Market:
    organizer: dict[str, str]
    vendor: dict[str, str]  # stall 1
    stall: str
    other_vendor: dict[str, str]  # stall 2
    other_stall: str
    visitor_tokens: list[str] = field(default_factory=list)


async def _market(base: str) -> Market:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        organizer = await make_organizer(http, "org@example.org")
        r = await http.post("/api/events", json=EVENT_BODY, headers=organizer)
        assert r.status_code == 201, r.text
        vendor, stall = await make_vendor(http, organizer, EVENT, 1)
        other_vendor, other_stall = await make_vendor(http, organizer, EVENT, 2)
        visitors = [(await http.post("/api/devices")).json()["token"] for _ in range(2)]
    return Market(organizer, vendor, stall["code"], other_vendor, other_stall["code"], visitors)


async def _socket(base: str, token: str, stack: AsyncExitStack) -> Socket:
    url = base.replace("http", "ws", 1) + "/api/live"
    connection = await stack.enter_async_context(websockets.connect(url, open_timeout=10))
    await connection.send(json.dumps({"type": "auth", "token": token, "event": EVENT}))
    socket = Socket(connection)
    await socket.next("ready", within=10)
    return socket


async def _open_conversation(base: str, stall: str, visitor: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        r = await http.post("/api/conversations", json={"stall_code": stall}, headers=visitor)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def _photo() -> bytes:
    """A JPEG with detail in it (so every size differs), as a phone would send."""
    noise = [Image.effect_noise((1200, 900), sigma) for sigma in (40, 60, 80)]
    buffer = io.BytesIO()
    Image.merge("RGB", noise).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def _search_ids(http: httpx.AsyncClient, base: str, q: str) -> set[str]:
    """The ids of every item a search finds (all pages)."""
    ids: set[str] = set()
    while True:
        r = await http.get(f"{base}/api/events/{EVENT}/search", params={"q": q, "limit": 100, "offset": len(ids)})
        assert r.status_code == 200, r.text
        ids |= {hit["id"] for hit in r.json()["hits"]}
        if not r.json()["hits"] or len(ids) >= r.json()["total"]:
            return ids


async def _pull_all(
    http: httpx.AsyncClient, base: str, headers: dict[str, str], cursor: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        r = await http.post(f"{base}/api/sync/pull", json={"event": EVENT, "cursor": cursor}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body["reset"], body
        changes += body["changes"]
        cursor = str(body["cursor"])
        if not body["has_more"]:
            return changes, cursor


def _replica(changes: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """What a client holds after applying pulled records: newest version wins, deletes remove."""
    state: dict[tuple[str, str], Any] = {}
    versions: dict[tuple[str, str], int] = {}
    for change in changes:
        key = (change["entity"], change["id"])
        if change["entity"] != "totals" and versions.get(key, -1) > change["version"]:
            continue
        versions[key] = change["version"]
        if change["op"] == "delete":
            state.pop(key, None)
        else:
            state[key] = change["data"]
    return state


def _differences(a: dict[tuple[str, str], Any], b: dict[tuple[str, str], Any]) -> list[Any]:
    """The records two replicas disagree on, field by field (for failure messages)."""
    found: list[Any] = []
    for key in sorted(a.keys() | b.keys()):
        left, right = a.get(key), b.get(key)
        if left != right:
            if isinstance(left, dict) and isinstance(right, dict):
                fields = sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
                found.append((key, {k: (left.get(k), right.get(k)) for k in fields}))
            else:
                found.append((key, left, right))
    return found


# -- 1. chat across nodes -----------------------------------------------------------------------


async def _chat_across_nodes(node1: Node, node3: Node, m: Market) -> None:
    visitor = bearer(m.visitor_tokens[0])
    conversation = await _open_conversation(node1.base, m.stall, visitor)
    async with AsyncExitStack() as stack, httpx.AsyncClient(base_url=node3.base, timeout=10) as http:
        socket = await _socket(node1.base, m.visitor_tokens[0], stack)
        bodies = [f"Reply {n}: yes, still {10 - n} jars" for n in range(8)] + ["That's all"]
        sent = []
        for body in bodies:
            r = await http.post(
                f"/api/conversations/{conversation}/messages",
                json={"message_id": str(uuid.uuid4()), "body": body},
                headers=m.vendor,
            )
            assert r.status_code == 201, r.text
            sent.append((r.json()["id"], r.json()["seq"]))
        received: list[dict[str, Any]] = []
        while not received or received[-1]["body"] != bodies[-1]:
            try:
                received.append((await socket.next("message", within=10))["message"])
            except TimeoutError:
                got = [message["body"] for message in received]
                raise AssertionError(f"node 1's socket got {got} of the messages sent through node 3") from None
        assert [message["body"] for message in received] == bodies  # in order, none lost, none twice
        assert [(message["id"], message["seq"]) for message in received] == sent
        assert [seq for _, seq in sent] == list(range(1, len(bodies) + 1))
        # Once: no late second copy (another node relaying it too) follows.
        with pytest.raises(TimeoutError):
            extra = await socket.next("message", within=0.5)
            raise AssertionError(f"a message arrived twice: {extra}")


# -- 2. search and photos across nodes ----------------------------------------------------------


async def _search_and_photos(node1: Node, node2: Node, node3: Node, m: Market) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        photo = _photo()
        r = await http.post(
            f"{node1.base}/api/photos", files={"file": ("honey.jpg", photo, "image/jpeg")}, headers=m.vendor
        )
        assert r.status_code == 201, r.text
        uploaded = r.json()["photo"]
        r = await http.post(
            f"{node1.base}/api/stalls/{m.stall}/items",
            json={"title": "Heather honey quillberry", "price": 650, "photo_keys": [uploaded["key"]]},
            headers=m.vendor,
        )
        assert r.status_code == 201, r.text
        acknowledged = time.monotonic()
        item = r.json()["id"]

        hits: list[dict[str, Any]] = []

        async def found_on_node2() -> bool:
            nonlocal hits
            r = await http.get(f"{node2.base}/api/events/{EVENT}/search", params={"q": "quillberry"})
            assert r.status_code == 200, r.text
            hits = [hit for hit in r.json()["hits"] if hit["id"] == item]
            return bool(hits)

        try:
            await _until(found_on_node2, SEARCH_DEADLINE - (time.monotonic() - acknowledged), "search on node 2")
        except AssertionError:
            raise AssertionError(
                f"node 2 did not find the item created on node 1 within {SEARCH_DEADLINE} s; "
                f"node 2's health: {_health(node2.base)}"
            ) from None
        took = time.monotonic() - acknowledged
        assert took <= SEARCH_DEADLINE, took
        assert hits[0]["photo"] == uploaded["thumb"]

        # Node 3 serves what node 1 accepted: every size, byte for byte.
        for size in ("thumb", "detail", "original"):
            from1, from3 = await http.get(node1.base + uploaded[size]), await http.get(node3.base + uploaded[size])
            assert from1.status_code == from3.status_code == 200, (size, from3.text)
            assert from3.content == from1.content, size
            assert from3.headers["etag"] == from1.headers["etag"], size
        original = (await http.get(node3.base + uploaded["original"])).content
        assert hashlib.sha256(original).hexdigest() == uploaded["key"]


# -- 3. sync across nodes -----------------------------------------------------------------------


async def _sync_across_nodes(node2: Node, node3: Node, m: Market) -> None:
    visitor = bearer(m.visitor_tokens[1])
    async with httpx.AsyncClient(timeout=10) as http:
        before, cursor = await _pull_all(http, node3.base, visitor)  # a visitor's phone, on node 3
        item, sale = str(uuid.uuid4()), str(uuid.uuid4())
        mutations = [
            ("create_item", {"stall_code": m.other_stall, "id": item, "title": "Offline teapot", "price": 2400}),
            ("update_item", {"id": item, "quantity": 3, "description": "Blue glaze"}),
            ("sell_item", {"id": item, "sale_id": sale, "quantity": 1}),
        ]
        body = {
            "client_id": str(uuid.uuid4()),
            "mutations": [{"id": n, "name": name, "args": args} for n, (name, args) in enumerate(mutations, 1)],
        }
        r = await http.post(f"{node2.base}/api/sync/push", json=body, headers=m.other_vendor)  # the vendor's tablet
        assert r.status_code == 200, r.text
        assert r.json()["last_mutation_id"] == 3
        assert [outcome["status"] for outcome in r.json()["results"]] == ["applied"] * 3, r.json()

        after3, _ = await _pull_all(http, node3.base, visitor, cursor)
        after2, _ = await _pull_all(http, node2.base, visitor, cursor)  # node 3's cursor is good on node 2
        assert after3 == after2
        pulled = _replica(after3)[("item", item)]
        assert (pulled["title"], pulled["description"], pulled["price"], pulled["quantity"], pulled["state"]) == (
            "Offline teapot",
            "Blue glaze",
            2400,
            2,
            "available",
        )
        # The push answered again from node 3 (a retry after a lost response): the same answer.
        again = await http.post(f"{node3.base}/api/sync/push", json=body, headers=m.other_vendor)
        assert again.status_code == 200 and again.json() == r.json()
        # A phone starting afresh on either node holds the same market.
        fresh3, _ = await _pull_all(http, node3.base, visitor)
        fresh2, _ = await _pull_all(http, node2.base, visitor)
        followed = {**_replica(before), **_replica(after3)}
        assert _replica(fresh3) == _replica(fresh2), _differences(_replica(fresh3), _replica(fresh2))
        assert _replica(fresh3) == followed, _differences(_replica(fresh3), followed)
    assert await Sale.count().where(Sale.item == uuid.UUID(item)) == 1


# -- 4. node 2 dies under load ------------------------------------------------------------------


@dataclass
class Client:
    """One device of the load: talks to `base` until that node dies, then to `fallback`."""

    name: str
    base: str
    fallback: str
    http: httpx.AsyncClient
    acknowledged: int = 0  # writes answered 2xx
    acknowledged_before_kill: int = 0
    retried: int = 0  # requests sent again, unchanged, to the fallback node
    moved: bool = False

    async def send(self, method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """Send one write until a node answers it; the very same request goes to the fallback."""
        for _ in range(2):
            try:
                r = await self.http.request(method, self.base + path, json=body, headers=headers)
            except httpx.TransportError:
                if self.moved:
                    raise
                self.base, self.moved = self.fallback, True
                self.retried += 1
                continue
            assert 200 <= r.status_code < 300, (self.name, self.base, path, r.status_code, r.text)
            self.acknowledged += 1
            return r
        raise AssertionError("unreachable")


@dataclass
class Load:
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    most_before_kill: int = 8  # a client that is this far waits for the kill (the flood limits stay far)
    after_kill: int = 4  # each client writes this many more times once node 2 is gone
    items: dict[str, str] = field(default_factory=dict)  # acknowledged REST items: id -> title
    sync_items: dict[str, str] = field(default_factory=dict)  # acknowledged sync-created items: id -> sale id
    messages: dict[str, int] = field(default_factory=dict)  # acknowledged messages: id -> seq
    written_while_down: set[str] = field(default_factory=set)  # item ids first acknowledged after the kill


async def _keep_writing(client: Client, load: Load, write: Callable[[int], Awaitable[str | None]]) -> None:
    """Write n = 0, 1, 2, ... until `after_kill` writes were acknowledged after the kill."""
    left_after_kill = load.after_kill
    n = 0
    while left_after_kill > 0:
        if n >= load.most_before_kill and not load.killed.is_set():
            await load.killed.wait()
        item = await write(n)
        if load.killed.is_set():
            left_after_kill -= 1
            if item is not None:
                load.written_while_down.add(item)
        else:
            client.acknowledged_before_kill = client.acknowledged
        n += 1


async def _items_writer(client: Client, load: Load, stall: str, vendor: dict[str, str]) -> None:
    async def create(n: int) -> str:
        item, title = str(uuid.uuid4()), f"Gooseberry jar {client.name} {n}"
        r = await client.send("POST", f"/api/stalls/{stall}/items", {"id": item, "title": title, "price": 300}, vendor)
        assert r.json()["id"] == item and r.json()["title"] == title
        load.items[item] = title
        return item

    await _keep_writing(client, load, create)


async def _chat_writer(client: Client, load: Load, conversation: str, sender: dict[str, str]) -> None:
    async def send(n: int) -> None:
        message = str(uuid.uuid4())
        body = {"message_id": message, "body": f"{client.name} says {n}"}
        r = await client.send("POST", f"/api/conversations/{conversation}/messages", body, sender)
        assert r.json()["id"] == message
        load.messages[message] = r.json()["seq"]

    await _keep_writing(client, load, send)


async def _sync_writer(client: Client, load: Load, stall: str, vendor: dict[str, str]) -> None:
    """A tablet pushing its offline queue: each push creates an item and sells one of it."""
    client_id = str(uuid.uuid4())

    async def push(n: int) -> str:
        item, sale = str(uuid.uuid4()), str(uuid.uuid4())
        create = {"stall_code": stall, "id": item, "title": f"Synced plate {n}", "price": 900, "quantity": 3}
        body = {
            "client_id": client_id,
            "mutations": [
                {"id": 2 * n + 1, "name": "create_item", "args": create},
                {"id": 2 * n + 2, "name": "sell_item", "args": {"id": item, "sale_id": sale, "quantity": 1}},
            ],
        }
        r = await client.send("POST", "/api/sync/push", body, vendor)
        assert r.json()["last_mutation_id"] == 2 * n + 2, r.json()
        assert [outcome["status"] for outcome in r.json()["results"]] == ["applied", "applied"], r.json()
        load.sync_items[item] = sale
        return item

    await _keep_writing(client, load, push)


@dataclass
class Listener:
    """A visitor's socket: on node 2, then (when that dies) on node 1, catching up by sequence."""

    seqs_by_connection: list[list[int]] = field(default_factory=lambda: [[]])
    caught_up: list[int] = field(default_factory=list)
    reconnected_to: str = ""

    @property
    def seen(self) -> set[int]:
        return {seq for seqs in self.seqs_by_connection for seq in seqs} | set(self.caught_up)

    @property
    def complete_up_to(self) -> int:
        """The last seq up to which nothing is missing: where a client catches up from."""
        seen, last = self.seen, 0
        while last + 1 in seen:
            last += 1
        return last


async def _listen(
    listener: Listener, first: Socket, fallback: str, token: str, conversation: str, until: Callable[[], bool]
) -> None:
    socket = first
    async with AsyncExitStack() as stack, httpx.AsyncClient(base_url=fallback, timeout=10) as http:
        while not until():
            try:
                frame = await socket.next("message", within=0.2)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                assert not listener.reconnected_to, "the socket on node 1 closed too"
                socket = await _socket(fallback, token, stack)
                listener.reconnected_to = fallback
                listener.seqs_by_connection.append([])
                # What was sent while no socket was open (or whose frame died with node 2).
                r = await http.get(
                    f"/api/conversations/{conversation}/messages",
                    params={"after_seq": listener.complete_up_to},
                    headers=bearer(token),
                )
                assert r.status_code == 200, r.text
                listener.caught_up += [message["seq"] for message in r.json()]
                continue
            listener.seqs_by_connection[-1].append(frame["message"]["seq"])


async def _kill_during_load(cluster: Cluster, m: Market) -> None:
    node1, node2, node3 = (cluster.nodes[name] for name in "123")
    visitor_token = m.visitor_tokens[1]
    visitor = bearer(visitor_token)
    conversation = await _open_conversation(node2.base, m.stall, visitor)
    assert set(_health(node2.base)["jobs"]) == MARKET_JOBS
    search_before = _health(node2.base)["search"]
    assert (search_before["engine"], search_before["role"]) == ("embedded", "writer"), search_before
    assert search_before["indexed_seq"] > 0, search_before
    index_id = (node2.data_dir / "search" / INDEX_ID_FILE).read_text()
    load = Load()
    listener = Listener()
    async with AsyncExitStack() as stack, httpx.AsyncClient(timeout=10) as http:
        socket = await _socket(node2.base, visitor_token, stack)
        # Node 2's clients (moving to node 1 when it dies), and clients of nodes 1 and 3 alongside.
        on_node2 = [
            Client("items@2", node2.base, node1.base, http),
            Client("chat@2", node2.base, node1.base, http),
            Client("sync@2", node2.base, node1.base, http),
        ]
        others = [Client("items@1", node1.base, node1.base, http), Client("chat@3", node3.base, node3.base, http)]
        writers = [
            _items_writer(on_node2[0], load, m.stall, m.vendor),
            _chat_writer(on_node2[1], load, conversation, visitor),
            _sync_writer(on_node2[2], load, m.other_stall, m.other_vendor),
            _items_writer(others[0], load, m.other_stall, m.other_vendor),
            _chat_writer(others[1], load, conversation, m.vendor),
        ]
        tasks = [asyncio.create_task(writer) for writer in writers]
        listening = asyncio.create_task(
            _listen(
                listener,
                socket,
                node1.base,
                visitor_token,
                conversation,
                lambda: all(task.done() for task in tasks) and set(load.messages.values()) <= listener.seen,
            )
        )
        try:
            # Mid-load: once every client of node 2 has had a few writes acknowledged there.
            async def loaded() -> bool:
                if any(task.done() for task in tasks):
                    await asyncio.gather(*tasks)  # a writer failed early: show why
                return all(client.acknowledged >= 3 for client in on_node2)

            await _until(loaded, 20, "load on node 2")
            cluster.kill("2")
            load.killed.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            await asyncio.wait([listening], timeout=15)
            if not listening.done():
                expected = sorted(load.messages.values())
                raise AssertionError(f"the visitor's socket saw {sorted(listener.seen)} of {expected}: {listener}")
            listening.result()
        finally:
            for task in [*tasks, listening]:
                task.cancel()
            await asyncio.gather(*tasks, listening, return_exceptions=True)

    # Node 2's clients went on on node 1; every one of them had writes acknowledged by node 2.
    for client in on_node2:
        assert client.moved and client.retried == 1 and client.base == node1.base, client
        assert client.acknowledged_before_kill >= 3, client
        assert client.acknowledged - client.acknowledged_before_kill >= load.after_kill, client

    # Every acknowledged write is in the database, once, and node 1 shows it.
    stall_items = {}
    async with httpx.AsyncClient(base_url=node1.base, timeout=10) as http:
        for stall in (m.stall, m.other_stall):
            r = await http.get(f"/api/stalls/{stall}/items")
            assert r.status_code == 200, r.text
            stall_items.update({item["id"]: item for item in r.json()})
        for item, title in load.items.items():
            assert stall_items[item]["title"] == title
        for item in load.sync_items:
            assert stall_items[item]["quantity"] == 2, stall_items[item]  # created with 3, sold 1: once
        r = await http.get(f"/api/conversations/{conversation}/messages", headers=visitor)
        assert r.status_code == 200, r.text
        stored = {message["id"]: message["seq"] for message in r.json()}
        assert stored == load.messages  # every acknowledged message, with the seq it was acknowledged with
        assert sorted(stored.values()) == list(range(1, len(stored) + 1))
    # Nothing was written twice: exactly the acknowledged rows exist.
    load_titles = await Item.select(Item.id).where(Item.title.like("Gooseberry jar %"))
    assert {str(row["id"]) for row in load_titles} == set(load.items)
    synced = await Item.select(Item.id).where(Item.title.like("Synced plate %"))
    assert {str(row["id"]) for row in synced} == set(load.sync_items)
    sync_ids = [uuid.UUID(item) for item in load.sync_items]
    assert await Sale.count().where(Sale.item.is_in(sync_ids)) == len(load.sync_items)
    assert await Message.count().where(Message.conversation == uuid.UUID(conversation)) == len(load.messages)

    # The socket: live on node 2 until the kill, then on node 1 after catching up by sequence.
    assert listener.reconnected_to == node1.base
    for seqs in listener.seqs_by_connection:
        assert len(seqs) == len(set(seqs)), seqs  # no frame twice on one socket
    assert listener.seqs_by_connection[0], "node 2's socket received nothing before the kill"
    assert listener.seen == set(range(1, len(load.messages) + 1))

    # Node 2's market-wide jobs are taken over, each by exactly one of the survivors.
    async def jobs_held() -> bool:
        held = [job for node in (node1, node3) for job in _health(node.base)["jobs"]]
        assert len(held) == len(set(held)), held
        return set(held) == MARKET_JOBS

    await _until(jobs_held, 15, "the market-wide jobs on the surviving nodes")

    # Node 2 comes back on its data dir and catches up with what happened while it was down:
    # from its index's saved cursor, not by building a new index from the tables.
    assert load.written_while_down
    node2 = await cluster.start("2")
    everything = set(load.items) | set(load.sync_items)
    async with httpx.AsyncClient(timeout=10) as http:

        async def caught_up() -> bool:
            found = await _search_ids(http, node2.base, "gooseberry") | await _search_ids(http, node2.base, "synced")
            return everything <= found

        await _until(caught_up, 10, "node 2's search after its restart")
    search = _health(node2.base)["search"]
    assert (search["engine"], search["role"]) == ("embedded", "writer"), search
    # (The index's cursor follows item and stall entries; the chat entries after them it may skip later.)
    last = await ChangeLog.select(ChangeLog.seq).where(ChangeLog.entity.is_in(["item", "stall"])).output(as_list=True)
    assert search["indexed_seq"] >= max(last), (search, max(last))
    assert (node2.data_dir / "search" / INDEX_ID_FILE).read_text() == index_id, "node 2 rebuilt its index"


async def test_three_nodes_chat_search_photos_sync_and_a_killed_node(db: Settings, tmp_path: Path) -> None:
    with redis.Redis.from_url(REDIS_URL) as counters:
        counters.flushdb()
    cluster = Cluster(db, tmp_path)
    try:
        # One after the other (starting is CPU-bound: in parallel it is no faster), node 2 first:
        # it then runs the market-wide jobs (the Web Push notifier, a log reader, and the
        # reservation sweeper), so its death must hand them over.
        first = await cluster.start("2")

        async def runs_the_jobs() -> bool:
            return set(_health(first.base)["jobs"]) == MARKET_JOBS

        await _until(runs_the_jobs, 15, "node 2 taking the market-wide jobs")
        for name in "13":
            await cluster.start(name)
        node1, node2, node3 = (cluster.nodes[name] for name in "123")
        m = await _market(node1.base)
        await _chat_across_nodes(node1, node3, m)
        await _search_and_photos(node1, node2, node3, m)
        await _sync_across_nodes(node2, node3, m)
        await _kill_during_load(cluster, m)
    finally:
        cluster.stop()
