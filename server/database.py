"""Database engines: SQLite (embedded default) or PostgreSQL (scale-out), picked by the URL.

Piccolo tables find their engine through `Table._meta.db`; `bind_tables` points every Souk
table at the engine built from the settings, so the same table code runs on both databases and
no module builds a connection at import time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server.settings import Settings
from server.sqlite_engine import PooledSQLiteEngine


def build_engine(settings: Settings) -> Engine[Any]:
    """Make (but do not connect) the engine the settings ask for."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(str(path))
    dsn = settings.database_url.replace("postgres://", "postgresql://", 1)
    return PostgresEngine(config={"dsn": dsn})


def bind_tables(engine: Engine[Any]) -> None:
    """Point every Souk table (and Piccolo's migration table) at `engine`."""
    from piccolo.apps.migrations.tables import Migration

    from server.tables import ALL_TABLES

    tables: tuple[type[Table], ...] = (*ALL_TABLES, Migration)
    for table in tables:
        table._meta.db = engine


def prepare_sqlite_file(settings: Settings) -> None:
    """Switch the SQLite file to WAL once: readers then never block the single writer.

    The journal mode is stored in the file, so doing it at start-up is enough.
    """
    if not settings.is_sqlite:
        return
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


async def start_engine(engine: Engine[Any]) -> None:
    """Open the engine's long-lived connections (a pool on PostgreSQL, writer and readers on SQLite)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.start()


async def stop_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.stop()


@asynccontextmanager
async def write_transaction(engine: Engine[Any]) -> AsyncIterator[Any]:
    """One all-or-nothing write, durable when the block is left.

    SQLite: a unit of work on the one writer connection, group-committed with its neighbours
    (server/sqlite_engine.py). PostgreSQL: a transaction; writers are serialised where needed by
    the change log's head row (sync/log.py).
    """
    if isinstance(engine, PooledSQLiteEngine):
        async with engine.unit() as unit:
            yield unit
    else:
        async with engine.transaction() as tx:
            yield tx


@asynccontextmanager
async def savepoint(engine: Engine[Any]) -> AsyncIterator[None]:
    """A step of the running write transaction that rolls back alone when it raises."""
    if isinstance(engine, PooledSQLiteEngine):
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


async def drop_all_tables(engine: Engine[Any]) -> None:
    """Remove every Souk table and the migration history (only `souk demo --reset-database`)."""
    from piccolo.apps.migrations.tables import Migration

    from server.tables import ALL_TABLES

    bind_tables(engine)
    tables: tuple[type[Table], ...] = (*ALL_TABLES, Migration)
    for table in reversed(tables):
        await table.alter().drop_table(if_exists=True, cascade=isinstance(engine, PostgresEngine))
