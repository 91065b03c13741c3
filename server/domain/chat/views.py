"""What chat hands out: messages and conversations as views, and what a reader may see of them."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from server.domain.actors import Actor
from server.domain.chat.channels import account_channel
from server.domain.chat.presence import is_online
from server.domain.rows import as_uuid, one
from server.domain.views import PhotoSizes, photo_sizes, sized_photo_view, utc
from server.tables import Conversation


def visitor_label(device_id: object, first_name: str | None = "") -> str:
    """The visitor's name in a chat, the same on both sides: the first name they chose, else
    "Visitor" and the first four characters of their device id ("Visitor A64B")."""
    return first_name or f"Visitor {str(device_id)[:4].upper()}"


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
    visitor_name: str  # how both sides call the visitor: their chosen first name or "Visitor A64B"
    item_id: UUID | None
    last_seq: int
    last_preview: str
    last_message_at: datetime
    unread: int  # for whoever asked
    seller_online: bool
    version: int


async def conversation_view(conversation_id: object, actor: Actor) -> ConversationView:
    row = await one(
        Conversation.select(
            *Conversation.all_columns(),
            Conversation.stall.code.as_alias("stall_code"),
            Conversation.stall.name.as_alias("stall_name"),
            Conversation.stall.vendor.as_alias("vendor"),
            Conversation.device.first_name.as_alias("visitor_first_name"),
        ).where(Conversation.id == conversation_id),
        "No such conversation",
    )
    return _conversation_view(row, actor, await is_online(account_channel(row["vendor"])))


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


def message_version(view: MessageView) -> int:
    """Messages never change except for receipts: sent 1, delivered 2, read 3."""
    return 1 + (view.delivered_at is not None) + (view.read_at is not None)


async def message_views(rows: list[dict[str, Any]]) -> list[MessageView]:
    """Views of message rows with their photos' real sizes (one query for all of them)."""
    sizes = await photo_sizes(r["photo_key"] for r in rows if r["photo_key"])
    return [message_view(r, sizes) for r in rows]


def message_view(row: dict[str, Any], sizes: PhotoSizes | None = None) -> MessageView:
    """The view of a message row; its photo is 0 x 0 unless `sizes` has it (`message_views`)."""
    photo = sized_photo_view(row["photo_key"], sizes or {}) if row["photo_key"] else None
    return MessageView(
        id=as_uuid(row["id"]),
        conversation_id=as_uuid(row["conversation"]),
        seq=int(row["seq"]),
        sender=row["sender"],
        body=row["body"],
        item_id=as_uuid(row["item"]) if row["item"] else None,
        item_card=json.loads(row["item_card"]),
        photo=vars(photo) if photo else None,
        created_at=utc(row["created_at"]),
        delivered_at=utc(row["delivered_at"]) if row["delivered_at"] else None,
        read_at=utc(row["read_at"]) if row["read_at"] else None,
    )


def _conversation_view(row: dict[str, Any], who: Actor, seller_online: bool) -> ConversationView:
    return ConversationView(
        id=as_uuid(row["id"]),
        event_id=as_uuid(row["event"]),
        stall_id=as_uuid(row["stall"]),
        stall_code=row["stall_code"],
        stall_name=row["stall_name"],
        device_id=as_uuid(row["device"]),
        visitor_name=visitor_label(row["device"], row.get("visitor_first_name")),
        item_id=as_uuid(row["item"]) if row["item"] else None,
        last_seq=int(row["last_seq"]),
        last_preview=row["last_preview"],
        last_message_at=utc(row["last_message_at"]),
        unread=int(row["visitor_unread"] if who.role == "device" else row["vendor_unread"]),
        seller_online=seller_online,
        version=int(row["version"]),
    )


def conversation_row_views(rows: list[dict[str, Any]], who: Actor, online: dict[Any, bool]) -> list[ConversationView]:
    """Views of conversation rows selected with their stall's code, name and vendor (and the
    device's first name as `visitor_first_name`)."""
    return [_conversation_view(r, who, online[r["vendor"]]) for r in rows]
