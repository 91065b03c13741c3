"""Database engines: SQLite (embedded default) or PostgreSQL (scale-out), picked by the URL.

Piccolo tables find their engine through `Table._meta.db`; `bind_tables` points every Souk
table at the engine built from the settings, so the same table code runs on both databases and
no module builds a connection at import time.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server.settings import Settings
from server.sqlite_engine import PooledSQLiteEngine
from sync.transactions import savepoint, write_transaction

# Writes go through the sync library's `write_transaction`/`savepoint`: on SQLite the pooled
# engine provides its group-committed units (`sync.transactions.UnitEngine`), on PostgreSQL
# they are Piccolo transactions. Re-exported here for the server's own callers.
__all__ = [
    "bind_tables",
    "build_engine",
    "drop_all_tables",
    "prepare_sqlite_file",
    "savepoint",
    "start_engine",
    "stop_engine",
    "write_transaction",
]


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


# PostgreSQL connections opened at start: a request in flight and the log readers working
# beside it (search indexer, push notifier, reservation sweeper) use up to about this many at
# once, so a steady flow of requests never waits for a new connection; bursts grow the pool to
# POOL_MAX. (With 1 at start, a moment when the readers happened to overlap a request opened
# one mid-traffic, which the steady-state test caught once.)
POOL_WORKING = 5
POOL_MAX = 10


async def start_engine(engine: Engine[Any]) -> None:
    """Open the engine's long-lived connections (a pool on PostgreSQL, writer and readers on SQLite)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=POOL_WORKING, max_size=POOL_MAX)
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.start()


async def stop_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.stop()


async def drop_all_tables(engine: Engine[Any]) -> None:
    """Remove every Souk table and the migration history (only `souk demo --reset-database`)."""
    from piccolo.apps.migrations.tables import Migration

    from server.tables import ALL_TABLES

    bind_tables(engine)
    tables: tuple[type[Table], ...] = (*ALL_TABLES, Migration)
    for table in reversed(tables):
        await table.alter().drop_table(if_exists=True, cascade=isinstance(engine, PostgresEngine))
