"""The write path's engine: long-lived connections, group commit, and reads that do not queue.

On SQLite (server/sqlite_engine.py) the writer and readers are opened once; units of work that
arrive together share one COMMIT, each still all-or-nothing, and none is acknowledged before its
COMMIT returned. On PostgreSQL the pool opens its connections once. Steady-state requests open
no connection on either database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from server.database import build_engine, start_engine, stop_engine, write_transaction
from server.settings import Settings
from server.sqlite_engine import PooledSQLiteEngine
from server.tables import QuickReply
from tests.conftest import World


async def _postgres_connections_since(settings: Settings, since: Any) -> int:
    import asyncpg

    connection = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://", 1))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_start > $1 "
            "AND pid <> pg_backend_pid()",
            since,
        )
        return count
    finally:
        await connection.close()


async def _mixed_requests(client: httpx.AsyncClient, world: World, rounds: int) -> None:
    code = world.stall["code"]
    for n in range(rounds):
        r = await client.post(
            f"/api/stalls/{code}/items", json={"title": f"Jar {n}", "price": 100}, headers=world.vendor
        )
        assert r.status_code == 201, r.text
        item = r.json()["id"]
        assert (await client.patch(f"/api/items/{item}", json={"price": 150}, headers=world.vendor)).status_code == 200
        assert (await client.get(f"/api/items/{item}")).status_code == 200
        sent = await client.post(
            f"/api/conversations/{uuid.uuid4()}/messages",
            json={"message_id": str(uuid.uuid4()), "body": f"hello {n}", "stall_code": world.other_stall["code"]},
            headers=world.visitor,
        )
        assert sent.status_code == 201, sent.text
        pulled = await client.post("/api/sync/pull", json={"event": "ripe-jan"}, headers=world.visitor)
        assert pulled.status_code == 200
        assert (await client.get("/api/events/ripe-jan/search", params={"q": "jar"})).status_code == 200


async def test_steady_state_requests_open_no_connection(
    app: Litestar, client: httpx.AsyncClient, world: World, db: Settings
) -> None:
    await _mixed_requests(client, world, 6)  # warm-up: every route's first use, and the pool at its working size
    if db.is_sqlite:
        from server.tables import Item

        engine = Item._meta.db
        assert isinstance(engine, PooledSQLiteEngine)
        before = engine.connections_opened
        await _mixed_requests(client, world, 10)
        assert engine.connections_opened == before, "a steady-state request opened a SQLite connection"
        assert before <= 1 + engine.reader_count
    else:
        from datetime import UTC, datetime

        since = datetime.now(UTC)
        await _mixed_requests(client, world, 10)
        assert await _postgres_connections_since(db, since) == 0, "a steady-state request opened a connection"


@pytest.fixture
async def sqlite_engine(db: Settings) -> Any:
    if not db.is_sqlite:
        pytest.skip("the group-committing writer is SQLite's engine")
    engine = build_engine(db)
    assert isinstance(engine, PooledSQLiteEngine)
    await start_engine(engine)
    from server.database import bind_tables

    bind_tables(engine)
    yield engine
    await stop_engine(engine)


async def _add_reply(engine: PooledSQLiteEngine, account: uuid.UUID, text: str, fail: bool = False) -> None:
    async with write_transaction(engine):
        await QuickReply.insert(QuickReply(id=uuid.uuid4(), account=account, text=text))
        await asyncio.sleep(0)  # let others queue behind this unit
        if fail:
            raise RuntimeError("this unit fails after writing")


def _texts_on_disk(settings: Settings) -> set[str]:
    """What a brand-new connection (another process, or after a crash) reads from the file."""
    with sqlite3.connect(settings.sqlite_path) as connection:
        return {row[0] for row in connection.execute("SELECT text FROM quick_reply")}


async def test_units_arriving_together_share_a_commit_and_fail_alone(
    sqlite_engine: PooledSQLiteEngine, db: Settings
) -> None:
    from server.domain.accounts import NewAccount, create_account

    account = await create_account(NewAccount("v@example.org", "vendor-pass", "V"), "vendor")
    groups, units = sqlite_engine.groups_committed, sqlite_engine.units_committed
    outcomes = await asyncio.gather(
        *(_add_reply(sqlite_engine, account, f"reply {n}", fail=n % 5 == 3) for n in range(40)),
        return_exceptions=True,
    )
    failed = {n for n, outcome in enumerate(outcomes) if isinstance(outcome, RuntimeError)}
    assert failed == {n for n in range(40) if n % 5 == 3}
    on_disk = _texts_on_disk(db)
    assert on_disk == {f"reply {n}" for n in range(40) if n not in failed}, "a failing unit undid a neighbour"
    committed_units = sqlite_engine.units_committed - units
    committed_groups = sqlite_engine.groups_committed - groups
    assert committed_units == 40 - len(failed)
    assert committed_groups < committed_units / 4, (committed_groups, committed_units)


async def test_a_unit_is_on_disk_when_its_caller_resumes(sqlite_engine: PooledSQLiteEngine, db: Settings) -> None:
    from server.domain.accounts import NewAccount, create_account

    account = await create_account(NewAccount("w@example.org", "vendor-pass", "W"), "vendor")
    seen: list[bool] = []

    async def write_then_look(n: int) -> None:
        await _add_reply(sqlite_engine, account, f"durable {n}")
        seen.append(f"durable {n}" in await asyncio.to_thread(_texts_on_disk, db))

    await asyncio.gather(*(write_then_look(n) for n in range(20)))
    assert seen == [True] * 20


async def test_a_lone_failing_unit_leaves_nothing_and_the_writer_works_on(
    sqlite_engine: PooledSQLiteEngine, db: Settings
) -> None:
    from server.domain.accounts import NewAccount, create_account

    account = await create_account(NewAccount("x@example.org", "vendor-pass", "X"), "vendor")
    with pytest.raises(RuntimeError):
        await _add_reply(sqlite_engine, account, "never", fail=True)
    await _add_reply(sqlite_engine, account, "after")
    assert _texts_on_disk(db) == {"after"}


async def test_reads_do_not_wait_for_a_unit_of_work(sqlite_engine: PooledSQLiteEngine, db: Settings) -> None:
    """A read outside any unit answers from the readers while a unit holds the writer."""
    from server.domain.accounts import NewAccount, create_account

    account = await create_account(NewAccount("y@example.org", "vendor-pass", "Y"), "vendor")
    release = asyncio.Event()
    inside = asyncio.Event()

    async def slow_unit() -> None:
        async with write_transaction(sqlite_engine):
            await QuickReply.insert(QuickReply(id=uuid.uuid4(), account=account, text="slow"))
            inside.set()
            await release.wait()

    task = asyncio.create_task(slow_unit())
    await inside.wait()
    rows = await asyncio.wait_for(QuickReply.select(QuickReply.text), timeout=5)
    assert rows == []  # the unit has not committed: readers see the last commit only
    release.set()
    await task
    assert [r["text"] for r in await QuickReply.select(QuickReply.text)] == ["slow"]
