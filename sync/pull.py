"""Pull: a device asks "what changed in this event since my cursor?" and gets current state.

- First pull (no cursor): a snapshot of the event in pages (event, causes, stalls, then items
  by id), ending at the log position read *before* the snapshot began; the log is then
  followed from there, so a change made during the snapshot is sent again rather than lost.
- Later pulls: the change log after the cursor, in the caller's scopes only (the event; chat
  adds the caller's own conversations), reduced to the current state of each changed entity.
  Deleted or hidden entities come as tombstones (`op: "delete"`).
- A cursor below the compaction floor (`sync.compact`) answers `reset: true`: start again
  without a cursor.

Records are state, not operations: applying one twice, or an older one after a newer one
(compare `version`), leaves a replica the same, which is what makes retries safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from server.domain import events
from server.domain.actors import Actor, require_any
from server.domain.chat import conversation_scope, conversation_view, for_reader, message_version, message_view
from server.domain.context import Market
from server.domain.totals import event_totals
from server.domain.views import cause_view, event_view, item_view, stall_view
from server.tables import Cause, ChangeLog, Conversation, Event, Item, LogHead, Message, Stall
from sync.cursor import Cursor, decode, encode
from sync.log import event_scope

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000


@dataclass(frozen=True)
class Change:
    entity: str  # "event" | "cause" | "stall" | "item" | "totals"
    id: str
    op: str  # "upsert" | "delete"
    version: int
    data: dict[str, Any] | None


@dataclass(frozen=True)
class PullResult:
    cursor: str
    has_more: bool
    reset: bool = False
    snapshot: bool = False
    changes: list[Change] = field(default_factory=list)


async def pull(
    market: Market, actor: Actor | None, event_ref: str, cursor_token: str | None, limit: int = DEFAULT_LIMIT
) -> PullResult:
    require_any(actor)
    event = await events.get_event(event_ref)
    key = market.settings.resolved_secret()
    limit = max(1, min(limit, MAX_LIMIT))
    if not cursor_token:
        head, _ = await _log_bounds()
        return await _snapshot_page(market, actor, Cursor(str(event.id), head, ""), key, limit)
    cursor = decode(cursor_token, key, str(event.id))
    if cursor.in_snapshot:
        return await _snapshot_page(market, actor, cursor, key, limit)
    head, floor = await _log_bounds()
    if cursor.seq < floor or cursor.seq > head:
        # Compacted away, or from a database that has since been restored: start over.
        return PullResult(cursor="", has_more=True, reset=True)
    assert actor is not None
    return await _log_page(market, actor, cursor, head, key, limit, await scopes_for(actor, event.id))


async def scopes_for(actor: Actor, event_id: UUID) -> list[str]:
    """The feeds this caller may read: the event, and only their own conversations.

    A visitor never receives another visitor's messages because other conversations' scopes
    are simply not in this list.
    """
    return [event_scope(event_id), *(conversation_scope(c) for c in await _conversation_ids(actor, event_id))]


async def _conversation_ids(actor: Actor, event_id: UUID) -> list[str]:
    query = Conversation.select(Conversation.id).where(Conversation.event == event_id)
    if actor.role == "device":
        query = query.where(Conversation.device == actor.device_id)
    elif actor.role == "vendor":
        query = query.where(Conversation.stall.vendor == actor.account_id)
    else:
        return []
    return [str(r["id"]) for r in await query]


async def _snapshot_page(market: Market, actor: Actor | None, cursor: Cursor, key: bytes, limit: int) -> PullResult:
    event_id = UUID(cursor.event_id)
    changes: list[Change] = []
    if cursor.snapshot_after == "":
        assert actor is not None
        changes += await _event_and_profile(market, event_id)
        changes += await _conversations(actor, await _conversation_ids(actor, event_id))
    query = Item.select().where((Item.event == event_id) & Item.deleted_at.is_null() & Item.hidden.eq(False))
    if cursor.snapshot_after:
        query = query.where(Item.id > UUID(cursor.snapshot_after))
    rows = await query.order_by(Item.id).limit(limit)
    changes += [_item_change(r) for r in rows]
    if len(rows) == limit:
        next_cursor = Cursor(cursor.event_id, cursor.seq, str(rows[-1]["id"]))
    else:
        next_cursor = Cursor(cursor.event_id, cursor.seq)  # snapshot done: follow the log
    return PullResult(encode(next_cursor, key), has_more=True, snapshot=True, changes=changes)


async def _event_and_profile(market: Market, event_id: UUID) -> list[Change]:
    event = await Event.select().where(Event.id == event_id).first()
    changes = (
        [Change("event", str(event_id), "upsert", int(event["version"]), _plain(event_view(event)))] if event else []
    )
    for row in await Cause.select().where(Cause.event == event_id):
        changes.append(Change("cause", str(row["id"]), "upsert", int(row["version"]), _plain(cause_view(row))))
    for row in await Stall.select().where(Stall.event == event_id):
        changes.append(_stall_change(row, market.settings.base_url))
    changes.append(await _totals_change(event_id))
    return changes


async def _log_page(
    market: Market, actor: Actor, cursor: Cursor, head: int, key: bytes, limit: int, scopes: Sequence[str]
) -> PullResult:
    entries = (
        await ChangeLog.select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id)
        .where((ChangeLog.seq > cursor.seq) & (ChangeLog.seq <= head) & ChangeLog.scope.is_in(list(scopes)))
        .order_by(ChangeLog.seq)
        .limit(limit)
    )
    if cursor.seq < (await _log_bounds())[1]:
        return PullResult(cursor="", has_more=True, reset=True)  # compacted while we read: start over
    has_more = len(entries) == limit
    new_seq = int(entries[-1]["seq"]) if has_more else head
    changes = await _current_state(market, actor, UUID(cursor.event_id), entries)
    return PullResult(encode(Cursor(cursor.event_id, new_seq), key), has_more=has_more, changes=changes)


async def _current_state(market: Market, actor: Actor, event_id: UUID, entries: list[dict[str, Any]]) -> list[Change]:
    """One record per changed entity, in the order of its last change."""
    last: dict[tuple[str, str], int] = {}
    for entry in entries:
        last[(entry["entity"], entry["entity_id"])] = int(entry["seq"])
    ids: dict[str, list[str]] = {}
    for entity, entity_id in last:
        ids.setdefault(entity, []).append(entity_id)
    found: dict[tuple[str, str], Change] = {}
    if "item" in ids:
        for row in await Item.select().where(Item.id.is_in(ids["item"])):
            found[("item", str(row["id"]))] = _item_change(row)
    if "stall" in ids:
        for row in await Stall.select().where(Stall.id.is_in(ids["stall"])):
            found[("stall", str(row["id"]))] = _stall_change(row, market.settings.base_url)
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
        for change in await _conversations(actor, ids["conversation"], with_messages=False):
            found[("conversation", change.id)] = change
    if "message" in ids:
        rows = await Message.select().where(Message.id.is_in(ids["message"]))
        for view in await for_reader(actor, [message_view(r) for r in rows]):
            found[("message", str(view.id))] = Change(
                "message", str(view.id), "upsert", message_version(view), _plain(view)
            )
    ordered = [found[k] for k in sorted(last, key=last.__getitem__) if k in found]
    if "sale" in ids:
        ordered.append(await _totals_change(event_id))
    return ordered


MESSAGES_IN_SNAPSHOT = 200  # per conversation; older ones are fetched on demand


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


async def _log_bounds() -> tuple[int, int]:
    row = await LogHead.select(LogHead.seq, LogHead.floor).where(LogHead.id == 1).first()
    return (int(row["seq"]), int(row["floor"])) if row else (0, 0)


def _plain(view: Any) -> dict[str, Any]:
    data: dict[str, Any] = asdict(view)
    return data
