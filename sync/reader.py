"""A reader of the change log with its own durable cursor: the shape of every consumer.

The search indexer and the push notifier are both readers. Each reads the log after its saved
cursor, handles a batch, and only then saves the cursor, so a crash replays a little and skips
nothing (handlers must be idempotent). On PostgreSQL the cursor row is taken with
`FOR UPDATE SKIP LOCKED`, so with several workers exactly one handles a reader's batches and
the others stand by. Local commits `wake()` the reader; otherwise it polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from sync.tables import ChangeLog, LogCursor, LogHead

log = logging.getLogger("souk.reader")


class HandlerFailed(Exception):
    """A batch could not be handled now (an engine refused); it is retried after a pause."""


class LogReader(ABC):
    """Subclasses set `name` and `entities` and implement `handle` (and maybe `behind_floor`)."""

    name: str = ""
    entities: tuple[str, ...] = ()
    batch: int = 500
    # Entries this reader ignores are skipped in the query anyway; the cursor only jumps over
    # them once this many have piled up, instead of a write after every commit (on SQLite every
    # write waits for the one write lock the people using the market are waiting for too).
    skip_ahead: int = 200

    def __init__(self, db: Engine[Any], *, poll_seconds: float = 1.0, settle_seconds: float = 0.05) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        # After a wake, let the burst of commits that woke it land first, so a busy market's
        # messages are read (and the cursor saved, a write) once per burst, not once per message.
        self.settle_seconds = settle_seconds
        self.last_error = ""
        self._wake = asyncio.Event()
        self._stopping = False
        # One step at a time in this process: `catch_up()` beside `run()` must not handle the
        # same batch twice (other processes are kept out by the cursor row lock).
        self._stepping = asyncio.Lock()

    @abstractmethod
    async def handle(self, entries: list[dict[str, Any]]) -> None:
        """Do this reader's work for a batch of log entries; must be safe to repeat after a crash."""

    async def behind_floor(self) -> None:
        """The log before the cursor was compacted away; by default just move on."""
        return None

    async def prepare(self) -> None:
        """Called once before `run()` starts reading; nothing by default."""
        return None

    def wake(self) -> None:
        """Called after a local commit, so the reader follows within milliseconds, not a poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask `run()` to return after the batch in hand (never cancel a reader mid-batch)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        await self.prepare()
        while not self._stopping:
            await asyncio.sleep(self.settle_seconds)
            self._wake.clear()  # before the step: a wake during it triggers another pass
            try:
                while not self._stopping and await self.step():
                    pass
            except HandlerFailed as exc:
                await self._record_error(str(exc))
                await self._pause(min(30.0, self.poll_seconds * 5))
            except Exception:
                log.exception("%s: reading the change log failed; retrying", self.name)
                await self._pause(min(30.0, self.poll_seconds * 5))
            await self._pause(self.poll_seconds)

    async def catch_up(self, max_wait: float = 60.0) -> None:
        """Return once everything committed before the call is handled (tests, CLI).

        Another worker (or this process's background loop) may hold the cursor: wait for it
        rather than returning early.
        """
        target = await log_head()
        deadline = asyncio.get_running_loop().time() + max_wait
        while True:
            if await self.step():
                continue
            if not await self._unhandled_up_to(target):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.name} did not reach log position {target}")
            await asyncio.sleep(0.02)

    async def step(self) -> bool:
        """Handle one batch after the cursor; False when there was nothing new."""
        async with self._stepping:
            return await self._step()

    async def _step(self) -> bool:
        if isinstance(self.db, PostgresEngine):
            async with self.db.transaction():
                claimed = await LogCursor.raw(
                    "SELECT seq FROM log_cursor WHERE name = {} FOR UPDATE SKIP LOCKED", self.name
                )
                if not claimed:
                    return await self._ensure_cursor_row()
                return await self._handle_after(int(claimed[0]["seq"]))
        row = await LogCursor.select(LogCursor.seq).where(LogCursor.name == self.name).first()
        if row is None:
            return await self._ensure_cursor_row()
        return await self._handle_after(int(row["seq"]))

    async def cursor(self) -> int:
        row = await LogCursor.select(LogCursor.seq).where(LogCursor.name == self.name).first()
        return int(row["seq"]) if row else 0

    async def save_cursor(self, seq: int) -> None:
        await LogCursor.update(
            {LogCursor.seq: seq, LogCursor.updated_at: datetime.now(UTC), LogCursor.last_error: ""}
        ).where(LogCursor.name == self.name)
        self.last_error = ""

    async def _handle_after(self, seq: int) -> bool:
        if seq < await log_floor():
            log.warning("%s is behind the compacted change log", self.name)
            await self.behind_floor()
            await self.save_cursor(max(await log_floor(), await self.cursor()))
            return True
        entries = (
            await ChangeLog.select()
            .where((ChangeLog.seq > seq) & ChangeLog.entity.is_in(list(self.entities)))
            .order_by(ChangeLog.seq)
            .limit(self.batch)
        )
        if not entries:
            head = await log_head()
            if head - seq >= self.skip_ahead:  # only entries this reader ignores: move past them
                await self.save_cursor(head)
            return False
        await self.handle(entries)
        await self.save_cursor(int(entries[-1]["seq"]))
        return True

    async def _unhandled_up_to(self, target: int) -> bool:
        """Whether entries of this reader's kinds lie between its cursor and `target`."""
        cursor = await self.cursor()
        return cursor < target and bool(
            await ChangeLog.exists().where(
                (ChangeLog.seq > cursor) & (ChangeLog.seq <= target) & ChangeLog.entity.is_in(list(self.entities))
            )
        )

    async def _record_error(self, message: str) -> None:
        log.error("%s: %s", self.name, message)
        self.last_error = message
        await LogCursor.update({LogCursor.last_error: message[:2000]}).where(LogCursor.name == self.name)

    async def _ensure_cursor_row(self) -> bool:
        if await LogCursor.exists().where(LogCursor.name == self.name):
            return False
        await LogCursor.raw(
            "INSERT INTO log_cursor (name, seq, updated_at, last_error) VALUES ({}, 0, {}, '') "
            "ON CONFLICT (name) DO NOTHING",
            self.name,
            datetime.now(UTC),
        )
        return True

    async def _pause(self, seconds: float) -> None:
        """Sleep until woken (a local commit, or stop) or until `seconds` pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)


async def log_head() -> int:
    row = await LogHead.select(LogHead.seq).where(LogHead.id == 1).first()
    return int(row["seq"]) if row else 0


async def log_floor() -> int:
    row = await LogHead.select(LogHead.floor).where(LogHead.id == 1).first()
    return int(row["floor"]) if row else 0
