"""Holding an item for one visitor from inside their conversation, and letting holds lapse.

A vendor taps "reserve for this visitor": some units of the item are held for them (15 minutes,
an hour, until the end of the event...) and the chat says so; the other units stay on sale.
When the hold runs out, the sweeper lets it go by itself and says that in the chat too, so nobody
waits on a reservation nobody is keeping. The vendor can release it sooner.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from server.domain import items
from server.domain.actors import Actor, require_role
from server.domain.chat.sending import system_message
from server.domain.context import Services
from server.domain.errors import DomainError, NotFound
from server.domain.items import HoldLength
from server.domain.rows import one
from server.domain.views import ItemView
from server.tables import Conversation, Event

log = logging.getLogger("souk.reservations")
DEFAULT_MINUTES = items.DEFAULT_HOLD_MINUTES


async def reserve_for_visitor(
    services: Services,
    actor: Actor | None,
    conversation_id: UUID,
    item_id: UUID,
    minutes: int | None = None,
    *,
    quantity: int = 1,
    length: HoldLength | None = None,
    hold_id: UUID | None = None,
) -> ItemView:
    """Hold `quantity` units of the item for this conversation's visitor, for as long as the
    vendor chose, and say so in the chat."""
    vendor = require_role(actor, "vendor")
    conversation = await _vendors_conversation(vendor, conversation_id)
    device = UUID(str(conversation["device"]))
    item = await items.reserve_item(
        services, vendor, item_id, minutes, device, quantity=quantity, length=length, hold_id=hold_id
    )
    hold = next((h for h in await items.holds_of(vendor, item_id) if h.device_id == device), None)
    if hold is not None:
        until = await _local_time(conversation["event"], hold.until)
        units = f"{hold.quantity} × " if hold.quantity > 1 else ""
        await system_message(
            services, conversation_id, f"Reserved for you until {until}: {units}{item.title}.", item_id
        )
    return item


async def release_for_visitor(
    services: Services, actor: Actor | None, conversation_id: UUID, item_id: UUID
) -> ItemView:
    """Let go of what is held for this conversation's visitor, and say so in the chat."""
    vendor = require_role(actor, "vendor")
    conversation = await _vendors_conversation(vendor, conversation_id)
    device = UUID(str(conversation["device"]))
    had = any(h.device_id == device for h in await items.holds_of(vendor, item_id))
    item = await items.release_item(services, vendor, item_id, device_id=device)
    if had:
        await system_message(services, conversation_id, f"The seller released the hold on {item.title}.", item_id)
    return item


async def sweep(services: Services) -> int:
    """Lapse every expired hold now; returns how many lapsed."""
    lapsed = 0
    for hold_id in await items.lapsed_holds():
        row = await items.expire_hold(services, hold_id)
        if row is None:
            continue
        lapsed += 1
        if row["device"] is None:
            continue
        conversation = (
            await Conversation.select(Conversation.id)
            .where((Conversation.stall == row["stall"]) & (Conversation.device == row["device"]))
            .first()
        )
        if conversation is not None:
            await system_message(
                services, conversation["id"], f"The reservation lapsed: {row['title']} is available again.", row["item"]
            )
    return lapsed


async def run_sweeper(services: Services, every_seconds: float = 15.0) -> None:
    """Background loop; safe with several workers (each lapse re-checks in its transaction)."""
    while True:
        try:
            await sweep(services)
        except DomainError:
            log.exception("reservation sweep refused")
        except Exception:
            log.exception("reservation sweep failed; retrying")
        await asyncio.sleep(every_seconds)


async def _vendors_conversation(vendor: Actor, conversation_id: UUID) -> dict[str, Any]:
    conversation = (
        await Conversation.select(Conversation.device, Conversation.stall.vendor.as_alias("vendor"), Conversation.event)
        .where(Conversation.id == conversation_id)
        .first()
    )
    if conversation is None or conversation["vendor"] != vendor.account_id:
        raise NotFound("No such conversation")
    return conversation


async def _local_time(event_id: object, when: datetime) -> str:
    event = await one(Event.select(Event.time_zone).where(Event.id == event_id), "No event")
    return when.astimezone(ZoneInfo(event["time_zone"])).strftime("%H:%M")
