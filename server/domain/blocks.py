"""Blocking a visitor from chatting: by the organizer (the whole event) or by a vendor (their stall).

A visitor has no account, so a blocked visitor can take a fresh device token in a second. A block
therefore follows them as far as a server can tell: a resume code carries the same device (and its
blocks) to another browser, and a device created from the same address (the keyed hash in
`Device.address_key`) within `FOLLOW_WINDOW` after the block is blocked alike. At a venue whose
Wi-Fi puts many phones behind one address that can catch an innocent newcomer for a few hours, in
one stall's chat (a vendor's block) or the event's; the organizer sees every block, followed ones
marked as such, and lifts any of them, which also lifts what followed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from server.domain.actors import Actor, require_role
from server.domain.errors import Forbidden, NotFound
from server.domain.events import owned_event
from server.domain.views import utc
from server.tables import BlockedDevice, Conversation, Device, Stall

FOLLOW_WINDOW = timedelta(hours=6)
FOLLOWED = "address"  # blocked_by of a block that followed a blocked device to a new one


@dataclass(frozen=True)
class BlockView:
    device_id: UUID
    stall_code: str | None  # None: the whole event
    stall_name: str | None
    blocked_by: str  # "organizer" | "vendor" | "address" (followed from a blocked device)
    created_at: datetime


async def block_device(actor: Actor | None, event_slug: str, device_id: UUID, blocked: bool = True) -> None:
    """The organizer blocks a device at the whole event, or lifts every block of it there (the
    vendors' too, and those that followed it to new devices)."""
    event = await owned_event(actor, event_slug)
    if blocked:
        await _block(event["id"], device_id, None, "organizer")
    else:
        await _lift(event["id"], device_id, stall_id=None)


async def block_in_conversation(actor: Actor | None, conversation_id: UUID, blocked: bool = True) -> None:
    """A vendor blocks the visitor of one of their conversations from their stall (or lifts it)."""
    vendor = require_role(actor, "vendor")
    row = (
        await Conversation.select(
            Conversation.event, Conversation.stall, Conversation.device, Conversation.stall.vendor.as_alias("vendor")
        )
        .where(Conversation.id == conversation_id)
        .first()
    )
    if row is None or row["vendor"] != vendor.account_id:
        raise NotFound("No such conversation")
    device_id = UUID(str(row["device"]))
    if blocked:
        await _block(row["event"], device_id, row["stall"], "vendor")
    else:
        await _lift(row["event"], device_id, stall_id=row["stall"])


async def list_blocks(actor: Actor | None, event_slug: str) -> list[BlockView]:
    event = await owned_event(actor, event_slug)
    rows = await BlockedDevice.select().where(BlockedDevice.event == event["id"]).order_by(BlockedDevice.created_at)
    stall_ids = list({r["stall"] for r in rows if r["stall"] is not None})
    stalls = (
        {s["id"]: s for s in await Stall.select(Stall.id, Stall.code, Stall.name).where(Stall.id.is_in(stall_ids))}
        if stall_ids
        else {}
    )
    return [
        BlockView(
            UUID(str(r["device"])),
            stalls[r["stall"]]["code"] if r["stall"] in stalls else None,
            stalls[r["stall"]]["name"] if r["stall"] in stalls else None,
            r["blocked_by"],
            utc(r["created_at"]),
        )
        for r in rows
    ]


async def refuse_if_blocked(device_id: UUID | None, event_id: object, stall_id: object) -> None:
    """Refuse a visitor blocked at this event or at this stall (one indexed lookup per message)."""
    if device_id is None:
        return
    rows = await BlockedDevice.select(BlockedDevice.stall).where(
        (BlockedDevice.device == device_id) & (BlockedDevice.event == event_id)
    )
    if any(r["stall"] is None for r in rows):
        raise Forbidden("This device has been blocked from chatting at this event by the organizer")
    if any(r["stall"] == stall_id for r in rows):
        raise Forbidden("The seller has blocked this device from chatting with their stall")


async def follow_to_new_device(device_id: UUID, address_key: str) -> None:
    """A device just created from the address of a device blocked within FOLLOW_WINDOW inherits
    those blocks: the cheapest way around a block (a new token) leads straight back into it."""
    if not address_key:
        return
    since = datetime.now(UTC) - FOLLOW_WINDOW
    rows = await BlockedDevice.select().where(
        (BlockedDevice.address_key == address_key)
        & (BlockedDevice.created_at > since)
        & (BlockedDevice.blocked_by != FOLLOWED)
    )
    for row in rows:
        await BlockedDevice.insert(
            BlockedDevice(
                event=row["event"],
                device=device_id,
                stall=row["stall"],
                blocked_by=FOLLOWED,
                address_key=address_key,
                created_at=row["created_at"],  # follows the original block's clock, never extends it
            )
        )


async def _block(event_id: Any, device_id: UUID, stall_id: Any, by: str) -> None:
    same = (BlockedDevice.event == event_id) & (BlockedDevice.device == device_id)
    same &= BlockedDevice.stall.is_null() if stall_id is None else (BlockedDevice.stall == stall_id)
    if await BlockedDevice.exists().where(same):
        return
    device = await Device.select(Device.address_key).where(Device.id == device_id).first()
    await BlockedDevice.insert(
        BlockedDevice(
            event=event_id,
            device=device_id,
            stall=stall_id,
            blocked_by=by,
            address_key=device["address_key"] if device else "",
            created_at=datetime.now(UTC),
        )
    )


async def _lift(event_id: Any, device_id: UUID, *, stall_id: Any) -> None:
    """Remove the device's blocks (all of them at the event, or one stall's) and those that
    followed from them to other devices."""
    mine = (BlockedDevice.event == event_id) & (BlockedDevice.device == device_id)
    if stall_id is not None:
        mine &= BlockedDevice.stall == stall_id
    lifted = await BlockedDevice.select(BlockedDevice.address_key, BlockedDevice.stall).where(mine)
    await BlockedDevice.delete().where(mine)
    for row in lifted:
        if not row["address_key"]:
            continue
        followed = (
            (BlockedDevice.event == event_id)
            & (BlockedDevice.blocked_by == FOLLOWED)
            & (BlockedDevice.address_key == row["address_key"])
        )
        followed &= BlockedDevice.stall.is_null() if row["stall"] is None else (BlockedDevice.stall == row["stall"])
        await BlockedDevice.delete().where(followed)
