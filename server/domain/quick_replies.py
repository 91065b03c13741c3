"""A vendor's saved answers ("Yes, still available!"), offered as one-tap replies in chat."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from server.domain.actors import Actor, require_role
from server.domain.errors import NotFound
from server.domain.validate import text
from server.tables import QuickReply


@dataclass(frozen=True)
class QuickReplyView:
    id: UUID
    text: str


async def list_quick_replies(actor: Actor | None) -> list[QuickReplyView]:
    vendor = require_role(actor, "vendor")
    rows = await QuickReply.select().where(QuickReply.account == vendor.account_id).order_by(QuickReply.created_at)
    return [QuickReplyView(r["id"], r["text"]) for r in rows]


async def add_quick_reply(actor: Actor | None, body: str) -> QuickReplyView:
    vendor = require_role(actor, "vendor")
    reply = QuickReply(id=uuid4(), account=vendor.account_id, text=text(body, "text", max_len=500, min_len=1))
    await reply.save()
    return QuickReplyView(reply.id, reply.text)


async def delete_quick_reply(actor: Actor | None, reply_id: UUID) -> None:
    vendor = require_role(actor, "vendor")
    mine = (QuickReply.id == reply_id) & (QuickReply.account == vendor.account_id)
    if not await QuickReply.exists().where(mine):
        raise NotFound("No such quick reply")
    await QuickReply.delete().where(mine)
