"""Opening and listing conversations: one per (stall, visitor device), never closed.

The visitor may create it offline, naming its UUID, together with the first message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from server.domain.actors import Actor, require_any
from server.domain.blocks import refuse_if_blocked
from server.domain.chat.channels import account_channel, conversation_scope
from server.domain.chat.participants import participant, require_visitor
from server.domain.chat.presence import is_online
from server.domain.chat.views import (
    ConversationView,
    MessageView,
    conversation_row_views,
    conversation_view,
    for_reader,
    message_views,
)
from server.domain.context import Services
from server.domain.errors import Conflict, Forbidden, NotFound
from server.domain.rows import locked, one
from server.tables import Conversation, Device, Message, Stall
from sync.log import UnitOfWork, unit_of_work


async def open_conversation(
    services: Services,
    actor: Actor | None,
    stall_code: str,
    conversation_id: UUID | None = None,
    item_id: UUID | None = None,
) -> ConversationView:
    """The visitor's conversation with a stall: the existing one, or a new one."""
    visitor = require_visitor(actor)
    async with unit_of_work(services.engine, services.publish) as uow:
        row = await open_row(uow, visitor, stall_code, conversation_id, item_id)
    return await conversation_view(row["id"], visitor)


async def open_row(
    uow: UnitOfWork, visitor: Actor, stall_code: str, conversation_id: UUID | None, item_id: UUID | None
) -> dict[str, Any]:
    stall = await one(Stall.select().where(Stall.code == stall_code), f"No stall with code {stall_code!r}")
    if stall["hidden"]:
        raise NotFound(f"No stall with code {stall_code!r}")
    await refuse_if_blocked(visitor.device_id, stall["event"], stall["id"])
    await locked(Device.select(Device.id).where(Device.id == visitor.device_id))  # one open at a time per visitor
    existing = (
        await Conversation.select()
        .where((Conversation.stall == stall["id"]) & (Conversation.device == visitor.device_id))
        .first()
    )
    if existing is not None:
        return existing
    if conversation_id is not None and await Conversation.exists().where(Conversation.id == conversation_id):
        raise Conflict("This conversation id is already taken", field="conversation_id")
    now = datetime.now(UTC)
    new_id = conversation_id or uuid4()
    await Conversation.insert(
        Conversation(
            id=new_id,
            event=stall["event"],
            stall=stall["id"],
            device=visitor.device_id,
            item=item_id,
            last_message_at=now,
            created_at=now,
        )
    )
    uow.record(conversation_scope(new_id), "conversation", new_id, 1)
    return await one(Conversation.select().where(Conversation.id == new_id), "No such conversation")


async def get_conversation(actor: Actor | None, conversation_id: UUID) -> ConversationView:
    who = require_any(actor)
    await participant(who, conversation_id)
    return await conversation_view(conversation_id, who)


async def list_conversations(actor: Actor | None) -> list[ConversationView]:
    """A vendor's inbox (all their stalls) or a visitor's conversations, newest first."""
    who = require_any(actor)
    query = Conversation.select(
        *Conversation.all_columns(),
        Conversation.stall.code.as_alias("stall_code"),
        Conversation.stall.name.as_alias("stall_name"),
        Conversation.stall.vendor.as_alias("vendor"),
        Conversation.device.first_name.as_alias("visitor_first_name"),
    )
    if who.role == "device":
        query = query.where(Conversation.device == who.device_id)
    elif who.role == "vendor":
        query = query.where(Conversation.stall.vendor == who.account_id)
    else:
        raise Forbidden("Organizers have no inbox; vendors and visitors do")
    rows = await query.order_by(Conversation.last_message_at, ascending=False)
    vendors = {r["vendor"] for r in rows}
    online = {v: await is_online(account_channel(v)) for v in vendors}
    return conversation_row_views(rows, who, online)


async def messages_after(
    actor: Actor | None, conversation_id: UUID, after_seq: int = 0, limit: int = 200
) -> list[MessageView]:
    """Catch-up after a reconnect: exactly the messages the client has not seen, in order."""
    who = require_any(actor)
    await participant(who, conversation_id)
    rows = await (
        Message.select()
        .where((Message.conversation == conversation_id) & (Message.seq > after_seq))
        .order_by(Message.seq)
        .limit(max(1, min(limit, 500)))
    )
    return await for_reader(who, await message_views(rows))


def intro_message(stall_name: str, event_name: str, item_title: str | None = None) -> str:
    """The prefilled first message: it names the stall and the event (and the item), so the
    vendor knows at once where the visitor is and what they saw."""
    if item_title:
        return f"Hello {stall_name}! I'm at {event_name} and I'm interested in “{item_title}”."
    return f"Hello {stall_name}! I'm at {event_name} and I'd like to ask about your stall."
