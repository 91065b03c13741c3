"""Push: a device replays the mutations it queued offline, in order, exactly once each.

Protocol (the model of Replicache's push): each client (one browser outbox, a UUID it picks)
numbers its mutations 1, 2, 3, ... The server remembers, per client, the last number it has
processed, and applies each mutation *together with* moving that number forward (one
savepoint-guarded step of the batch's write transaction, which commits once for the whole
batch), so "applied" and "remembered as applied" can never come apart:

- a number at or below the remembered one was already processed: it is skipped and the
  stored outcome is returned again (a retry after a lost response changes nothing);
- the next number is applied through the same domain function a REST route would call;
- a number beyond the next one means the client lost a mutation: the push is refused
  (409, naming the expected number) and nothing after the gap is applied.

A mutation that can never succeed (forbidden, invalid, conflicting, unknown name) is recorded
as processed *with* its rejection, returned with the reason and the current server state, and
never retried, so one bad entry cannot jam a queue. An unexpected server failure stops the push
without recording anything; the client simply retries it later. So does a sender over the
message flood limit (server/domain/flood.py): the push answers 429 with Retry-After, what came
before that mutation stays applied, and the retry returns those outcomes again.

Conflict rules (enforced by the domain functions, identical for REST and sync):
- Sold is final. Editing, reserving or selling an item that is sold by the time the mutation
  arrives is rejected with the sold item's state.
- A sale is a delta: "sold 2" from two offline devices is two sales; a sale larger than the
  stock left is rejected, so quantity never goes below zero.
- Edits carry only the fields the user changed. Concurrent edits of different fields both
  survive; for the same field the later arrival at the server wins.
- Creating an item names its id (a UUID made offline): replaying the creation returns the
  item already stored instead of a duplicate.
- Deletes are soft and final: later edits of a deleted item are rejected as not found.
- Messages are append-only and deduplicated by their UUID; the server numbers them per
  conversation in arrival order. A visitor may open a conversation offline by naming its UUID
  and the stall in the first message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from server.domain import chat, items, stalls
from server.domain.actors import Actor, require_any
from server.domain.chat import SendInput
from server.domain.context import Market
from server.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from server.domain.items import ItemInput, ItemPatch
from server.domain.rows import locked
from server.domain.stalls import StallPatch
from server.tables import MutationResult, SyncClient
from sync.log import step, unit_of_work

MAX_BATCH = 100


@dataclass(frozen=True)
class Mutation:
    id: int
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PushRequest:
    client_id: UUID
    mutations: list[Mutation]


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str  # "applied" | "rejected"
    reason: str = ""
    field: str = ""
    data: Any = None  # the entity's server state


@dataclass(frozen=True)
class PushResult:
    last_mutation_id: int
    results: list[Outcome]


_T = TypeVar("_T")
Handler = Callable[[Market, Actor, dict[str, Any]], Awaitable[Any]]


async def push(market: Market, actor: Actor | None, request: PushRequest) -> PushResult:
    """Apply the batch in one write transaction, each mutation a step that fails alone, so a
    phone's whole queue costs one commit (one fsync) instead of one per mutation."""
    caller = require_any(actor)
    _check_batch(request)
    await _claim_client(market, request.client_id, caller)
    results: list[Outcome] = []
    stopped: Exception | None = None
    async with unit_of_work(market.engine, market.publish):
        # Two tabs pushing one outbox at once: the second waits here for the first to commit.
        # Two tabs pushing one outbox at once: the second waits here for the first to commit.
        await locked(SyncClient.select(SyncClient.id).where(SyncClient.id == request.client_id))
        # The row lock makes this batch the client's only writer, so its bookkeeping is kept here
        # and written once at the end instead of read and written again for every mutation.
        first = last = await _last_processed(request.client_id)
        outcomes: list[Outcome] = []
        for mutation in request.mutations:
            try:
                outcome, fresh = await _process(market, caller, request.client_id, last, mutation)
            except Exception as exc:  # a gap, a "wait" (429) or a failure: what came before stays applied
                stopped = exc
                break
            results.append(outcome)
            if fresh:
                outcomes.append(outcome)
                last = outcome.id
        if last != first:
            await _remember(request.client_id, last, outcomes)
    if stopped is not None:
        raise stopped
    return PushResult(last_mutation_id=last, results=results)


def _check_batch(request: PushRequest) -> None:
    mutations = request.mutations
    if not mutations:
        raise Invalid("mutations must not be empty", field="mutations")
    if len(mutations) > MAX_BATCH:
        raise Invalid(f"push at most {MAX_BATCH} mutations at a time", field="mutations")
    ids = [m.id for m in mutations]
    if ids[0] < 1 or ids != list(range(ids[0], ids[0] + len(ids))):
        raise Invalid("mutation ids must be consecutive numbers starting at 1 or more", field="mutations")


async def _claim_client(market: Market, client_id: UUID, actor: Actor) -> None:
    """Bind a new client id to its caller; refuse anyone else pushing under it."""
    row = await SyncClient.select().where(SyncClient.id == client_id).first()
    if row is None:
        # Two tabs may push a new client's first batch at once: the insert must not race.
        await SyncClient.raw(
            "INSERT INTO sync_client (id, account_id, device_id, last_mutation_id, updated_at) "
            "VALUES ({}, {}, {}, 0, {}) ON CONFLICT (id) DO NOTHING",
            client_id,
            actor.account_id,
            actor.device_id,
            datetime.now(UTC),
        )
        row = await SyncClient.select().where(SyncClient.id == client_id).first()
    if row is None or row["account_id"] != actor.account_id or row["device_id"] != actor.device_id:
        raise Forbidden("This client id belongs to another device or account; pick a new one")


async def _process(
    market: Market, actor: Actor, client_id: UUID, last: int, mutation: Mutation
) -> tuple[Outcome, bool]:
    """One mutation, inside the push's write transaction: applied, or refused (its changes rolled
    back to the step's savepoint); (its outcome, whether it is new and must be remembered).
    The outcomes are stored in the same transaction as the changes, so both commit or neither."""
    if mutation.id <= last:
        return await _stored_outcome(client_id, mutation.id), False
    if mutation.id > last + 1:
        raise Conflict(
            f"mutation {mutation.id} skips ahead: the server expects mutation {last + 1} next", field="mutations"
        )
    try:
        async with step(market.engine):
            data = await _handler(mutation.name)(market, actor, mutation.args)
            return Outcome(mutation.id, "applied", data=_plain(data)), True
    except DomainError as exc:
        if exc.retryable:
            raise  # not a refusal (e.g. 429): the whole push answers it and the client sends again later
        state = await _state_of(actor, mutation)
        return Outcome(mutation.id, "rejected", exc.message, exc.field or "", state), True


async def _remember(client_id: UUID, last: int, outcomes: Sequence[Outcome]) -> None:
    await SyncClient.update({SyncClient.last_mutation_id: last, SyncClient.updated_at: datetime.now(UTC)}).where(
        SyncClient.id == client_id
    )
    await MutationResult.insert(
        *(
            MutationResult(
                client=client_id,
                mutation_id=outcome.id,
                status=outcome.status,
                reason=outcome.reason,
                field=outcome.field,
                data=json.dumps(outcome.data, default=str),
            )
            for outcome in outcomes
        )
    )


async def _stored_outcome(client_id: UUID, mutation_id: int) -> Outcome:
    row = (
        await MutationResult.select()
        .where((MutationResult.client == client_id) & (MutationResult.mutation_id == mutation_id))
        .first()
    )
    if row is None:  # outcomes are kept; should one be gone, the id was still processed: say only that
        return Outcome(mutation_id, "applied")
    return Outcome(mutation_id, row["status"], row["reason"], row["field"], json.loads(row["data"]))


async def _last_processed(client_id: UUID) -> int:
    row = await SyncClient.select(SyncClient.last_mutation_id).where(SyncClient.id == client_id).first()
    return int(row["last_mutation_id"]) if row else 0


async def _state_of(actor: Actor, mutation: Mutation) -> Any:
    """What the client should now hold for the item the mutation touched, as far as `actor` may
    see it: the item, a bare tombstone if it was deleted (so the replica drops it), or nothing."""
    target = mutation.args.get("id") if isinstance(mutation.args, dict) else None
    if mutation.name not in _ITEM_MUTATIONS or not isinstance(target, str):
        return None
    try:
        item_id = UUID(target)
    except ValueError:
        return None
    try:
        return _plain(await items.visible_item(actor, item_id))
    except NotFound:
        return await items.tombstone_for(actor, item_id)


# --- mutation handlers: argument parsing, then the one domain function -------------------


def _args(args: dict[str, Any], kind: type[_T]) -> _T:
    try:
        return msgspec.convert(args, kind, strict=True)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(exc) else None
        raise Invalid(f"bad arguments: {exc}", field=field) from None


@dataclass(frozen=True)
class _CreateItem:
    stall_code: str
    id: UUID
    title: str
    price: int
    quantity: int = 1
    description: str = ""
    hashtags: list[str] | None = None
    photo_keys: list[str] | None = None


@dataclass(frozen=True)
class _UpdateItem:
    id: UUID
    title: str | None = None
    description: str | None = None
    price: int | None = None
    quantity: int | None = None
    hashtags: list[str] | None = None
    photo_keys: list[str] | None = None


@dataclass(frozen=True)
class _ItemRef:
    id: UUID


@dataclass(frozen=True)
class _Reserve:
    id: UUID
    minutes: int = 30
    device_id: UUID | None = None


@dataclass(frozen=True)
class _Sell:
    id: UUID
    sale_id: UUID
    quantity: int = 1
    amount: int | None = None


@dataclass(frozen=True)
class _UpdateStall:
    code: str
    name: str | None = None
    store_tag: str | None = None
    number: str | None = None
    location: str | None = None
    description: str | None = None
    read_receipts: bool | None = None


async def _create_item(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _CreateItem)
    data = ItemInput(a.title, a.price, a.quantity, a.description, a.hashtags, a.photo_keys, a.id)
    return await items.create_item(market, actor, a.stall_code, data)


async def _update_item(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _UpdateItem)
    patch = ItemPatch(a.title, a.description, a.price, a.quantity, a.hashtags, a.photo_keys)
    return await items.update_item(market, actor, a.id, patch)


async def _delete_item(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    await items.delete_item(market, actor, _args(raw, _ItemRef).id)
    return None


async def _reserve_item(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _Reserve)
    return await items.reserve_item(market, actor, a.id, a.minutes, a.device_id)


async def _release_item(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    return await items.release_item(market, actor, _args(raw, _ItemRef).id)


async def _sell_item(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _Sell)
    return await items.sell_item(market, actor, a.id, a.quantity, a.amount, a.sale_id)


async def _update_stall(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _UpdateStall)
    patch = StallPatch(a.name, a.store_tag, a.number, a.location, a.description, a.read_receipts)
    return await stalls.update_stall(market, actor, a.code, patch)


@dataclass(frozen=True)
class _SendMessage:
    conversation_id: UUID
    message_id: UUID
    body: str = ""
    stall_code: str | None = None
    item_id: UUID | None = None
    photo_key: str | None = None


@dataclass(frozen=True)
class _MarkRead:
    conversation_id: UUID
    up_to_seq: int


async def _send_message(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _SendMessage)
    data = SendInput(a.conversation_id, a.message_id, a.body, a.stall_code, a.item_id, a.photo_key)
    return await chat.send_message(market, actor, data)


async def _mark_read(market: Market, actor: Actor, raw: dict[str, Any]) -> Any:
    a = _args(raw, _MarkRead)
    return await chat.mark_read(market, actor, a.conversation_id, a.up_to_seq)


HANDLERS: dict[str, Handler] = {
    "send_message": _send_message,
    "mark_read": _mark_read,
    "create_item": _create_item,
    "update_item": _update_item,
    "delete_item": _delete_item,
    "reserve_item": _reserve_item,
    "release_item": _release_item,
    "sell_item": _sell_item,
    "update_stall": _update_stall,
}
_ITEM_MUTATIONS = {"update_item", "delete_item", "reserve_item", "release_item", "sell_item", "create_item"}


def _handler(name: str) -> Handler:
    handler = HANDLERS.get(name)
    if handler is None:
        raise Invalid(f"unknown mutation {name!r}; known: {', '.join(sorted(HANDLERS))}", field="name")
    return handler


def _plain(value: Any) -> Any:
    """JSON-ready data of a domain result (dataclasses, UUIDs, datetimes)."""
    if value is None:
        return None
    return json.loads(json.dumps(asdict(value), default=str))
