"""The mutations a device may queue offline and push (protocol: `sync/push.py`).

Each handler parses its arguments into the domain's own input types (`ItemInput`, `ItemPatch`,
`StallPatch`, `SendInput`) and calls the one domain function a REST route would call, so the
rules are the same whichever way a change arrives. `push` binds them to the sync library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from server.domain import chat, devices, items, reservations, stalls
from server.domain.actors import Actor, require_any
from server.domain.chat.sending import SendInput
from server.domain.context import Services
from server.domain.errors import Invalid, NotFound
from server.domain.items import HoldLength, ItemInput, ItemPatch
from server.domain.stalls import StallPatch
from sync.plain import plain
from sync.push import Handler, Handlers, Mutation, PushRequest, PushResult
from sync.push import push as push_batch

_T = TypeVar("_T")


@dataclass(frozen=True)
class Call:
    """Who pushes, through which market: the context every handler gets."""

    services: Services
    actor: Actor


async def push(services: Services, actor: Actor | None, request: PushRequest) -> PushResult:
    """Apply a device's queued mutations (see `sync/push.py` for the exactly-once rules)."""
    caller = require_any(actor)
    return await push_batch(services.engine, services.publish, HANDLERS, Call(services, caller), caller, request)


# --- argument parsing ------------------------------------------------------------------------


def _args(args: dict[str, Any], kind: type[_T], *, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> _T:
    """`args` (or only the keys named in `only`, or all but those in `skip`) as `kind`; a
    refusal naming the bad field otherwise."""
    if only:
        args = {k: v for k, v in args.items() if k in only}
    elif skip:
        args = {k: v for k, v in args.items() if k not in skip}
    try:
        return msgspec.convert(args, kind, strict=True)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(exc) else None
        raise Invalid(f"bad arguments: {exc}", field=field) from None


@dataclass(frozen=True)
class _ItemRef:
    id: UUID


@dataclass(frozen=True)
class _NewItemRef:
    stall_code: str
    id: UUID


@dataclass(frozen=True)
class _StallRef:
    code: str


@dataclass(frozen=True)
class _Reserve:
    id: UUID
    minutes: int | None = None  # or `until` (a time), or `until_end` of the event; none: 30 minutes
    until: datetime | None = None
    until_end: bool = False
    device_id: UUID | None = None
    quantity: int = 1
    hold_id: UUID | None = None  # chosen by the client, so a retried hold counts once


@dataclass(frozen=True)
class _Release:
    id: UUID
    hold_id: UUID | None = None
    device_id: UUID | None = None  # neither: every hold of the item


@dataclass(frozen=True)
class _ReserveForVisitor:
    conversation_id: UUID
    item_id: UUID
    minutes: int | None = None
    until: datetime | None = None
    until_end: bool = False
    quantity: int = 1
    hold_id: UUID | None = None


@dataclass(frozen=True)
class _ReleaseForVisitor:
    conversation_id: UUID
    item_id: UUID


@dataclass(frozen=True)
class _Sell:
    id: UUID
    sale_id: UUID
    quantity: int = 1
    amount: int | None = None
    hold_id: UUID | None = None  # sold to the visitor a hold is for: the sale uses it up
    device_id: UUID | None = None
    from_holds: bool = False  # sold to someone something was held for (no hold id known offline)


@dataclass(frozen=True)
class _UndoSale:
    sale_id: UUID


@dataclass(frozen=True)
class _MarkRead:
    conversation_id: UUID
    up_to_seq: int


# --- handlers: arguments in, the one domain function, its result out -----------------------


async def _create_item(call: Call, raw: dict[str, Any]) -> Any:
    ref = _args(raw, _NewItemRef, only=("stall_code", "id"))
    data = _args(raw, ItemInput, skip=("stall_code",))
    return await items.create_item(call.services, call.actor, ref.stall_code, data)


async def _update_item(call: Call, raw: dict[str, Any]) -> Any:
    ref = _args(raw, _ItemRef, only=("id",))
    return await items.update_item(call.services, call.actor, ref.id, _args(raw, ItemPatch, skip=("id",)))


async def _delete_item(call: Call, raw: dict[str, Any]) -> Any:
    await items.delete_item(call.services, call.actor, _args(raw, _ItemRef).id)
    return None


async def _reserve_item(call: Call, raw: dict[str, Any]) -> Any:
    a = _args(raw, _Reserve)
    length = HoldLength(a.minutes, a.until, a.until_end)
    return await items.reserve_item(
        call.services, call.actor, a.id, None, a.device_id, quantity=a.quantity, length=length, hold_id=a.hold_id
    )


async def _release_item(call: Call, raw: dict[str, Any]) -> Any:
    a = _args(raw, _Release)
    return await items.release_item(call.services, call.actor, a.id, hold_id=a.hold_id, device_id=a.device_id)


async def _reserve_for_visitor(call: Call, raw: dict[str, Any]) -> Any:
    a = _args(raw, _ReserveForVisitor)
    length = HoldLength(a.minutes, a.until, a.until_end)
    return await reservations.reserve_for_visitor(
        call.services, call.actor, a.conversation_id, a.item_id, quantity=a.quantity, length=length, hold_id=a.hold_id
    )


async def _release_for_visitor(call: Call, raw: dict[str, Any]) -> Any:
    a = _args(raw, _ReleaseForVisitor)
    return await reservations.release_for_visitor(call.services, call.actor, a.conversation_id, a.item_id)


async def _sell_item(call: Call, raw: dict[str, Any]) -> Any:
    a = _args(raw, _Sell)
    return await items.sell_item(
        call.services,
        call.actor,
        a.id,
        a.quantity,
        a.amount,
        a.sale_id,
        hold_id=a.hold_id,
        device_id=a.device_id,
        from_holds=a.from_holds,
    )


async def _undo_sale(call: Call, raw: dict[str, Any]) -> Any:
    return await items.undo_sale(call.services, call.actor, _args(raw, _UndoSale).sale_id)


async def _update_stall(call: Call, raw: dict[str, Any]) -> Any:
    ref = _args(raw, _StallRef, only=("code",))
    return await stalls.update_stall(call.services, call.actor, ref.code, _args(raw, StallPatch, skip=("code",)))


async def _send_message(call: Call, raw: dict[str, Any]) -> Any:
    return await chat.send_message(call.services, call.actor, _args(raw, SendInput))


async def _mark_read(call: Call, raw: dict[str, Any]) -> Any:
    a = _args(raw, _MarkRead)
    return await chat.mark_read(call.services, call.actor, a.conversation_id, a.up_to_seq)


@dataclass(frozen=True)
class _FirstName:
    first_name: str


async def _set_first_name(call: Call, raw: dict[str, Any]) -> Any:
    return await devices.set_first_name(call.services, call.actor, _args(raw, _FirstName).first_name)


_ITEM_MUTATIONS = {"update_item", "delete_item", "reserve_item", "release_item", "sell_item", "create_item"}
_ITEM_ID_ARG = {"reserve_for_visitor": "item_id", "release_for_visitor": "item_id"}


async def _state_of(call: Call, mutation: Mutation) -> Any:
    """What the client should now hold for the item a refused mutation touched, as far as the
    caller may see it: the item, a bare tombstone if it was deleted (so the replica drops it),
    or nothing."""
    key = _ITEM_ID_ARG.get(mutation.name, "id")
    target = mutation.args.get(key) if isinstance(mutation.args, dict) else None
    if (mutation.name not in _ITEM_MUTATIONS and mutation.name not in _ITEM_ID_ARG) or not isinstance(target, str):
        return None
    try:
        item_id = UUID(target)
    except ValueError:
        return None
    try:
        return plain(await items.visible_item(call.actor, item_id))
    except NotFound:
        return await items.tombstone_for(call.actor, item_id)


_BY_NAME: dict[str, Handler[Call]] = {
    "send_message": _send_message,
    "mark_read": _mark_read,
    "create_item": _create_item,
    "update_item": _update_item,
    "delete_item": _delete_item,
    "reserve_item": _reserve_item,
    "release_item": _release_item,
    "sell_item": _sell_item,
    "undo_sale": _undo_sale,
    "reserve_for_visitor": _reserve_for_visitor,
    "release_for_visitor": _release_for_visitor,
    "update_stall": _update_stall,
    "set_first_name": _set_first_name,
}
HANDLERS: Handlers[Call] = Handlers(_BY_NAME, _state_of)
