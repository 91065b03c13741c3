"""Property test of the sync protocol: several offline clients, random interleavings.

Hypothesis draws a program of steps: clients queue mutations while offline, push them (and
sometimes the server commits but the response is lost, so the client retries), push the same
batch twice at once, and pull in any order. After everyone finally pushes and pulls, we check:

- every replica equals the server's state;
- no mutation was applied twice or lost (every one has exactly one outcome; one sale per
  accepted sell mutation);
- no sold item is ever seen un-sold afterwards; quantities never go below zero and stock
  plus units sold always equals the starting stock.

Two of the clients (a2, v2) pull in format 2 with item patches, as the apps do, merging each
patch over the record they hold (and failing the test if a patch ever arrives for a record not
held at its base); at the end their items must equal, field for field, a format-1 pull's.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.serialization import encode_json

from server.domain import events, items
from server.domain.actors import Actor
from server.domain.context import Services
from server.domain.events import EventInput
from server.domain.feed import pull, pull_format2
from server.domain.items import ItemInput
from server.domain.mutations import push
from server.domain.stalls import StallInput, join_event
from server.settings import Settings
from server.tables import ALL_TABLES, Account, Device, Item, LogHead, Message, MutationResult, Sale
from sync.push import Mutation, PushRequest
from tests.test_sync_format2 import _format1_changes
from tests.test_sync_patches import _merge


@dataclass
class Client:
    name: str
    actor: Actor
    stall_code: str | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    next_id: int = 1
    pending: list[Mutation] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)
    cursor: str | None = None
    replica: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # replica of visible messages
    conversations: dict[str, str] = field(default_factory=dict)  # stall code -> conversation id (visitors)
    patches: bool = False  # pulls format 2 with item patches (as the apps do) instead of format 1
    held: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # format 2: what it holds


@dataclass
class World:
    market: Services
    clients: dict[str, Client]
    items: list[str]  # item ids (some created later through sync)
    start_quantity: dict[str, int]
    sold_seen: dict[str, int] = field(default_factory=dict)  # item -> version first seen sold
    sell_mutations: set[str] = field(default_factory=set)  # sale ids of applied sells
    sent_messages: set[str] = field(default_factory=set)  # message ids of applied sends
    stall_codes: tuple[str, str] = ("", "")
    event_id: str = ""


# -- the program ---------------------------------------------------------------------------

CLIENTS = ("a1", "a2", "b1", "v1", "v2")
VENDOR_CLIENTS = ("a1", "a2", "b1")
PUSHING_CLIENTS = ("a1", "a2", "b1", "v1", "v2")

queue_step = st.tuples(
    st.just("queue"),
    st.sampled_from(VENDOR_CLIENTS),
    st.sampled_from(["sell", "sell", "price", "title", "reserve", "release", "delete", "create"]),
    st.integers(min_value=0, max_value=5),  # which item
    st.integers(min_value=1, max_value=3),  # quantity / variant
)
chat_step = st.tuples(
    st.just("chat"),
    st.sampled_from(CLIENTS),
    st.just(""),
    st.integers(min_value=0, max_value=5),  # which stall / conversation
    st.just(0),
)
push_step = st.tuples(st.just("push"), st.sampled_from(PUSHING_CLIENTS), st.booleans(), st.just(0), st.just(0))
dup_step = st.tuples(st.just("dup"), st.sampled_from(PUSHING_CLIENTS), st.just(False), st.just(0), st.just(0))
pull_step = st.tuples(st.just("pull"), st.sampled_from(CLIENTS), st.just(False), st.just(0), st.just(0))
programs = st.lists(
    st.one_of(queue_step, queue_step, chat_step, push_step, dup_step, pull_step), min_size=5, max_size=30
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=programs)
async def test_random_offline_interleavings_converge(migrated: Settings, program: list[tuple[Any, ...]]) -> None:
    world = await _fresh_world(migrated)
    for step in program:
        await _run(world, step)
    await _finish(world)
    await _check(world)


async def _run(world: World, step: tuple[Any, ...]) -> None:
    kind, name, flag, which, amount = step
    client = world.clients[name]
    if kind == "queue":
        _queue(world, client, flag, which, amount)
    elif kind == "chat":
        _queue_message(world, client, which)
    elif kind == "push":
        await _push(world, client, lose_response=flag)
    elif kind == "dup":
        await asyncio.gather(_push(world, client), _push(world, client, lose_response=True))
    else:
        await _pull(world, client)


def _queue(world: World, client: Client, op: str, which: int, amount: int) -> None:
    item = world.items[which % len(world.items)]
    args: dict[str, Any]
    if op == "sell":
        sale_id = str(uuid.uuid4())
        name, args = "sell_item", {"id": item, "sale_id": sale_id, "quantity": amount}
    elif op == "price":
        name, args = "update_item", {"id": item, "price": 100 * amount + len(client.pending)}
    elif op == "title":
        name, args = "update_item", {"id": item, "title": f"{client.name} edit {client.next_id}"}
    elif op == "reserve":
        name, args = "reserve_item", {"id": item, "minutes": 10 * amount}
    elif op == "release":
        name, args = "release_item", {"id": item}
    elif op == "delete":
        name, args = "delete_item", {"id": item}
    else:
        new_id = str(uuid.uuid4())
        world.items.append(new_id)
        world.start_quantity[new_id] = amount
        name, args = (
            "create_item",
            {"stall_code": client.stall_code, "id": new_id, "title": "Made offline", "price": 250, "quantity": amount},
        )
    client.pending.append(Mutation(client.next_id, name, args))
    client.next_id += 1


def _queue_message(world: World, client: Client, which: int) -> None:
    """A visitor writes to a stall (opening the conversation offline); a vendor answers one it knows."""
    if client.actor.role == "device":
        stall = world.stall_codes[which % 2]
        conversation = client.conversations.setdefault(stall, str(uuid.uuid4()))
        args = {"conversation_id": conversation, "stall_code": stall}
    else:
        known = sorted({m["conversation_id"] for m in client.messages.values()})
        if not known:
            return
        args = {"conversation_id": known[which % len(known)]}
    args.update(message_id=str(uuid.uuid4()), body=f"{client.name} says {client.next_id}")
    client.pending.append(Mutation(client.next_id, "send_message", args))
    client.next_id += 1


async def _push(world: World, client: Client, lose_response: bool = False) -> None:
    batch = list(client.pending)
    if not batch:
        return
    result = await push(world.market, client.actor, PushRequest(client.id, batch))
    by_id = {m.id: m for m in batch}
    for outcome in result.results:
        previous = client.outcomes.get(outcome.id)
        assert previous in (None, outcome.status), "a retried mutation changed its outcome"
        mutation = by_id[outcome.id]
        if outcome.status == "applied" and mutation.name == "sell_item":
            world.sell_mutations.add(mutation.args["sale_id"])
        if outcome.status == "applied" and mutation.name == "send_message":
            world.sent_messages.add(mutation.args["message_id"])
        if not lose_response:
            client.outcomes[outcome.id] = outcome.status
    if not lose_response:
        done = {o.id for o in result.results}
        client.pending = [m for m in client.pending if m.id not in done]


async def _pull(world: World, client: Client) -> None:
    if client.patches:
        await _pull_patches(world, client)
        return
    while True:
        page = await pull(world.market, client.actor, "prop-fair", client.cursor, limit=4)
        if page.reset:
            client.cursor, client.replica, client.versions = None, {}, {}
            continue
        for change in page.changes:
            if change.entity == "message":
                assert change.data is not None
                client.messages[change.id] = change.data
                continue
            if change.entity != "item":
                continue
            if client.versions.get(change.id, -1) > change.version:
                continue
            client.versions[change.id] = change.version
            if change.op == "delete":
                client.replica.pop(change.id, None)
                continue
            assert change.data is not None
            client.replica[change.id] = change.data
            _watch_sold(world, change.id, change.version, change.data["state"])
        client.cursor = page.cursor
        if not page.has_more:
            return


async def _pull_patches(world: World, client: Client) -> None:
    """Format 2 with patches, each page as the API encodes it, merged as the spec says."""
    event = {"id": world.event_id, "currency": "EUR"}
    while True:
        answer = await pull_format2(world.market, client.actor, "prop-fair", client.cursor, limit=4, patches=True)
        page = json.loads(encode_json(answer))
        if page["reset"]:
            client.cursor, client.held = None, {}
            continue
        _merge(client.held, page, event)  # asserts that every patch fits what is held
        for (entity, entity_id), change in client.held.items():
            if entity == "message":
                client.messages[entity_id] = change["data"]
            elif entity == "item" and change["op"] == "upsert":
                _watch_sold(world, entity_id, change["version"], change["data"]["state"])
        client.replica = {i: c["data"] for (e, i), c in client.held.items() if e == "item" and c["op"] == "upsert"}
        client.cursor = page["cursor"]
        if not page["more"]:
            return


def _watch_sold(world: World, item_id: str, version: int, state: str) -> None:
    first_sold = world.sold_seen.get(item_id)
    if state == "sold" and (first_sold is None or version < first_sold):
        world.sold_seen[item_id] = version
    elif first_sold is not None and version > first_sold:
        raise AssertionError(f"item {item_id} was sold at version {first_sold} and later {state}")


async def _finish(world: World) -> None:
    for client in world.clients.values():
        while client.pending:
            await _push(world, client)
    for client in world.clients.values():
        await _pull(world, client)


async def _check(world: World) -> None:
    rows = await Item.select().where(Item.event.name == "Property Fair")
    server = {str(r["id"]): r for r in rows if r["deleted_at"] is None and not r["hidden"]}
    for client in world.clients.values():
        assert set(client.replica) == set(server), client.name
        for item_id, data in client.replica.items():
            row = server[item_id]
            assert (data["version"], data["quantity"], data["state"], data["price"], data["title"]) == (
                row["version"],
                row["quantity"],
                row["state"],
                row["price"],
                row["title"],
            ), client.name
        assert set(client.outcomes) == set(range(1, client.next_id)), "every mutation has an outcome"
    fresh = Client("check", world.clients["v1"].actor, None)
    one = []
    while True:  # a format-1 snapshot, times to the second as format 2 sends an item's
        page = await pull(world.market, fresh.actor, "prop-fair", fresh.cursor, limit=50)
        one.append(json.loads(encode_json(page)))
        fresh.cursor = page.cursor
        if not page.has_more:
            break
    whole = {c["id"]: c["data"] for c in _format1_changes(one) if c["entity"] == "item" and c["data"]}
    for client in world.clients.values():
        if client.patches:
            assert client.replica == whole, f"{client.name}: patched items equal format 1's"
    for client in world.clients.values():
        processed = await MutationResult.select(MutationResult.mutation_id).where(MutationResult.client == client.id)
        numbers = sorted(r["mutation_id"] for r in processed)
        assert numbers == list(range(1, client.next_id)), f"{client.name}: each mutation processed exactly once"
    await _check_messages(world)
    sales = await Sale.select(Sale.id, Sale.item, Sale.quantity)
    assert {str(s["id"]) for s in sales} == world.sell_mutations, "one sale per applied sell, no more"
    sold_units: dict[str, int] = {}
    for sale in sales:
        sold_units[str(sale["item"])] = sold_units.get(str(sale["item"]), 0) + sale["quantity"]
    for row in rows:
        item_id = str(row["id"])
        assert row["quantity"] >= 0
        assert row["quantity"] + sold_units.get(item_id, 0) == world.start_quantity[item_id]
        assert (row["state"] == "sold") == (row["quantity"] == 0)


async def _check_messages(world: World) -> None:
    rows = await Message.select(
        Message.id,
        Message.seq,
        Message.conversation,
        Message.conversation.device.as_alias("device"),
        Message.conversation.stall.vendor.as_alias("vendor"),  # type: ignore[union-attr]
    )
    assert {str(r["id"]) for r in rows} == world.sent_messages, "every sent message stored once, none lost"
    by_conversation: dict[str, list[int]] = {}
    for r in rows:
        by_conversation.setdefault(str(r["conversation"]), []).append(r["seq"])
    for seqs in by_conversation.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
    for client in world.clients.values():
        if client.actor.role == "device":
            visible = {str(r["id"]) for r in rows if r["device"] == client.actor.device_id}
        else:
            visible = {str(r["id"]) for r in rows if r["vendor"] == client.actor.account_id}
        assert set(client.messages) == visible, f"{client.name} sees exactly its own conversations"


# -- set-up --------------------------------------------------------------------------------


async def _fresh_world(settings_: Settings) -> World:
    from server.database import bind_tables

    market = Services.from_settings(settings_)
    engine = market.engine
    bind_tables(engine)
    for table in reversed(ALL_TABLES):
        await table.delete(force=True)
    await LogHead.insert(LogHead(id=1, seq=0))
    organizer = await _account("organizer")
    start = datetime.now(UTC) + timedelta(days=3)
    event = await events.create_event(
        market,
        organizer,
        EventInput(
            "Property Fair", "prop-fair", "#PropFair", start, start + timedelta(hours=8), "Europe/London", "EUR"
        ),
    )
    vendor_a, vendor_b = await _account("vendor"), await _account("vendor")
    code_a, code_b = await events.create_invites(market, organizer, "prop-fair", 2)
    stall_a = (await join_event(market, vendor_a, code_a, StallInput("A", "#StallA"))).stall
    stall_b = (await join_event(market, vendor_b, code_b, StallInput("B", "#StallB"))).stall
    start_quantity: dict[str, int] = {}
    ids = []
    for n, (actor, code) in enumerate([(vendor_a, stall_a.code)] * 3 + [(vendor_b, stall_b.code)] * 2):
        view = await items.create_item(market, actor, code, ItemInput(f"Item {n}", 500, quantity=1 + n % 3))
        ids.append(str(view.id))
        start_quantity[str(view.id)] = view.quantity
    clients = {
        "a1": Client("a1", vendor_a, stall_a.code),
        "a2": Client("a2", vendor_a, stall_a.code, patches=True),
        "b1": Client("b1", vendor_b, stall_b.code),
        "v1": Client("v1", await _device(), None),
        "v2": Client("v2", await _device(), None, patches=True),
    }
    stall_codes = (stall_a.code, stall_b.code)
    return World(market, clients, ids, start_quantity, stall_codes=stall_codes, event_id=str(event.id))


async def _device() -> Actor:
    device_id = uuid.uuid4()
    await Device.insert(Device(id=device_id))
    return Actor("device", device_id=device_id)


async def _account(role: str) -> Actor:
    account_id = uuid.uuid4()
    await Account.insert(
        Account(
            id=account_id, email=f"{account_id}@example.org", display_name=role, password_hash="not-used", role=role
        )
    )
    return Actor(role, account_id=account_id)  # type: ignore[arg-type]
