"""What a sync pull sends (protocol: `sync/pull.py`): one caller's view of one event.

The sync library pages, follows the log and signs cursors; this module says which scopes a
caller may read (the event, and only their own conversations) and what each record holds (the
same views the REST routes answer with). Deleted or hidden entities become tombstones.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from server.domain import events
from server.domain.actors import Actor, require_any
from server.domain.chat.channels import conversation_scope
from server.domain.chat.views import conversation_view, for_reader, message_version, message_view
from server.domain.context import Services
from server.domain.totals import event_totals
from server.domain.views import cause_view, event_view, item_view, stall_view
from server.tables import Cause, Conversation, Event, Item, Message, Stall
from sync.log import event_scope
from sync.pull import DEFAULT_LIMIT, Change, PullResult
from sync.pull import pull as pull_feed

MESSAGES_IN_SNAPSHOT = 200  # per conversation; older ones are fetched on demand


async def pull(
    services: Services, actor: Actor | None, event_ref: str, cursor_token: str | None, limit: int = DEFAULT_LIMIT
) -> PullResult:
    """Changes in an event since the caller's cursor (none: a snapshot first)."""
    caller = require_any(actor)
    event = await events.get_event(event_ref)
    feed = EventFeed(services, caller, event.id)
    return await pull_feed(feed, str(event.id), cursor_token, services.settings.resolved_secret(), limit)


async def scopes_for(actor: Actor, event_id: UUID) -> list[str]:
    """The feeds this caller may read: the event, and only their own conversations.

    A visitor never receives another visitor's messages because other conversations' scopes
    are simply not in this list.
    """
    return [event_scope(event_id), *(conversation_scope(c) for c in await _conversation_ids(actor, event_id))]


class EventFeed:
    """The `sync.pull.Feed` of one event as one caller may see it."""

    def __init__(self, services: Services, actor: Actor, event_id: UUID) -> None:
        self.services = services
        self.actor = actor
        self.event_id = event_id

    async def scopes(self) -> list[str]:
        return await scopes_for(self.actor, self.event_id)

    async def snapshot_start(self) -> list[Change]:
        changes = await self._event_and_profile()
        changes += await _conversations(self.actor, await _conversation_ids(self.actor, self.event_id))
        return changes

    async def snapshot_page(self, after: str, limit: int) -> list[Change]:
        event_id = self.event_id
        query = Item.select().where((Item.event == event_id) & Item.deleted_at.is_null() & Item.hidden.eq(False))
        if after:
            query = query.where(Item.id > UUID(after))
        return [_item_change(r) for r in await query.order_by(Item.id).limit(limit)]

    async def current(self, ids: dict[str, list[str]]) -> dict[tuple[str, str], Change]:
        base_url = self.services.settings.base_url
        found: dict[tuple[str, str], Change] = {}
        if "item" in ids:
            for row in await Item.select().where(Item.id.is_in(ids["item"])):
                found[("item", str(row["id"]))] = _item_change(row)
        if "stall" in ids:
            for row in await Stall.select().where(Stall.id.is_in(ids["stall"])):
                found[("stall", str(row["id"]))] = _stall_change(row, base_url)
        if "cause" in ids:
            for row in await Cause.select().where(Cause.id.is_in(ids["cause"])):
                found[("cause", str(row["id"]))] = Change(
                    "cause", str(row["id"]), "upsert", row["version"], _plain(cause_view(row))
                )
        if "event" in ids:
            for row in await Event.select().where(Event.id.is_in(ids["event"])):
                found[("event", str(row["id"]))] = Change(
                    "event", str(row["id"]), "upsert", row["version"], _plain(event_view(row))
                )
        if "conversation" in ids:
            for change in await _conversations(self.actor, ids["conversation"], with_messages=False):
                found[("conversation", change.id)] = change
        if "message" in ids:
            rows = await Message.select().where(Message.id.is_in(ids["message"]))
            for view in await for_reader(self.actor, [message_view(r) for r in rows]):
                found[("message", str(view.id))] = Change(
                    "message", str(view.id), "upsert", message_version(view), _plain(view)
                )
        return found

    async def trailing(self, entities: set[str]) -> list[Change]:
        return [await _totals_change(self.event_id)] if "sale" in entities else []

    async def _event_and_profile(self) -> list[Change]:
        event_id = self.event_id
        event = await Event.select().where(Event.id == event_id).first()
        changes = (
            [Change("event", str(event_id), "upsert", int(event["version"]), _plain(event_view(event)))]
            if event
            else []
        )
        for row in await Cause.select().where(Cause.event == event_id):
            changes.append(Change("cause", str(row["id"]), "upsert", int(row["version"]), _plain(cause_view(row))))
        for row in await Stall.select().where(Stall.event == event_id):
            changes.append(_stall_change(row, self.services.settings.base_url))
        changes.append(await _totals_change(event_id))
        return changes


async def _conversation_ids(actor: Actor, event_id: UUID) -> list[str]:
    query = Conversation.select(Conversation.id).where(Conversation.event == event_id)
    if actor.role == "device":
        query = query.where(Conversation.device == actor.device_id)
    elif actor.role == "vendor":
        query = query.where(Conversation.stall.vendor == actor.account_id)
    else:
        return []
    return [str(r["id"]) for r in await query]


async def _conversations(actor: Actor, conversation_ids: list[str], with_messages: bool = True) -> list[Change]:
    changes = []
    for conversation_id in conversation_ids:
        view = await conversation_view(conversation_id, actor)
        changes.append(Change("conversation", conversation_id, "upsert", view.version, _plain(view)))
        if with_messages:
            rows = await (
                Message.select()
                .where(Message.conversation == conversation_id)
                .order_by(Message.seq, ascending=False)
                .limit(MESSAGES_IN_SNAPSHOT)
            )
            views = await for_reader(actor, [message_view(r) for r in reversed(rows)])
            changes += [Change("message", str(v.id), "upsert", message_version(v), _plain(v)) for v in views]
    return changes


def _item_change(row: dict[str, Any]) -> Change:
    view = item_view(row)
    if view.deleted or view.hidden:
        return Change("item", str(view.id), "delete", view.version, None)
    return Change("item", str(view.id), "upsert", view.version, _plain(view))


def _stall_change(row: dict[str, Any], base_url: str) -> Change:
    view = stall_view(row, base_url)
    if view.hidden:
        return Change("stall", str(view.id), "delete", view.version, None)
    return Change("stall", str(view.id), "upsert", view.version, _plain(view))


async def _totals_change(event_id: UUID) -> Change:
    totals = await event_totals(event_id)
    return Change("totals", str(event_id), "upsert", totals.sales, _plain(totals))


def _plain(view: Any) -> dict[str, Any]:
    """A view's fields as a dict; the response encoder writes its UUIDs and times."""
    data: dict[str, Any] = asdict(view)
    return data
