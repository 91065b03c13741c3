"""The organizer's moderation tools: reported messages (blocks: blocks.py; kiosk tokens: kiosk_tokens.py).

Hiding items and stalls lives with items and stalls (`set_item_hidden`, `set_stall_hidden`);
here is what has no other home.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from server.domain.actors import Actor, require_any
from server.domain.errors import NotFound
from server.domain.events import owned_event
from server.domain.validate import text
from server.domain.views import utc
from server.tables import Message, Report


@dataclass(frozen=True)
class ReportView:
    id: UUID
    message_id: UUID
    conversation_id: UUID
    body: str
    sender: str
    reporter: str
    reason: str
    created_at: datetime
    device_id: UUID  # the conversation's visitor: what "block this visitor" needs
    stall_code: str


async def report_message(actor: Actor | None, message_id: UUID, reason: str) -> ReportView:
    """A participant flags a message for the organizer."""
    who = require_any(actor)
    row = (
        await Message.select(
            Message.id,
            Message.conversation,
            Message.conversation.device.as_alias("device"),
            Message.conversation.stall.vendor.as_alias("vendor"),  # type: ignore[union-attr]
            Message.conversation.event.as_alias("event"),
        )
        .where(Message.id == message_id)
        .first()
    )
    if row is None or not (
        (who.role == "device" and row["device"] == who.device_id)
        or (who.role == "vendor" and row["vendor"] == who.account_id)
    ):
        raise NotFound("No such message")
    reporter = f"device:{who.device_id}" if who.role == "device" else f"account:{who.account_id}"
    report = Report(
        id=uuid4(),
        event=row["event"],
        message=message_id,
        reporter=reporter,
        reason=text(reason, "reason", max_len=500),
    )
    await report.save()
    return (await list_reports_for(row["event"], [report.id]))[0]


async def list_reports(actor: Actor | None, event_slug: str) -> list[ReportView]:
    event = await owned_event(actor, event_slug)
    return await list_reports_for(event["id"])


async def list_reports_for(event_id: object, ids: list[UUID] | None = None) -> list[ReportView]:
    query = Report.select(
        Report.id,
        Report.message,
        Report.reporter,
        Report.reason,
        Report.created_at,
        Report.message.body.as_alias("body"),
        Report.message.sender.as_alias("sender"),
        Report.message.conversation.as_alias("conversation"),
        Report.message.conversation.device.as_alias("device"),  # type: ignore[union-attr]
        Report.message.conversation.stall.code.as_alias("stall_code"),  # type: ignore[union-attr]
    ).where(Report.event == event_id)
    if ids is not None:
        query = query.where(Report.id.is_in(ids))
    rows = await query.order_by(Report.created_at, ascending=False)
    return [
        ReportView(
            r["id"],
            r["message"],
            r["conversation"],
            r["body"],
            r["sender"],
            r["reporter"],
            r["reason"],
            utc(r["created_at"]),
            UUID(str(r["device"])),
            r["stall_code"],
        )
        for r in rows
    ]
