"""Chat between a visitor's device and a stall: the heart of Souk.

Rules that live here (REST, WebSocket and sync push all call these functions):
- one conversation per (stall, visitor device); the visitor may create it offline, naming its
  UUID, together with the first message;
- messages are append-only and carry the sender's UUID: sending the same UUID again returns the
  stored message, so clients retry forever safely; the server numbers them per conversation;
- only the conversation's visitor device and the stall's vendor may read or write in it;
- "is this still available?" about an item is answered at once from the item's state (the
  vendor still sees the question);
- realtime events go to personal channels ("device:<id>", "account:<id>") after the commit;
  the change log records every message in the conversation's scope for sync pulls.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from server.domain.actors import Actor, require_any
from server.domain.blocks import refuse_if_blocked
from server.domain.context import Market
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.flood import refuse_if_flooding
from server.domain.money import format_money
from server.domain.rows import locked, one
from server.domain.validate import count, text
from server.domain.views import photo_view, utc
from server.tables import Conversation, Device, Item, Message, Photo, Presence, Stall
from sync.log import UnitOfWork, unit_of_work

MAX_MESSAGE = 2000
MAX_SEQ = 2**31 - 1  # Message.seq is a 32-bit column: a larger number cannot even be compared with it
PREVIEW = 140


def conversation_scope(conversation_id: object) -> str:
    return f"conversation:{conversation_id}"


def device_channel(device_id: object) -> str:
    return f"device:{device_id}"


def account_channel(account_id: object) -> str:
    return f"account:{account_id}"


@dataclass(frozen=True)
class MessageView:
    id: UUID
    conversation_id: UUID
    seq: int
    sender: str  # "visitor" | "vendor" | "system"
    body: str
    item_id: UUID | None
    item_card: dict[str, Any] | None
    photo: dict[str, Any] | None
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None


@dataclass(frozen=True)
class ConversationView:
    id: UUID
    event_id: UUID
    stall_id: UUID
    stall_code: str
    stall_name: str
    device_id: UUID
    item_id: UUID | None
    last_seq: int
    last_preview: str
    last_message_at: datetime
    unread: int  # for whoever asked
    seller_online: bool
    version: int


@dataclass(frozen=True)
class SendInput:
    conversation_id: UUID
    message_id: UUID
    body: str = ""
    stall_code: str | None = None  # lets a visitor open the conversation with its first message
    item_id: UUID | None = None
    photo_key: str | None = None


# --- opening and listing -------------------------------------------------------------------


async def open_conversation(
    market: Market,
    actor: Actor | None,
    stall_code: str,
    conversation_id: UUID | None = None,
    item_id: UUID | None = None,
) -> ConversationView:
    """The visitor's conversation with a stall: the existing one, or a new one."""
    visitor = _visitor(actor)
    async with unit_of_work(market.engine, market.publish) as uow:
        row = await _open(uow, visitor, stall_code, conversation_id, item_id)
    return await conversation_view(row["id"], visitor)


async def _open(
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


async def conversation_view(conversation_id: object, actor: Actor) -> ConversationView:
    row = await one(
        Conversation.select(
            *Conversation.all_columns(),
            Conversation.stall.code.as_alias("stall_code"),
            Conversation.stall.name.as_alias("stall_name"),
            Conversation.stall.vendor.as_alias("vendor"),
        ).where(Conversation.id == conversation_id),
        "No such conversation",
    )
    return _conversation_view(row, actor, await is_online(account_channel(row["vendor"])))


async def get_conversation(actor: Actor | None, conversation_id: UUID) -> ConversationView:
    who = require_any(actor)
    await _participant(who, conversation_id)
    return await conversation_view(conversation_id, who)


async def list_conversations(actor: Actor | None) -> list[ConversationView]:
    """A vendor's inbox (all their stalls) or a visitor's conversations, newest first."""
    who = require_any(actor)
    query = Conversation.select(
        *Conversation.all_columns(),
        Conversation.stall.code.as_alias("stall_code"),
        Conversation.stall.name.as_alias("stall_name"),
        Conversation.stall.vendor.as_alias("vendor"),
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
    return [_conversation_view(r, who, online[r["vendor"]]) for r in rows]


async def messages_after(
    actor: Actor | None, conversation_id: UUID, after_seq: int = 0, limit: int = 200
) -> list[MessageView]:
    """Catch-up after a reconnect: exactly the messages the client has not seen, in order."""
    who = require_any(actor)
    await _participant(who, conversation_id)
    rows = await (
        Message.select()
        .where((Message.conversation == conversation_id) & (Message.seq > after_seq))
        .order_by(Message.seq)
        .limit(max(1, min(limit, 500)))
    )
    return await for_reader(who, [message_view(r) for r in rows])


async def for_reader(who: Actor, views: list[MessageView]) -> list[MessageView]:
    """What `who` may see: a visitor does not learn "read" from a vendor who turned receipts off."""
    if who.role != "device" or not views:
        return views
    conversation_ids = list({v.conversation_id for v in views})
    rows = await Conversation.select(Conversation.id, Conversation.stall.read_receipts.as_alias("receipts")).where(
        Conversation.id.is_in(conversation_ids)
    )
    hidden = {r["id"] for r in rows if not r["receipts"]}
    return [replace(v, read_at=None) if v.conversation_id in hidden and v.sender == "visitor" else v for v in views]


# --- sending -------------------------------------------------------------------------------


async def send_message(market: Market, actor: Actor | None, data: SendInput) -> MessageView:
    """Append a message; the same message id twice stores it once and returns the stored one."""
    who = require_any(actor)
    body = text(data.body, "body", max_len=MAX_MESSAGE, multiline=True)
    if not body and data.photo_key is None and data.item_id is None:
        raise Invalid("body must not be empty", field="body")
    async with unit_of_work(market.engine, market.publish) as uow:
        conversation = await _conversation_for_send(uow, who, data)  # locked: sends to it queue here
        stored = await Message.select().where(Message.id == data.message_id).first()
        if stored is not None:
            return await _resent(who, stored, data)
        role, conversation["vendor"] = await _participant_and_vendor(who, conversation["id"])
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
    await _participant(who, data.conversation_id)
    return (await for_reader(who, [message_view(stored)]))[0]


async def system_message(market: Market, conversation_id: UUID, body: str, item_id: UUID | None = None) -> None:
    """A note from Souk itself in a conversation (reservations made or lapsed)."""
    async with unit_of_work(market.engine, market.publish) as uow:
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
        return await _open(uow, who, data.stall_code, data.conversation_id, data.item_id)
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
    photo = photo_view(photo_key) if photo_key else None
    view = MessageView(
        id=message_id,
        conversation_id=_uuid(conversation["id"]),
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
    frame: dict[str, object] = {"type": "message", "message": _json(view), "stall_id": str(conversation["stall"])}
    uow.announce(frame, await _channels(conversation))
    return view


# --- receipts and typing -------------------------------------------------------------------


async def mark_read(
    market: Market, actor: Actor | None, conversation_id: UUID, up_to_seq: int, *, delivered_only: bool = False
) -> ConversationView:
    """Mark the other side's messages up to `up_to_seq` delivered (and read, unless delivered_only)."""
    who = require_any(actor)
    up_to_seq = count(up_to_seq, "up_to_seq", low=0, high=MAX_SEQ)
    async with unit_of_work(market.engine, market.publish) as uow:
        role = await _participant(who, conversation_id)
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
            await _channels(conversation),
        )
    return await conversation_view(conversation_id, who)


async def typing(market: Market, actor: Actor, conversation_id: UUID) -> None:
    """Relay "typing…" to the other side; never stored, never logged."""
    role = await _participant(actor, conversation_id)
    conversation = await one(Conversation.select().where(Conversation.id == conversation_id), "No conversation")
    if market.publish is not None:
        market.publish(
            {"type": "typing", "conversation_id": str(conversation_id), "by": role}, await _channels(conversation)
        )


def intro_message(stall_name: str, event_name: str, item_title: str | None = None) -> str:
    """The prefilled first message: it names the stall and the event (and the item), so the
    vendor knows at once where the visitor is and what they saw."""
    if item_title:
        return f"Hello {stall_name}! I'm at {event_name} and I'm interested in “{item_title}”."
    return f"Hello {stall_name}! I'm at {event_name} and I'd like to ask about your stall."


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


# --- availability auto-answer --------------------------------------------------------------

_AVAILABLE_QUESTION = re.compile(
    r"\b(still\s+)?(available|for\s+sale|in\s+stock)\b|\bdisponible\b|\bverfügbar\b|متوفر|متاح",
    re.IGNORECASE,
)


def asks_if_available(body: str) -> bool:
    """ "Is this still available?" in its common forms (a question about an item)."""
    folded = unicodedata.normalize("NFKC", body).casefold()
    return len(folded) <= 120 and ("?" in folded or "؟" in folded) and bool(_AVAILABLE_QUESTION.search(folded))


def availability_answer(card: dict[str, Any]) -> str:
    title = card["title"]
    if card["state"] == "sold":
        return f"Sorry — {title} has been sold."
    if card["state"] == "reserved":
        return f"{title} is reserved for someone right now; the seller will reply to you."
    left = card["quantity"]
    return f"Yes — {title} is available ({left} left, {card['price_text']}). The seller will reply soon."


# --- helpers -------------------------------------------------------------------------------


def _visitor(actor: Actor | None) -> Actor:
    who = require_any(actor)
    if who.role != "device":
        raise Forbidden("Only a visitor's device starts a conversation with a stall")
    return who


async def _participant(who: Actor, conversation_id: UUID) -> str:
    """'visitor' or 'vendor' if `who` is in the conversation; 404 otherwise (no probing)."""
    return (await _participant_and_vendor(who, conversation_id))[0]


async def _participant_and_vendor(who: Actor, conversation_id: UUID) -> tuple[str, Any]:
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


async def _channels(conversation: dict[str, Any]) -> list[str]:
    vendor = conversation.get("vendor")
    if vendor is None:
        vendor = (await one(Stall.select(Stall.vendor).where(Stall.id == conversation["stall"]), "No stall"))["vendor"]
    return [device_channel(conversation["device"]), account_channel(vendor)]


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


PRESENCE_STALE = timedelta(minutes=2)  # open sockets ping every 30 s; a dead worker's count expires


async def is_online(who: str) -> bool:
    """Whether `who` ("account:<id>" / "device:<id>") has a live socket right now."""
    row = await Presence.select(Presence.sockets, Presence.seen_at).where(Presence.who == who).first()
    return bool(row and row["sockets"] > 0 and utc(row["seen_at"]) > datetime.now(UTC) - PRESENCE_STALE)


def message_version(view: MessageView) -> int:
    """Messages never change except for receipts: sent 1, delivered 2, read 3."""
    return 1 + (view.delivered_at is not None) + (view.read_at is not None)


def message_view(row: dict[str, Any]) -> MessageView:
    photo = photo_view(row["photo_key"]) if row["photo_key"] else None
    return MessageView(
        id=_uuid(row["id"]),
        conversation_id=_uuid(row["conversation"]),
        seq=int(row["seq"]),
        sender=row["sender"],
        body=row["body"],
        item_id=_uuid(row["item"]) if row["item"] else None,
        item_card=json.loads(row["item_card"]),
        photo=vars(photo) if photo else None,
        created_at=utc(row["created_at"]),
        delivered_at=utc(row["delivered_at"]) if row["delivered_at"] else None,
        read_at=utc(row["read_at"]) if row["read_at"] else None,
    )


def _conversation_view(row: dict[str, Any], who: Actor, seller_online: bool) -> ConversationView:
    return ConversationView(
        id=_uuid(row["id"]),
        event_id=_uuid(row["event"]),
        stall_id=_uuid(row["stall"]),
        stall_code=row["stall_code"],
        stall_name=row["stall_name"],
        device_id=_uuid(row["device"]),
        item_id=_uuid(row["item"]) if row["item"] else None,
        last_seq=int(row["last_seq"]),
        last_preview=row["last_preview"],
        last_message_at=utc(row["last_message_at"]),
        unread=int(row["visitor_unread"] if who.role == "device" else row["vendor_unread"]),
        seller_online=seller_online,
        version=int(row["version"]),
    )


def _json(view: MessageView) -> dict[str, object]:
    from dataclasses import asdict

    data: dict[str, object] = json.loads(json.dumps(asdict(view), default=str))
    return data


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
