"""The load of bench_writes.py: closed-loop clients sending the mixed operations, the visitor
devices they borrow under the flood limit, and the tally of what came back."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from harness.client import bearer

from writes_bench.config import (
    CHAT,
    DEVICE_REST_SECONDS,
    EDIT,
    MESSAGE_BUDGET,
    OPERATIONS,
    PUSH_BATCH,
    SALE,
    VENDOR_PUSH,
    VISITOR_PUSH,
)
from writes_bench.seed import Vendor, Visitor


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
