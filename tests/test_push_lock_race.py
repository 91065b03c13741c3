"""Two sync pushes that lock the same rows in opposite orders (PostgreSQL aborts one of them to
break the cycle) both end applied, each mutation once, and the client never sees the race."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from server.settings import Settings
from sync.push import Handlers, Mutation, PushRequest, push
from sync.tables import LogCursor, MutationResult
from sync.transactions import lost_lock_race
from tests.conftest import TEST_DATABASE_URL

needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="lock cycles between transactions need PostgreSQL (SQLite has one writer)"
)


@dataclass(frozen=True)
class Device:
    account_id: uuid.UUID | None
    device_id: uuid.UUID | None


@dataclass(frozen=True)
class Touched:
    row: str


class Touches:
    """A mutation that locks a row, waits so the other batch can take its first lock, and counts."""

    def __init__(self) -> None:
        self.applied: list[str] = []

    async def touch(self, _: object, args: dict[str, Any]) -> Touched:
        await LogCursor.raw("SELECT name FROM log_cursor WHERE name = {} FOR UPDATE", args["row"])
        await asyncio.sleep(0.3)
        await LogCursor.update({LogCursor.seq: LogCursor.seq + 1}).where(LogCursor.name == args["row"])
        self.applied.append(args["row"])
        return Touched(args["row"])


def test_lost_lock_race_is_read_from_the_cause_chain() -> None:
    class Deadlock(Exception):
        sqlstate = "40P01"

    class Unique(Exception):
        sqlstate = "23505"

    try:
        try:
            raise Deadlock("deadlock detected")
        except Deadlock as inner:
            raise RuntimeError("query failed") from inner
    except RuntimeError as outer:
        assert lost_lock_race(outer)
    assert not lost_lock_race(Unique("duplicate key"))
    assert not lost_lock_race(ValueError("no"))


@needs_postgres
async def test_batches_locking_in_opposite_orders_both_apply_once(db: Settings) -> None:
    engine = LogCursor._meta.db
    await LogCursor.insert(LogCursor(name="race-x", seq=0), LogCursor(name="race-y", seq=0))
    touches = Touches()
    handlers: Handlers[object] = Handlers({"touch": touches.touch})

    def batch(*rows: str) -> PushRequest:
        return PushRequest(uuid.uuid4(), [Mutation(n, "touch", {"row": r}) for n, r in enumerate(rows, start=1)])

    first, second = batch("race-x", "race-y"), batch("race-y", "race-x")
    results = await asyncio.gather(
        push(engine, None, handlers, object(), Device(None, uuid.uuid4()), first),
        push(engine, None, handlers, object(), Device(None, uuid.uuid4()), second),
    )
    for result in results:
        assert result.last_mutation_id == 2
        assert [(o.id, o.status) for o in result.results] == [(1, "applied"), (2, "applied")]
    rows = {r["name"]: r["seq"] for r in await LogCursor.select().where(LogCursor.name.like("race-%"))}
    assert rows == {"race-x": 2, "race-y": 2}  # each of the four mutations counted exactly once
    assert await MutationResult.count() == 4
    assert len(touches.applied) >= 4  # the loser's rolled-back attempt ran its handler too
