"""Compaction: forgetting old change-log entries so the log does not grow for ever.

The log says *what* changed, never the data: a pull reads current state from the tables. So
dropping old entries loses nothing but the answer to "what changed since X" for a very old X.
A device whose cursor lies below the new floor gets `reset: true` on its next pull and takes the
snapshot again (its own conversations included); its outbox of unsent changes is untouched.

The log's own readers (the search indexer, the push notifier) are never overtaken: compaction
stops before the first entry a reader has yet to handle, so none of them is forced into a
rebuild, and it says which reader held it back (so a reader that has stopped for good shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from sync.tables import ChangeLog, LogCursor, LogHead
from sync.transactions import write_transaction


@dataclass(frozen=True)
class Compaction:
    removed: int  # entries deleted by this run
    floor: int  # entries at or below this sequence number are gone
    head: int  # the newest sequence number
    held_by: str = ""  # the log reader that stopped compaction short of what was asked, if any


async def compact_log(
    engine: Engine[Any], keep_after: int, readers: Mapping[str, Sequence[str]] | None = None
) -> Compaction:
    """Drop the entries at or below `keep_after`, but never past the head or a reader's position.

    `readers` names the kinds of entry each log reader handles. A reader's cursor may lag behind
    entries it ignores (it skips them in bulk, see `LogReader.skip_ahead`); for a reader named
    here the limit is its first unhandled entry of its own kinds, and its cursor is moved up to
    the new floor, so it does not mistake compaction for having fallen behind. A cursor named
    `reader@place` (one per machine, like the search indexes) belongs to `reader`. A reader not
    named here limits compaction to its cursor.

    One write transaction that also holds the log head (as writers do), so a pull sees either
    the entries and the old floor or neither and the new floor.
    """
    kinds = dict(readers or {})
    async with write_transaction(engine):
        on_postgres = isinstance(engine, PostgresEngine)
        if on_postgres:
            await LogHead.raw("SELECT seq FROM log_head WHERE id = 1 FOR UPDATE")
            await LogCursor.raw("SELECT name FROM log_cursor FOR UPDATE")  # readers wait, not race
        row = await LogHead.select(LogHead.seq, LogHead.floor).where(LogHead.id == 1).first()
        head, floor = (int(row["seq"]), int(row["floor"])) if row else (0, 0)
        target, held_by = min(keep_after, head), ""
        cursors = await LogCursor.select(LogCursor.name, LogCursor.seq).order_by(LogCursor.seq)
        for cursor in cursors:
            reach = await _reach(str(cursor["name"]), int(cursor["seq"]), kinds, target)
            if reach < target:
                target, held_by = reach, str(cursor["name"])
        if target <= floor:
            return Compaction(0, floor, head, held_by)
        removed = await ChangeLog.count().where(ChangeLog.seq <= target)
        await ChangeLog.delete().where(ChangeLog.seq <= target)
        await LogHead.update({LogHead.floor: target}).where(LogHead.id == 1)
        await LogCursor.update({LogCursor.seq: target}).where(LogCursor.seq < target)
    return Compaction(int(removed), target, head, held_by)


async def _reach(name: str, seq: int, kinds: Mapping[str, Sequence[str]], target: int) -> int:
    """How far compaction may go for this reader: up to just before its first unhandled entry."""
    name = name if name in kinds else name.partition("@")[0]
    if name not in kinds:
        return seq
    if seq >= target:
        return target
    first = (
        await ChangeLog.select(ChangeLog.seq)
        .where((ChangeLog.seq > seq) & (ChangeLog.seq <= target) & ChangeLog.entity.is_in(list(kinds[name])))
        .order_by(ChangeLog.seq)
        .first()
    )
    return int(first["seq"]) - 1 if first else target


async def last_entry_before(moment: datetime) -> int:
    """The sequence number of the newest entry written before `moment` (0 if none)."""
    row = (
        await ChangeLog.select(ChangeLog.seq)
        .where(ChangeLog.created_at < moment)
        .order_by(ChangeLog.seq, ascending=False)
        .first()
    )
    return int(row["seq"]) if row else 0
