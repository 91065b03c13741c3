"""Holding an item for one visitor from inside their conversation, and letting holds lapse.

A vendor taps "reserve for this visitor": the item is reserved (with an expiry) and the chat
says so. When the hold runs out, the sweeper makes the item available again by itself and says
that in the chat too, so nobody waits on a reservation nobody is keeping.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID
from zoneinfo import ZoneInfo

from server.domain import items
from server.domain.actors import Actor, require_role
from server.domain.chat.sending import system_message
from server.domain.context import Services
from server.domain.errors import DomainError, NotFound
from server.domain.rows import one
from server.domain.views import ItemView
from server.tables import Conversation, Event

log = logging.getLogger("souk.reservations")
DEFAULT_MINUTES = 30


async def reserve_for_visitor(
    services: Services, actor: Actor | None, conversation_id: UUID, item_id: UUID, minutes: int = DEFAULT_MINUTES
) -> ItemView:
    vendor = require_role(actor, "vendor")
    conversation = (
        await Conversation.select(Conversation.device, Conversation.stall.vendor.as_alias("vendor"), Conversation.event)
        .where(Conversation.id == conversation_id)
        .first()
    )
    if conversation is None or conversation["vendor"] != vendor.account_id:
        raise NotFound("No such conversation")
    item = await items.reserve_item(services, vendor, item_id, minutes, UUID(str(conversation["device"])))
    until = await _local_time(conversation["event"], item)
    await system_message(services, conversation_id, f"Reserved for you until {until}: {item.title}.", item_id)
    return item


async def sweep(services: Services) -> int:
    """Lapse every expired hold now; returns how many lapsed."""
    lapsed = 0
    for item_id in await items.lapsed_reservations():
        row = await items.expire_reservation(services, item_id)
        if row is None:
            continue
        lapsed += 1
        if row["reserved_for"] is None:
            continue
        conversation = (
            await Conversation.select(Conversation.id)
            .where((Conversation.stall == row["stall"]) & (Conversation.device == row["reserved_for"]))
            .first()
        )
        if conversation is not None:
            await system_message(
                services, conversation["id"], f"The reservation lapsed: {row['title']} is available again.", item_id
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


async def _local_time(event_id: object, item: ItemView) -> str:
    event = await one(Event.select(Event.time_zone).where(Event.id == event_id), "No event")
    assert item.reserved_until is not None
    return item.reserved_until.astimezone(ZoneInfo(event["time_zone"])).strftime("%H:%M")
