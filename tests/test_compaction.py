"""Compacting the change log: old cursors reset and re-pull, log readers are never overtaken,
and `souk compact-log` does it from the command line with a report."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import PIPE
from typing import Any
from uuid import uuid4

import httpx
from litestar import Litestar

from server.notify import WebPushNotifier
from server.search_source import Indexer
from server.settings import Settings
from server.tables import ChangeLog, LogCursor, LogHead
from sync.compact import compact_log
from sync.log import unit_of_work
from sync.reader import log_head
from tests.conftest import World

READERS = {reader.name: reader.entities for reader in (Indexer, WebPushNotifier)}


async def _pull(client: httpx.AsyncClient, world: World, cursor: str | None = None) -> dict[str, Any]:
    r = await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor}, headers=world.visitor)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _pull_to_end(client: httpx.AsyncClient, world: World, cursor: str | None = None) -> tuple[set[str], str]:
    """Item ids seen (deletes removed) and the final cursor."""
    items: set[str] = set()
    while True:
        body = await _pull(client, world, cursor)
        assert not body["reset"]
        for change in body["changes"]:
            if change["entity"] == "item":
                (items.discard if change["op"] == "delete" else items.add)(change["id"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return items, str(cursor)


async def _cursors() -> dict[str, int]:
    return {str(r["name"]): int(r["seq"]) for r in await LogCursor.select(LogCursor.name, LogCursor.seq)}


async def _new_item(client: httpx.AsyncClient, world: World, title: str) -> str:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items", json={"title": title, "price": 450}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_an_old_cursor_resets_and_the_snapshot_has_everything(
    app: Litestar, client: httpx.AsyncClient, world: World
) -> None:
    kept = await _new_item(client, world, "Fig jam")
    gone = await _new_item(client, world, "Quince paste")
    _, old_cursor = await _pull_to_end(client, world)
    r = await client.delete(f"/api/items/{gone}", headers=world.vendor)
    assert r.status_code in (200, 204), r.text
    later = await _new_item(client, world, "Medlar jelly")
    await app.state.indexer.catch_up()
    await app.state.notifier.catch_up()

    done = await compact_log(ChangeLog._meta.db, await log_head(), READERS)
    assert done.removed > 0 and done.floor == done.head == await log_head() and done.held_by == ""
    assert await ChangeLog.count() == 0

    # The phone that synced before gets "start again"; the new snapshot has the delete and the new item.
    body = await _pull(client, world, old_cursor)
    assert body["reset"] is True and body["cursor"] == ""
    items, cursor = await _pull_to_end(client, world)
    assert items == {kept, later}

    # Readers were moved up with the floor (no rebuild), and go on following the log after it.
    assert all(seq >= done.floor for seq in (await _cursors()).values())
    newest = await _new_item(client, world, "Rowan jelly")
    await app.state.indexer.catch_up()
    r = await client.get("/api/events/ripe-jan/search", params={"q": "rowan"})
    assert [hit["id"] for hit in r.json()["hits"]] == [newest]
    items, _ = await _pull_to_end(client, world, cursor)
    assert items == {newest}


async def test_compaction_stops_before_what_a_reader_has_not_handled(db: Settings) -> None:
    engine = ChangeLog._meta.db
    await LogCursor.insert(LogCursor(name="search", seq=0), LogCursor(name="webpush", seq=0))

    async def log(entity: str, n: int) -> None:
        async with unit_of_work(engine) as uow:
            for _ in range(n):
                uow.record("event:x", entity, uuid4(), 1)

    await log("item", 3)  # 1-3: the indexer's kind, not handled yet
    await log("message", 2)  # 4-5
    done = await compact_log(engine, 5, READERS)
    assert (done.removed, done.floor, done.held_by) == (0, 0, "search")

    await LogCursor.update({LogCursor.seq: 3}).where(LogCursor.name == "search")  # indexer done with 1-3
    done = await compact_log(engine, 5, READERS)
    assert (done.removed, done.floor, done.held_by) == (3, 3, "webpush")  # web push has not sent 4-5
    assert await _cursors() == {"search": 3, "webpush": 3}

    await LogCursor.update({LogCursor.seq: 5}).where(LogCursor.name == "webpush")
    await log("item", 1)  # 6: the indexer has not handled it; 4-5 were never its business
    done = await compact_log(engine, 6, READERS)
    assert (done.removed, done.floor, done.held_by) == (2, 5, "search")
    assert await _cursors() == {"search": 5, "webpush": 5}

    await LogCursor.update({LogCursor.seq: 6}).where(LogCursor.name == "search")
    await LogCursor.insert(LogCursor(name="retired", seq=5))  # a reader we know nothing of
    done = await compact_log(engine, 6, READERS)
    assert (done.removed, done.floor, done.held_by) == (0, 5, "retired")
    assert await LogHead.select(LogHead.seq, LogHead.floor).first() == {"seq": 6, "floor": 5}
    assert [r["seq"] for r in await ChangeLog.select(ChangeLog.seq)] == [6]


async def _souk(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_compact_log_command(db: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    env.update(SOUK_DATA_DIR=str(db.data_dir), SOUK_DATABASE_URL=db.database_url)

    code, _, err = await _souk(env, "compact-log", "--keep-days", "-1")
    assert code == 2 and "from 0 (keep nothing) to 3650" in err
    code, _, err = await _souk(env, "compact-log", "--keep-days", "week")
    assert code == 2 and "'week' is not a number of days" in err

    async with unit_of_work(ChangeLog._meta.db) as uow:
        for _ in range(4):
            uow.record("event:x", "item", uuid4(), 1)
    code, out, err = await _souk(env, "compact-log")  # 14 days by default: all of it is newer
    assert code == 0, err
    assert "Change log: 0 old entries removed, 4 kept (#1–#4)." in out
    await LogCursor.insert(LogCursor(name="search", seq=3))
    code, out, err = await _souk(env, "compact-log", "--keep-days", "0")
    assert code == 0, err
    assert "Change log: 3 old entries removed, 1 kept (#4–#4)." in out
    assert "Devices that last synced before" in out
    assert "Stopped at #3: the 'search' log reader has not got further." in out
    assert [r["seq"] for r in await ChangeLog.select(ChangeLog.seq)] == [4]
