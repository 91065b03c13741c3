"""What a sync pull sends (protocol: `sync/pull.py`): one caller's view of one event.

The sync library pages, follows the log and signs cursors; this module says which scopes a
caller may read (the event, and only their own conversations) and what each record holds (the
same views the REST routes answer with). Deleted or hidden entities become tombstones.

Two record formats (sync/FORMAT.md): format 1, the views as they are, and format 2, compact
records (`server/domain/feed_records.py`). They differ in the snapshot's order too:

- format 1: event, causes, every stall, totals, conversations; then items by id;
- format 2: event, causes, totals, conversations, then the stall the visitor scanned (`stall`,
  if given) and its items, then the other stalls, then the other items by (stall id, item id),
  so that the stall in hand is usable from the first page and photos that repeat within a
  stall sit together (they compress).

A snapshot position (kept in the cursor, opaque to the library) says which format issued it,
so a cursor from one format's snapshot is never continued in the other's order.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any
from uuid import UUID

from server.domain import events
from server.domain.actors import Actor, require_any
from server.domain.chat.channels import conversation_scope
from server.domain.chat.views import conversation_view, for_reader, message_version, message_views
from server.domain.context import Services
from server.domain.feed_records import Format2Page, format2_page
from server.domain.totals import event_totals
from server.domain.views import ItemView, cause_view, event_view, item_views, stall_view
from server.tables import Cause, Conversation, Event, Item, Message, Sale, Stall
from sync.log import event_scope
from sync.pull import DEFAULT_LIMIT, Change, PullResult, SnapshotPage, pull_with_edits
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


async def pull_format2(
    services: Services,
    actor: Actor | None,
    event_ref: str,
    cursor_token: str | None,
    limit: int = DEFAULT_LIMIT,
    stall: str | None = None,
    *,
    patches: bool = False,
) -> Format2Page:
    """`pull` in format 2; `stall` (a stall code, first pull only) puts that stall's records first;
    `patches`: the client merges item patches (sync/FORMAT.md), so log pages may send them."""
    caller = require_any(actor)
    event = await events.get_event(event_ref)
    first = await _visible_stall(event.id, stall) if stall and not cursor_token else None
    feed = Format2Feed(services, caller, event.id, first)
    secret = services.settings.resolved_secret()
    result, edits = await pull_with_edits(feed, str(event.id), cursor_token, secret, limit)
    return format2_page(result, event.currency, edits if patches else None)


async def _visible_stall(event_id: UUID, code: str) -> str | None:
    """The id of the stall with `code` in this event, unless it is hidden (then as if not given:
    a first pull neither fails nor reveals it)."""
    row = await Stall.select(Stall.id).where((Stall.event == event_id) & (Stall.code == code) & Stall.hidden.eq(False))
    return str(row[0]["id"]) if row else None


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

    async def snapshot_page(self, after: str, limit: int) -> SnapshotPage | None:
        """Items by id; the position is the last item id sent."""
        if after and _FORMAT2_MARK in after:
            return None  # a format-2 snapshot's position
        query = _listed_items(self.event_id)
        if after:
            query = query.where(Item.id > UUID(after))
        rows = await query.order_by(Item.id).limit(limit + 1)
        changes = await _item_changes(rows[:limit])
        return SnapshotPage(changes, changes[-1].id if len(rows) > limit else None)

    async def current(self, ids: dict[str, list[str]]) -> dict[tuple[str, str], Change]:
        base_url = self.services.settings.base_url
        found: dict[tuple[str, str], Change] = {}
        if "item" in ids:
            for change in await _item_changes(await Item.select().where(Item.id.is_in(ids["item"]))):
                found[("item", change.id)] = change
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
            for view in await for_reader(self.actor, await message_views(rows)):
                found[("message", str(view.id))] = Change(
                    "message", str(view.id), "upsert", message_version(view), _plain(view)
                )
        return found

    async def trailing(self, entities: set[str]) -> list[Change]:
        return [await _totals_change(self.event_id)] if "sale" in entities else []

    async def _event_and_profile(self, with_stalls: bool = True) -> list[Change]:
        """The event, its causes, (its stalls,) its totals."""
        event_id = self.event_id
        event = await Event.select().where(Event.id == event_id).first()
        changes = (
            [Change("event", str(event_id), "upsert", int(event["version"]), _plain(event_view(event)))]
            if event
            else []
        )
        for row in await Cause.select().where(Cause.event == event_id):
            changes.append(Change("cause", str(row["id"]), "upsert", int(row["version"]), _plain(cause_view(row))))
        if with_stalls:
            for row in await Stall.select().where(Stall.event == event_id):
                changes.append(_stall_change(row, self.services.settings.base_url))
        changes.append(await _totals_change(event_id))
        return changes


_FORMAT2_MARK = ";"  # in a format-2 snapshot position, never in a format-1 one (an item id)


class Format2Feed(EventFeed):
    """The feed in format 2's snapshot order (the records are encoded after, per page).

    A snapshot position is "2;<first stall id or empty>;<phase>;<last key>", the phases being
    "f" (the first stall's items, by id), "s" (the other stalls, by id) and "i" (the other items,
    by stall id then item id; key "<stall id>/<item id>"). The first stall travels in the
    position, so later pages need not repeat the request's `stall`.
    """

    def __init__(self, services: Services, actor: Actor, event_id: UUID, first_stall: str | None) -> None:
        super().__init__(services, actor, event_id)
        self.first_stall = first_stall

    async def snapshot_start(self) -> list[Change]:
        event_id = self.event_id
        changes = await self._event_and_profile(with_stalls=False)
        changes += await _conversations(self.actor, await _conversation_ids(self.actor, event_id))
        if self.first_stall:
            row = await Stall.select().where(Stall.id == UUID(self.first_stall)).first()
            changes += [_stall_change(row, self.services.settings.base_url)] if row else []
        return changes

    async def snapshot_page(self, after: str, limit: int) -> SnapshotPage | None:
        if after:
            parts = after.split(_FORMAT2_MARK)
            if len(parts) != 4 or parts[0] != "2" or parts[2] not in ("f", "s", "i"):
                return None  # a format-1 snapshot's position
            first, phase, key = parts[1], parts[2], parts[3]
        else:
            first, phase, key = self.first_stall or "", "f" if self.first_stall else "s", ""
        changes: list[Change] = []
        while True:
            room = limit - len(changes)
            found, last, phase_done = await self._phase(first, phase, key, room)
            changes += found
            key = last or key
            if not phase_done:
                return SnapshotPage(changes, _FORMAT2_MARK.join(("2", first, phase, key)))
            if phase == "i":
                return SnapshotPage(changes, None)
            phase, key = ("s" if phase == "f" else "i"), ""

    async def _phase(self, first: str, phase: str, key: str, room: int) -> tuple[list[Change], str, bool]:
        """Up to `room` records of one phase after `key`: the records, the last one's key and
        whether the phase is done (looking one record ahead, so no page is ever empty)."""
        if phase == "s":
            stalls = Stall.select().where(Stall.event == self.event_id)
            if first:
                stalls = stalls.where(Stall.id != UUID(first))
            if key:
                stalls = stalls.where(Stall.id > UUID(key))
            rows = await stalls.order_by(Stall.id).limit(room + 1)
            base_url = self.services.settings.base_url
            changes = [_stall_change(r, base_url) for r in rows[:room]]
            return changes, changes[-1].id if changes else key, len(rows) <= room
        items = _listed_items(self.event_id)
        if phase == "f":
            items = items.where(Item.stall == UUID(first))
            if key:
                items = items.where(Item.id > UUID(key))
            rows = await items.order_by(Item.id).limit(room + 1)
            changes = await _item_changes(rows[:room])
            return changes, changes[-1].id if changes else key, len(rows) <= room
        if first:
            items = items.where(Item.stall != UUID(first))
        if key:
            stall_id, item_id = (UUID(k) for k in key.split("/"))
            items = items.where((Item.stall > stall_id) | ((Item.stall == stall_id) & (Item.id > item_id)))
        rows = await items.order_by(Item.stall, Item.id).limit(room + 1)
        kept = rows[:room]
        last = f"{kept[-1]['stall']}/{kept[-1]['id']}" if kept else key
        return await _item_changes(kept), last, len(rows) <= room


def _listed_items(event_id: UUID) -> Any:
    """The items a snapshot sends: the event's, neither deleted nor hidden."""
    return Item.select().where((Item.event == event_id) & Item.deleted_at.is_null() & Item.hidden.eq(False))


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
            views = await for_reader(actor, await message_views(list(reversed(rows))))
            changes += [Change("message", str(v.id), "upsert", message_version(v), _plain(v)) for v in views]
    return changes


async def _item_changes(rows: list[dict[str, Any]]) -> list[Change]:
    return [_item_change(view) for view in await item_views(rows)]


def _item_change(view: ItemView) -> Change:
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
    # An undone sale leaves the totals yet must still move their version on (replicas keep the
    # newer): each sale counts one, each undo one more.
    undone = await Sale.count().where((Sale.event == event_id) & Sale.undone_at.is_not_null())
    return Change("totals", str(event_id), "upsert", totals.sales + 2 * undone, _plain(totals))


def _plain(view: Any) -> dict[str, Any]:
    """A view's fields as a dict; the response encoder writes its UUIDs and times.

    Like `dataclasses.asdict` without its deep copies (two thirds of a snapshot's time): views
    are frozen and records are only read, so sharing their lists and dicts is safe."""
    data: dict[str, Any] = _fields_of(view)
    return data


def _fields_of(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _fields_of(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [_fields_of(v) for v in value]
    return value
