"""Pull: a device asks "what changed in this event since my cursor?" and gets current state.

- First pull (no cursor): a snapshot of the event in pages (the feed decides the order: the
  records it begins with, then its paged records, each page at most `limit` of them), taken
  after reading the log position; the last snapshot page also carries the log from that
  position to the head (the catch-up), so a change made during the snapshot is sent again
  rather than lost, and a full pull ends with `has_more: false` without an extra round trip.
- Later pulls: the change log after the cursor, in the caller's scopes only (the event; chat
  adds the caller's own conversations), reduced to the current state of each changed entity.
  Deleted or hidden entities come as tombstones (`op: "delete"`).
- A cursor below the compaction floor (`sync.compact`), or a snapshot position the feed
  cannot continue (one issued for another record format), answers `reset: true`: start again
  without a cursor.
- `limit` (records a page) must be within 1..MAX_LIMIT: anything else is refused (SyncInvalid
  naming `limit`), never silently clamped.

This module is the protocol only: cursors, the snapshot's paging, following the log in the
caller's scopes and reducing it to one record per entity. What a record holds, and which scopes
a caller may read, comes from a `Feed` the application provides (the server's:
`server/domain/feed.py`).

Records are state, not operations: applying one twice, or an older one after a newer one
(compare `version`), leaves a replica the same, which is what makes retries safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.cursor import Cursor, decode, encode
from sync.errors import SyncInvalid
from sync.tables import ChangeLog, LogHead

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000


@dataclass(frozen=True)
class Change:
    entity: str  # "event" | "cause" | "stall" | "item" | "totals" | "conversation" | "message"
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


@dataclass(frozen=True)
class Edit:
    """What a log page knows of how a record changed since the caller's cursor: the columns its
    writers touched from version `base` (the version the caller must hold for a patch of those
    columns to bring it up to date) to version `through` (the last change on this page), or None
    when some change did not name its columns. A record read at another version than `through`
    changed again after this page: only the whole record says how."""

    changed: frozenset[str] | None
    base: int
    through: int


Edits = dict[tuple[str, str], Edit]


@dataclass(frozen=True)
class SnapshotPage:
    """Paged snapshot records and where the next page starts (`after`, opaque to the library,
    kept in the cursor); `after` None: these were the snapshot's last records."""

    changes: list[Change]
    after: str | None


class Feed(Protocol):
    """One caller's view of one feed (an event): what the application provides to a pull."""

    async def scopes(self) -> list[str]:
        """The change-log scopes this caller may read."""
        ...

    async def snapshot_start(self) -> list[Change]:
        """The records a snapshot begins with (before its paged ones)."""
        ...

    async def snapshot_page(self, after: str, limit: int) -> SnapshotPage | None:
        """Up to `limit` paged records from position `after` ("" = from the start), in the feed's
        order; None when `after` is not a position this feed issued (the pull answers reset)."""
        ...

    async def current(self, ids: dict[str, list[str]]) -> dict[tuple[str, str], Change]:
        """The current record of each changed (entity, id) the caller may see."""
        ...

    async def trailing(self, entities: set[str]) -> list[Change]:
        """Records derived from the changed kinds (e.g. totals after sales), sent last."""
        ...


async def pull(
    feed: Feed, feed_id: str, cursor_token: str | None, key: bytes, limit: int = DEFAULT_LIMIT
) -> PullResult:
    """The next page of `feed` for a caller at `cursor_token` (None: start with a snapshot);
    cursors are signed with `key` and bound to `feed_id`."""
    result, _ = await pull_with_edits(feed, feed_id, cursor_token, key, limit)
    return result


async def pull_with_edits(
    feed: Feed, feed_id: str, cursor_token: str | None, key: bytes, limit: int = DEFAULT_LIMIT
) -> tuple[PullResult, Edits]:
    """`pull`, and for a page that follows the log (never a snapshot page: its records are read
    whole, at any moment of the snapshot) what changed in each record since the cursor, so a
    record format can send a patch instead of the record."""
    if not 1 <= limit <= MAX_LIMIT:
        raise SyncInvalid(f"limit must be between 1 and {MAX_LIMIT} records a page", field="limit")
    if not cursor_token:
        head, _ = await _log_bounds()
        return await _snapshot_page(feed, Cursor(feed_id, head, ""), key, limit), {}
    cursor = decode(cursor_token, key, feed_id)
    if cursor.in_snapshot:
        return await _snapshot_page(feed, cursor, key, limit), {}
    head, floor = await _log_bounds()
    if cursor.seq < floor or cursor.seq > head:
        # Compacted away, or from a database that has since been restored: start over.
        return PullResult(cursor="", has_more=True, reset=True), {}
    return await _log_page(feed, cursor, head, key, limit, await feed.scopes())


async def _snapshot_page(feed: Feed, cursor: Cursor, key: bytes, limit: int) -> PullResult:
    changes: list[Change] = []
    after = cursor.snapshot_after or ""
    if after == "":
        changes += await feed.snapshot_start()
    page = await feed.snapshot_page(after, limit)
    if page is None:
        return PullResult(cursor="", has_more=True, reset=True)
    changes += page.changes
    if page.after is not None:
        next_cursor = Cursor(cursor.event_id, cursor.seq, page.after)
        return PullResult(encode(next_cursor, key), has_more=True, snapshot=True, changes=changes)
    # The snapshot is complete: catch up on the log since it began, in the same answer.
    head, _ = await _log_bounds()
    tail, _ = await _log_page(feed, Cursor(cursor.event_id, cursor.seq), head, key, limit, await feed.scopes())
    if tail.reset:
        return tail  # the log was compacted past the snapshot's start while it was being read
    return PullResult(tail.cursor, has_more=tail.has_more, snapshot=True, changes=changes + tail.changes)


async def _log_page(
    feed: Feed, cursor: Cursor, head: int, key: bytes, limit: int, scopes: Sequence[str]
) -> tuple[PullResult, Edits]:
    entries = (
        await ChangeLog.select(
            ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.version, ChangeLog.changed
        )
        .where((ChangeLog.seq > cursor.seq) & (ChangeLog.seq <= head) & ChangeLog.scope.is_in(list(scopes)))
        .order_by(ChangeLog.seq)
        .limit(limit)
    )
    if cursor.seq < (await _log_bounds())[1]:
        return PullResult(cursor="", has_more=True, reset=True), {}  # compacted while we read: start over
    has_more = len(entries) == limit
    new_seq = int(entries[-1]["seq"]) if has_more else head
    changes = await _current_state(feed, entries)
    result = PullResult(encode(Cursor(cursor.event_id, new_seq), key), has_more=has_more, changes=changes)
    return result, _edits(entries)


def _edits(entries: list[dict[str, Any]]) -> Edits:
    """Per changed entity: the union of the columns its entries name (None if one names none),
    and the version before the first of them. Versions count changes one by one, so a caller
    holding `base` or newer has seen everything before these entries; where they do not, `base`
    only comes out too high and the caller asks for the whole record (never a wrong merge)."""
    edits: Edits = {}
    for entry in entries:
        k = (entry["entity"], entry["entity_id"])
        named = entry["changed"]
        changed = frozenset(n for n in named.split(",") if n) if named is not None else None
        version = int(entry["version"])
        if k not in edits:
            edits[k] = Edit(changed, version - 1, version)
            continue
        before = edits[k].changed
        union = before | changed if before is not None and changed is not None else None
        edits[k] = Edit(union, edits[k].base, version)
    return edits


async def _current_state(feed: Feed, entries: list[dict[str, Any]]) -> list[Change]:
    """One record per changed entity, in the order of its last change."""
    last: dict[tuple[str, str], int] = {}
    for entry in entries:
        last[(entry["entity"], entry["entity_id"])] = int(entry["seq"])
    ids: dict[str, list[str]] = {}
    for entity, entity_id in last:
        ids.setdefault(entity, []).append(entity_id)
    found = await feed.current(ids)
    ordered = [found[k] for k in sorted(last, key=last.__getitem__) if k in found]
    return ordered + await feed.trailing(set(ids))


async def _log_bounds() -> tuple[int, int]:
    row = await LogHead.select(LogHead.seq, LogHead.floor).where(LogHead.id == 1).first()
    return (int(row["seq"]), int(row["floor"])) if row else (0, 0)
