"""Who is in a conversation: its visitor device and the stall's vendor, nobody else.

Anyone else is answered 404, the same as for a conversation that does not exist, so ids cannot
be probed.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.domain.actors import Actor, require_any
from server.domain.chat.channels import account_channel, device_channel
from server.domain.errors import Forbidden, NotFound
from server.domain.rows import one
from server.tables import Conversation, Stall


def require_visitor(actor: Actor | None) -> Actor:
    """The caller as a visitor's device (only a device starts a conversation with a stall)."""
    who = require_any(actor)
    if who.role != "device":
        raise Forbidden("Only a visitor's device starts a conversation with a stall")
    return who


async def participant(who: Actor, conversation_id: UUID) -> str:
    """'visitor' or 'vendor' if `who` is in the conversation; 404 otherwise (no probing)."""
    return (await participant_and_vendor(who, conversation_id))[0]


async def participant_and_vendor(who: Actor, conversation_id: UUID) -> tuple[str, Any]:
    row = (
        await Conversation.select(Conversation.device, Conversation.stall.vendor.as_alias("vendor"))
        .where(Conversation.id == conversation_id)
        .first()
    )
    if row is not None and who.role == "device" and row["device"] == who.device_id:
        return "visitor", row["vendor"]
    if row is not None and who.role == "vendor" and row["vendor"] == who.account_id:
        return "vendor", row["vendor"]
    raise NotFound("No such conversation")


async def channels_of(conversation: dict[str, Any]) -> list[str]:
    """Both sides' personal channels (the vendor read from the stall if the row lacks it)."""
    vendor = conversation.get("vendor")
    if vendor is None:
        vendor = (await one(Stall.select(Stall.vendor).where(Stall.id == conversation["stall"]), "No stall"))["vendor"]
    return [device_channel(conversation["device"]), account_channel(vendor)]
