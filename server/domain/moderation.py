"""The organizer's moderation tools: reported messages, blocked devices, kiosk tokens.

Hiding items and stalls lives with items and stalls (`set_item_hidden`, `set_stall_hidden`);
here is what has no other home.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from server.auth.tokens import hash_token, new_token
from server.domain.actors import Actor, require_any
from server.domain.errors import Forbidden, NotFound, Unauthorized
from server.domain.events import owned_event
from server.domain.validate import text
from server.domain.views import utc
from server.tables import BlockedDevice, Event, KioskToken, Message, Report


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


async def block_device(actor: Actor | None, event_slug: str, device_id: UUID, blocked: bool = True) -> None:
    event = await owned_event(actor, event_slug)
    await BlockedDevice.delete().where((BlockedDevice.event == event["id"]) & (BlockedDevice.device == device_id))
    if blocked:
        await BlockedDevice.insert(BlockedDevice(event=event["id"], device=device_id))


async def refuse_if_blocked(device_id: UUID | None, event_id: object) -> None:
    if device_id is not None and await BlockedDevice.exists().where(
        (BlockedDevice.event == event_id) & (BlockedDevice.device == device_id)
    ):
        raise Forbidden("This device has been blocked from chatting at this event by the organizer")


@dataclass(frozen=True)
class KioskTokenOut:
    token: str
    url: str


async def create_kiosk_token(actor: Actor | None, event_slug: str, label: str, base_url: str) -> KioskTokenOut:
    """A token for one entrance screen; set up by the organizer, so a phone cannot take it over."""
    event = await owned_event(actor, event_slug)
    token, digest = new_token()
    await KioskToken.insert(KioskToken(token_hash=digest, event=event["id"], label=text(label, "label", max_len=80)))
    return KioskTokenOut(token, f"{base_url}/kiosk/{event['slug']}#token={token}")


async def kiosk_event(token: str | None, event_slug: str) -> UUID:
    """The event a kiosk token opens; 401 without one, 403 for a token of another event."""
    if not token:
        raise Unauthorized("This screen needs a kiosk token from the organizer")
    row = await KioskToken.select(KioskToken.event).where(KioskToken.token_hash == hash_token(token)).first()
    if row is None:
        raise Unauthorized("Unknown kiosk token")
    wanted = await Event.select(Event.id).where(Event.slug == event_slug).first()
    if wanted is None:
        raise NotFound(f"No event {event_slug!r}")
    if wanted["id"] != row["event"]:
        raise Forbidden("This kiosk token belongs to another event")
    return UUID(str(wanted["id"]))
