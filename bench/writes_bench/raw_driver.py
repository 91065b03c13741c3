"""The raw drivers' own limit: committed transactions of 2 INSERTs per second, aiosqlite alone
(one connection, or a new one per transaction) and asyncpg alone (one connection)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
import asyncpg

RAW_TABLE = "bench_raw_writes"
RAW_CREATE = f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, n INTEGER NOT NULL)"


async def sqlite_transaction(db: aiosqlite.Connection, n: int) -> None:
    await db.execute("BEGIN IMMEDIATE")
    await db.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('change', ?)", (n,))
    await db.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('log', ?)", (n,))
    await db.commit()


async def open_sqlite(path: Path) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA synchronous=FULL")
    return db


async def raw_sqlite(folder: Path, seconds: float, reuse: bool) -> float:
    """Committed 2-INSERT transactions per second: one connection, or a new one each time."""
    path = folder / f"raw-{'one' if reuse else 'each'}.sqlite3"
    db = await open_sqlite(path)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute(RAW_CREATE)
    done, stop = 0, time.perf_counter() + seconds
    began = time.perf_counter()
    try:
        while time.perf_counter() < stop:
            if reuse:
                await sqlite_transaction(db, done)
            else:
                fresh = await open_sqlite(path)
                await sqlite_transaction(fresh, done)
                await fresh.close()
            done += 1
    finally:
        await db.close()
    return done / (time.perf_counter() - began)


async def raw_postgres(dsn: str, seconds: float) -> float:
    """Committed 2-INSERT transactions per second on one asyncpg connection."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        await conn.execute(f"CREATE TABLE {RAW_TABLE} (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, n INTEGER)")
        done, stop = 0, time.perf_counter() + seconds
        began = time.perf_counter()
        while time.perf_counter() < stop:
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('change', $1)", done)
                await conn.execute(f"INSERT INTO {RAW_TABLE} (kind, n) VALUES ('log', $1)", done)
            done += 1
        rate = done / (time.perf_counter() - began)
        await conn.execute(f"DROP TABLE {RAW_TABLE}")
        return rate
    finally:
        await conn.close()


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path=f"/{database}")) if database else urlunsplit(parts)
