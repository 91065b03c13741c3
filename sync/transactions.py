"""Write transactions as the sync library needs them, whatever engine the application runs.

A plain Piccolo engine gives a transaction per write and savepoints inside it. An application
may bring an engine with its own idea of a write (the server's SQLite engine group-commits
several writers on one connection): it then provides the small `UnitEngine` protocol below and
the log uses that instead. Nothing here knows which engine the server picked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, runtime_checkable

from piccolo.engine.base import Engine


@runtime_checkable
class UnitEngine(Protocol):
    """An engine with its own write units: `unit()` is one all-or-nothing write, durable when
    the block is left; `savepoint()` a step of the running unit that rolls back alone."""

    def unit(self) -> AbstractAsyncContextManager[Any]: ...

    def savepoint(self) -> AbstractAsyncContextManager[None]: ...


@asynccontextmanager
async def write_transaction(engine: Engine[Any]) -> AsyncIterator[Any]:
    """One all-or-nothing write, durable when the block is left (the engine's unit, or a
    Piccolo transaction)."""
    if isinstance(engine, UnitEngine):
        async with engine.unit() as unit:
            yield unit
    else:
        async with engine.transaction() as tx:
            yield tx


@asynccontextmanager
async def savepoint(engine: Engine[Any]) -> AsyncIterator[None]:
    """A step of the running write transaction that rolls back alone when it raises."""
    if isinstance(engine, UnitEngine):
        async with engine.savepoint():
            yield
        return
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("a savepoint needs a running write transaction")
    step = await transaction.savepoint()
    try:
        yield
    except BaseException:
        await step.rollback_to()
        raise
    await step.release()


# SQLSTATEs of a transaction the database aborted to break a lock cycle (PostgreSQL's
# deadlock_detected) or a serialization conflict: running the same work again is the fix.
LOCK_RACE_STATES = frozenset({"40P01", "40001"})


def lost_lock_race(exc: BaseException) -> bool:
    """Whether the database aborted this work only because a concurrent writer won a lock race."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain of causes is short; never follow a cycle for ever
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in LOCK_RACE_STATES:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
