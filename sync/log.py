"""The change log: one ordered record of every change to synced data.

Every domain write runs inside `unit_of_work`, which (1) opens a write transaction, (2) lets the
domain function record which entities it changed, (3) appends those records to `change_log`
with consecutive sequence numbers in the same transaction, and (4) after the commit, pokes the
changed scopes over pub/sub. Readers (sync pull, the search indexer, push notifications) keep
their own cursor into this log, so nothing they see can be ahead of or behind the data.

Numbering: `log_head` holds the last sequence number. Appending updates that row as the last
step of the transaction, and the row stays locked until the commit, so sequence order equals
commit order: a reader at cursor 10 can never later see a change numbered 9 appear (the classic
feed bug). On PostgreSQL that lock is held only from the append to the commit, so writers of
different events (or different rows) do their work side by side and queue only for that last
moment; what they read and then change is kept apart by row locks (`server/domain/rows.py`
`locked`). On SQLite the one writer connection serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine

from sync.tables import ChangeLog, LogHead
from sync.transactions import savepoint, write_transaction

Publisher = Callable[[dict[str, object], list[str]], None]


@dataclass(frozen=True)
class Change:
    scope: str
    entity: str
    entity_id: str
    op: str  # "upsert" | "delete"
    version: int
    changed: tuple[str, ...] | None = None  # the columns touched, when the writer names them


@dataclass
class UnitOfWork:
    """Collects the changes of one transaction; `record` is all a domain function calls."""

    changes: list[Change] = field(default_factory=list)
    announcements: list[tuple[dict[str, object], list[str]]] = field(default_factory=list)
    last_seq: int = 0

    def announce(self, data: dict[str, object], channels: list[str]) -> None:
        """Publish a realtime event (a chat message, a receipt) once the transaction commits."""
        self.announcements.append((data, channels))

    def record(
        self,
        scope: str,
        entity: str,
        entity_id: object,
        version: int,
        op: str = "upsert",
        changed: tuple[str, ...] | None = None,
    ) -> None:
        """Log a change; `changed` names the columns it touched when the writer knows them
        exactly (then a pull may send just those fields), None when it does not."""
        self.changes.append(Change(scope, entity, str(entity_id), op, version, changed))


def event_scope(event_id: object) -> str:
    return f"event:{event_id}"


async def ensure_log_head() -> None:
    """Create the single log_head row if missing (run once after migrations)."""
    if not await LogHead.exists().where(LogHead.id == 1):
        await LogHead.insert(LogHead(id=1, seq=0))


_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("souk_unit_of_work", default=None)


@asynccontextmanager
async def unit_of_work(engine: Engine[Any], publish: Publisher | None = None) -> AsyncIterator[UnitOfWork]:
    """One write transaction whose changes land in the log atomically, then get announced.

    Nested calls (a sync push applying a mutation through a domain function, the demo loader)
    join the outermost unit: its changes are logged and poked once, after the real commit, so
    nobody is poked about a change they cannot read yet.
    """
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    uow = UnitOfWork()
    token = _CURRENT.set(uow)
    try:
        async with write_transaction(engine):
            yield uow
            if uow.changes:
                uow.last_seq = await _append(uow.changes)
    finally:
        _CURRENT.reset(token)
    if publish is not None:
        if uow.changes:
            _poke(publish, uow)
        for data, channels in uow.announcements:
            publish(data, channels)


async def _append(changes: list[Change]) -> int:
    rows = await LogHead.raw("UPDATE log_head SET seq = seq + {} WHERE id = 1 RETURNING seq", len(changes))
    last = int(rows[0]["seq"])
    first = last - len(changes) + 1
    now = datetime.now(UTC)
    await ChangeLog.insert(
        *(
            ChangeLog(
                seq=first + i,
                scope=c.scope,
                entity=c.entity,
                entity_id=c.entity_id,
                op=c.op,
                version=c.version,
                changed=",".join(c.changed) if c.changed is not None else None,
                created_at=now,
            )
            for i, c in enumerate(changes)
        )
    )
    return last


@asynccontextmanager
async def step(engine: Engine[Any]) -> AsyncIterator[UnitOfWork]:
    """One step of the running unit of work that fails alone: its rows roll back to a savepoint
    and what it recorded or announced is forgotten, while the steps before and after it commit.
    (A sync push applies each queued mutation as a step, so a whole batch shares one commit.)"""
    uow = _CURRENT.get()
    if uow is None:
        raise RuntimeError("a step needs a running unit of work")
    changes, announcements = len(uow.changes), len(uow.announcements)
    try:
        async with savepoint(engine):
            yield uow
    except BaseException:
        del uow.changes[changes:]
        del uow.announcements[announcements:]
        raise


def _poke(publish: Publisher, uow: UnitOfWork) -> None:
    """A payload-free nudge per scope: listeners pull the log themselves, so a lost poke only
    delays an update, it never loses one."""
    scopes = sorted({c.scope for c in uow.changes})
    for scope in scopes:
        publish({"type": "poke", "scope": scope, "seq": uow.last_seq}, [scope])
