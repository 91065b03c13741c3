"""Receipts and typing, and the item-state notes both sides of a conversation get.

Receipts are stored (and logged, so replicas learn them through pulls too); typing is only
relayed, never stored or logged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from server.domain.actors import Actor, require_any
from server.domain.chat.channels import account_channel, conversation_scope, device_channel
from server.domain.chat.participants import channels_of, participant
from server.domain.chat.views import ConversationView, conversation_view
from server.domain.context import Services
from server.domain.rows import locked, one
from server.domain.validate import count
from server.tables import Conversation, Message, Stall
from sync.log import UnitOfWork, unit_of_work

MAX_SEQ = 2**31 - 1  # Message.seq is a 32-bit column: a larger number cannot even be compared with it


async def mark_read(
    services: Services, actor: Actor | None, conversation_id: UUID, up_to_seq: int, *, delivered_only: bool = False
) -> ConversationView:
    """Mark the other side's messages up to `up_to_seq` delivered (and read, unless delivered_only)."""
    who = require_any(actor)
    up_to_seq = count(up_to_seq, "up_to_seq", low=0, high=MAX_SEQ)
    async with unit_of_work(services.engine, services.publish) as uow:
        role = await participant(who, conversation_id)
        conversation = await one(
            locked(Conversation.select().where(Conversation.id == conversation_id)), "No conversation"
        )
        other = "vendor" if role == "visitor" else "visitor"
        now = datetime.now(UTC)
        mine = (
            (Message.conversation == conversation_id)
            & (Message.seq <= up_to_seq)
            & Message.sender.is_in([other, "system"])
        )
        unmarked = Message.read_at.is_null() if not delivered_only else Message.delivered_at.is_null()
        changed = [r["id"] for r in await Message.select(Message.id).where(mine & unmarked)]
        await Message.update({Message.delivered_at: now}).where(mine & Message.delivered_at.is_null())
        if not delivered_only:
            await Message.update({Message.read_at: now}).where(mine & Message.read_at.is_null())
        for message_id in changed:  # receipts reach replicas through pulls too, not only the socket
            uow.record(conversation_scope(conversation_id), "message", message_id, 3 if not delivered_only else 2)
        if not delivered_only:
            counter = Conversation.visitor_unread if role == "visitor" else Conversation.vendor_unread
            await Conversation.update({counter: 0}).where(Conversation.id == conversation_id)
        stall = await one(Stall.select(Stall.read_receipts).where(Stall.id == conversation["stall"]), "No stall")
        receipt = "delivered" if delivered_only or (role == "vendor" and not stall["read_receipts"]) else "read"
        uow.announce(
            {
                "type": "receipt",
                "conversation_id": str(conversation_id),
                "up_to_seq": up_to_seq,
                "status": receipt,
                "by": role,
            },
            await channels_of(conversation),
        )
    return await conversation_view(conversation_id, who)


async def typing(services: Services, actor: Actor, conversation_id: UUID) -> None:
    """Relay "typing…" to the other side; never stored, never logged."""
    role = await participant(actor, conversation_id)
    conversation = await one(Conversation.select().where(Conversation.id == conversation_id), "No conversation")
    if services.publish is not None:
        services.publish(
            {"type": "typing", "conversation_id": str(conversation_id), "by": role}, await channels_of(conversation)
        )


async def announce_item_state(uow: UnitOfWork, item_id: object, state: str, quantity: int, version: int) -> None:
    """Tell both sides of every conversation about this item that it was reserved, sold, freed."""
    about = Message.select(Message.conversation).where(Message.item == item_id)
    rows = await Conversation.select(Conversation.device, Conversation.stall.vendor.as_alias("vendor")).where(
        (Conversation.item == item_id) | Conversation.id.is_in(about)
    )
    channels = sorted({device_channel(r["device"]) for r in rows} | {account_channel(r["vendor"]) for r in rows})
    if channels:
        uow.announce(
            {"type": "item", "item_id": str(item_id), "state": state, "quantity": quantity, "version": version},
            channels,
        )
