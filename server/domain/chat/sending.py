"""Sending: messages are append-only, numbered per conversation in arrival order.

A message carries the sender's UUID: sending the same UUID again returns the stored message, so
clients retry forever safely. A visitor's "is this still available?" about an item is answered
at once by Souk (`auto_answer.py`); the vendor still sees the question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from server.domain.actors import Actor, require_any
from server.domain.blocks import refuse_if_blocked
from server.domain.chat.auto_answer import asks_if_available, availability_answer
from server.domain.chat.channels import conversation_scope
from server.domain.chat.conversations import open_row
from server.domain.chat.participants import channels_of, participant, participant_and_vendor
from server.domain.chat.views import MessageView, for_reader, message_views
from server.domain.context import Services
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.flood import refuse_if_flooding
from server.domain.money import format_money
from server.domain.rows import as_uuid, locked, one
from server.domain.validate import text
from server.domain.views import photo_sizes, photo_view, sized_photo_view
from server.tables import Conversation, Item, Message, Photo
from sync.log import UnitOfWork, unit_of_work
from sync.plain import plain

MAX_MESSAGE = 2000
PREVIEW = 140


@dataclass(frozen=True)
class SendInput:
    conversation_id: UUID
    message_id: UUID
    body: str = ""
    stall_code: str | None = None  # lets a visitor open the conversation with its first message
    item_id: UUID | None = None
    photo_key: str | None = None


async def send_message(services: Services, actor: Actor | None, data: SendInput) -> MessageView:
    """Append a message; the same message id twice stores it once and returns the stored one."""
    who = require_any(actor)
    body = text(data.body, "body", max_len=MAX_MESSAGE, multiline=True)
    if not body and data.photo_key is None and data.item_id is None:
        raise Invalid("body must not be empty", field="body")
    async with unit_of_work(services.engine, services.publish) as uow:
        conversation = await _conversation_for_send(uow, who, data)  # locked: sends to it queue here
        stored = await Message.select().where(Message.id == data.message_id).first()
        if stored is not None:
            return await _resent(who, stored, data)
        role, conversation["vendor"] = await participant_and_vendor(who, conversation["id"])
        if role == "visitor":
            await refuse_if_blocked(who.device_id, conversation["event"], conversation["stall"])
        await refuse_if_flooding(role, device_id=who.device_id, account_id=who.account_id)
        card = await _item_card(data.item_id, conversation["stall"]) if data.item_id else None
        if data.photo_key is not None and not await Photo.exists().where(Photo.key == data.photo_key):
            raise Invalid("photo_key: unknown photo; upload it to /api/photos first", field="photo_key")
        message = await _append(uow, conversation, role, body, data.item_id, card, data.photo_key, data.message_id)
        if role == "visitor" and card is not None and asks_if_available(body):
            await _append(
                uow,
                await _reload(conversation["id"]),
                "system",
                availability_answer(card),
                data.item_id,
                card,
                None,
                uuid4(),
            )
    return message


async def _resent(who: Actor, stored: dict[str, Any], data: SendInput) -> MessageView:
    """A message id sent again: the stored message goes back only to a participant of its own
    conversation who sent it again there (a retry). Anyone else learns nothing from the id: the
    same 404 as for any conversation they are not in, or the same refusal as any taken id."""
    if stored["conversation"] != data.conversation_id:
        raise Conflict("This message id cannot be used; send with a new id", field="message_id")
    await participant(who, data.conversation_id)
    return (await for_reader(who, await message_views([stored])))[0]


async def system_message(services: Services, conversation_id: UUID, body: str, item_id: UUID | None = None) -> None:
    """A note from Souk itself in a conversation (reservations made or lapsed)."""
    async with unit_of_work(services.engine, services.publish) as uow:
        conversation = await one(
            locked(Conversation.select().where(Conversation.id == conversation_id)), "No conversation"
        )
        card = await _item_card(item_id, conversation["stall"]) if item_id else None
        await _append(uow, conversation, "system", body, item_id, card, None, uuid4())


async def _conversation_for_send(uow: UnitOfWork, who: Actor, data: SendInput) -> dict[str, Any]:
    row = await locked(Conversation.select().where(Conversation.id == data.conversation_id)).first()
    if row is not None:
        return row
    if who.role == "device" and data.stall_code:
        return await open_row(uow, who, data.stall_code, data.conversation_id, data.item_id)
    raise NotFound("No such conversation; a visitor opens one by sending with stall_code")


async def _append(
    uow: UnitOfWork,
    conversation: dict[str, Any],
    sender: str,
    body: str,
    item_id: UUID | None,
    card: dict[str, Any] | None,
    photo_key: str | None,
    message_id: UUID,
) -> MessageView:
    seq = int(conversation["last_seq"]) + 1
    now = datetime.now(UTC)
    await Message.insert(
        Message(
            id=message_id,
            conversation=conversation["id"],
            seq=seq,
            sender=sender,
            body=body,
            item=item_id,
            item_card=json.dumps(card, ensure_ascii=False),
            photo_key=photo_key,
            created_at=now,
        )
    )
    preview = (body or ("📷 Photo" if photo_key else (card or {}).get("title", "")))[:PREVIEW]
    unread: dict[Any, Any] = {
        "visitor": {Conversation.vendor_unread: Conversation.vendor_unread + 1},
        "vendor": {Conversation.visitor_unread: Conversation.visitor_unread + 1},
        "system": {
            Conversation.visitor_unread: Conversation.visitor_unread + 1,
            Conversation.vendor_unread: Conversation.vendor_unread + 1,
        },
    }[sender]
    version = int(conversation["version"]) + 1
    await Conversation.update(
        {
            Conversation.last_seq: seq,
            Conversation.last_preview: preview,
            Conversation.last_message_at: now,
            Conversation.version: version,
            **unread,
        }
    ).where(Conversation.id == conversation["id"])
    conversation.update(last_seq=seq, version=version)
    uow.record(conversation_scope(conversation["id"]), "message", message_id, 1)
    uow.record(conversation_scope(conversation["id"]), "conversation", conversation["id"], version)
    # Built from what was just inserted rather than read back: one query fewer per message.
    photo = sized_photo_view(photo_key, await photo_sizes([photo_key])) if photo_key else None
    view = MessageView(
        id=message_id,
        conversation_id=as_uuid(conversation["id"]),
        seq=seq,
        sender=sender,
        body=body,
        item_id=item_id,
        item_card=card,
        photo=vars(photo) if photo else None,
        created_at=now,
        delivered_at=None,
        read_at=None,
    )
    # The stall rides along so a vendor's screen for one stall can ignore their other stalls.
    frame: dict[str, object] = {"type": "message", "message": plain(view), "stall_id": str(conversation["stall"])}
    uow.announce(frame, await channels_of(conversation))
    return view


async def _reload(conversation_id: object) -> dict[str, Any]:
    return await one(locked(Conversation.select().where(Conversation.id == conversation_id)), "No conversation")


async def _item_card(item_id: UUID | None, stall_id: object) -> dict[str, Any]:
    row = await Item.select().where(Item.id == item_id).first()
    if row is None or row["deleted_at"] is not None or row["stall"] != stall_id:
        raise Invalid("item_id: no such item at this stall", field="item_id")
    photos = json.loads(row["photo_keys"])
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "price": int(row["price"]),
        "currency": row["currency"],
        "price_text": format_money(int(row["price"]), row["currency"]),
        "state": row["state"],
        "quantity": int(row["quantity"]),
        "photo": photo_view(photos[0]).thumb if photos else None,
    }
