"""Message flood control: how many messages one sender may send in a rolling minute.

A market chat is a few messages per visitor, so a device sending dozens a minute is a script,
not a person; it gets 429 with Retry-After and everyone else carries on. The count comes from
the messages table itself, inside the sender's write transaction, so it holds across workers
without another moving part. The limits leave room for a phone that comes back online and
sends what it queued offline in one go, and vendors get more: one vendor answers many visitors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from server.domain.errors import TooManyRequests
from server.domain.views import utc
from server.tables import Conversation, Message, Stall


@dataclass(frozen=True)
class Limit:
    messages: int
    window: timedelta


VISITOR_LIMIT = Limit(messages=30, window=timedelta(minutes=1))
VENDOR_LIMIT = Limit(messages=120, window=timedelta(minutes=1))


async def refuse_if_flooding(role: str, *, device_id: UUID | None, account_id: UUID | None) -> None:
    """Raise TooManyRequests when this sender already used up their window."""
    now = datetime.now(UTC)
    if role == "visitor":
        limit = VISITOR_LIMIT
        conversations = Conversation.select(Conversation.id).where(Conversation.device == device_id)
    else:
        limit = VENDOR_LIMIT
        stalls = Stall.select(Stall.id).where(Stall.vendor == account_id)
        conversations = Conversation.select(Conversation.id).where(Conversation.stall.is_in(stalls))
    # Sub-selects, not joins: the planner then walks the conversation index instead of
    # scanning every message of the event.
    mine = (Message.sender == role) & Message.conversation.is_in(conversations)
    recent = (
        await Message.select(Message.created_at)
        .where(mine & (Message.created_at > now - limit.window))
        .order_by(Message.created_at, ascending=False)
        .limit(limit.messages)
    )
    if len(recent) < limit.messages:
        return
    # The oldest of the last `messages` leaves the window first; then one more fits.
    frees_at = utc(recent[-1]["created_at"]) + limit.window
    wait = max(1, math.ceil((frees_at - now).total_seconds()))
    raise TooManyRequests(
        f"Too many messages in a minute: wait {wait} s and send again (at most {limit.messages} a minute).",
        retry_after=wait,
    )
