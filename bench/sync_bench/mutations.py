"""The changes bench_sync.py makes: 10 changes between two pulls, and 500 queued mutations of
10 vendors and 6 visitor devices, applied through sync push or as direct domain calls."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from harness.data import copy_database

from server.auth.tokens import create_device
from server.database import start_engine, stop_engine
from server.domain import chat, items
from server.domain.actors import Actor
from server.domain.chat.sending import SendInput
from server.domain.context import Services
from server.domain.items import ItemPatch
from server.domain.mutations import push
from server.tables import Item, Stall
from sync.push import MAX_BATCH, Mutation, PushRequest
from sync_bench.pulls import market_at

VENDORS = 10
EDITS, RESERVES, SELLS = 20, 7, 8  # per vendor: 35 x 10 = 350 item mutations
DEVICES, CONVERSATIONS, MESSAGES = 6, 5, 5  # 6 devices x 5 conversations x 5 messages = 150
BODIES = (
    "Hello! Is this still available?",
    "Could you keep it for me until 3pm?",
    "Do you take cards?",
    "Great, see you at the stall.",
    "Thanks a lot!",
)


@dataclass(frozen=True)
class Planned:
    """One queued mutation: who queued it (its client) and what, in push form."""

    client: UUID
    actor: Actor
    mutation: Mutation


async def vendor_stalls(count: int, min_items: int) -> list[tuple[Actor, str, list[dict[str, Any]]]]:
    """(vendor, stall code, available items) of the first `count` stalls with enough items."""
    found = []
    for stall in await Stall.select(Stall.id, Stall.code, Stall.vendor).order_by(Stall.code):
        rows = (
            await Item.select(Item.id, Item.title, Item.price)
            .where((Item.stall == stall["id"]) & (Item.state == "available") & Item.deleted_at.is_null())
            .order_by(Item.id)
        )
        if len(rows) >= min_items:
            found.append((Actor("vendor", account_id=stall["vendor"]), str(stall["code"]), rows))
        if len(found) == count:
            return found
    raise RuntimeError(f"fewer than {count} stalls hold {min_items} available items")


async def ten_changes(market: Services, visitor: Actor) -> None:
    """5 edits, 2 reservations, 2 sales (two stalls), 1 message of `visitor`: direct calls."""
    (vendor, code, rows), (other, _, other_rows) = await vendor_stalls(2, 12)
    for n in range(5):
        await items.update_item(market, vendor, rows[n]["id"], ItemPatch(price=int(rows[n]["price"]) + 50))
    for row in rows[5:7]:
        await items.reserve_item(market, vendor, row["id"], 30, visitor.device_id)
    for row in other_rows[:2]:
        await items.sell_item(market, other, row["id"], 1, sale_id=uuid.uuid4())
    await chat.send_message(market, visitor, SendInput(uuid.uuid4(), uuid.uuid4(), BODIES[0], code, rows[8]["id"]))


async def plan_mutations() -> list[Planned]:
    """500 mutations: 10 vendors' edits, reservations and sales, 6 devices' messages."""
    devices = [Actor("device", device_id=(await create_device())[0]) for _ in range(DEVICES)]
    stalls = await vendor_stalls(VENDORS, RESERVES + SELLS + 5)
    queues: list[list[Planned]] = []
    for v, (vendor, _, rows) in enumerate(stalls):
        client = uuid.uuid4()
        to_sell, to_reserve, to_edit = rows[:SELLS], rows[SELLS : SELLS + RESERVES], rows[SELLS + RESERVES :]
        steps: list[tuple[str, dict[str, Any]]] = []
        for n in range(EDITS):
            row = to_edit[n % len(to_edit)]
            if n % 3 == 2:
                steps.append(("update_item", {"id": str(row["id"]), "title": f"{row['title']} - offer {n}"[:120]}))
            else:
                steps.append(("update_item", {"id": str(row["id"]), "price": int(row["price"]) + 10 * (n + 1)}))
        for n, row in enumerate(to_reserve):
            held_for = devices[(v + n) % DEVICES].device_id
            steps.append(("reserve_item", {"id": str(row["id"]), "minutes": 30, "device_id": str(held_for)}))
        steps += [("sell_item", {"id": str(row["id"]), "sale_id": str(uuid.uuid4()), "quantity": 1}) for row in to_sell]
        random.Random(v).shuffle(steps)  # a day's work in any order: the items of each kind are distinct
        queues.append([Planned(client, vendor, Mutation(n, name, a)) for n, (name, a) in enumerate(steps, start=1)])
    for d, device in enumerate(devices):
        client, queue = uuid.uuid4(), []
        number = 0
        for c in range(CONVERSATIONS):
            _, code, rows = stalls[(d + c) % len(stalls)]
            conversation = uuid.uuid4()
            for m in range(MESSAGES):
                number += 1
                args: dict[str, Any] = {
                    "conversation_id": str(conversation),
                    "message_id": str(uuid.uuid4()),
                    "body": BODIES[m],
                }
                if m == 0:
                    args |= {"stall_code": code, "item_id": str(rows[-1]["id"])}
                queue.append(Planned(client, device, Mutation(number, "send_message", args)))
        queues.append(queue)
    return [planned for queue in queues for planned in queue]  # one outbox after another


def batches_of(planned: Sequence[Planned]) -> Iterator[list[Planned]]:
    """Consecutive runs of one client, at most MAX_BATCH long: one push each."""
    batch: list[Planned] = []
    for p in planned:
        if batch and (p.client != batch[0].client or len(batch) == MAX_BATCH):
            yield batch
            batch = []
        batch.append(p)
    if batch:
        yield batch


async def apply_direct(market: Services, planned: Sequence[Planned]) -> float:
    """The same changes as the domain calls a REST route makes; seconds."""
    began = time.perf_counter()
    for p in planned:
        a, actor = p.mutation.args, p.actor
        if p.mutation.name == "update_item":
            patch = ItemPatch(title=a.get("title"), price=a.get("price"))
            await items.update_item(market, actor, UUID(a["id"]), patch)
        elif p.mutation.name == "reserve_item":
            await items.reserve_item(market, actor, UUID(a["id"]), a["minutes"], UUID(a["device_id"]))
        elif p.mutation.name == "sell_item":
            await items.sell_item(market, actor, UUID(a["id"]), a["quantity"], sale_id=UUID(a["sale_id"]))
        else:
            item = a.get("item_id")
            data = SendInput(
                UUID(a["conversation_id"]),
                UUID(a["message_id"]),
                a["body"],
                a.get("stall_code"),
                UUID(item) if item else None,
            )
            await chat.send_message(market, actor, data)
    return time.perf_counter() - began


async def apply_pushed(market: Services, planned: Sequence[Planned]) -> tuple[float, int]:
    """The changes as sync pushes, one per client batch; (seconds, mutations applied)."""
    applied = 0
    began = time.perf_counter()
    for batch in batches_of(planned):
        request = PushRequest(batch[0].client, [p.mutation for p in batch])
        result = await push(market, batch[0].actor, request)
        applied += sum(outcome.status == "applied" for outcome in result.results)
    return time.perf_counter() - began, applied


async def run_on_copy(source: Path, folder: Path, planned: Sequence[Planned], through_push: bool) -> float:
    """Apply `planned` on a fresh copy of the database in `folder`; seconds."""
    market = market_at(folder)
    copy_database(source, market.settings.sqlite_path)
    await start_engine(market.engine)
    try:
        if not through_push:
            return await apply_direct(market, planned)
        seconds, applied = await apply_pushed(market, planned)
        if applied != len(planned):
            raise RuntimeError(f"only {applied} of {len(planned)} mutations were applied")
        return seconds
    finally:
        await stop_engine(market.engine)
