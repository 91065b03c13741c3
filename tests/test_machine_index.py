"""Each machine's own search index: one writing process, readers beside it, takeover on death.

The in-process tests open the same folder twice, as two processes of one machine would (the
writer lease is an `flock`, which two opens of one file contend for like two processes do).
The last test runs two real `souk serve` processes sharing one data dir on PostgreSQL and
SIGKILLs the writer.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from search.documents import SearchRequest
from search.engine import EngineError, SearchEngine
from search.indexer import CURSOR_NAME
from search.machine import MACHINE_CURSOR_PREFIX, MachineIndex
from server.search_source import Indexer
from server.settings import Settings
from server.tables import Event, LogCursor
from tests.conftest import TEST_DATABASE_URL, World, start_server
from tests.test_chat_realtime import _market


def _maker(app: Any) -> Callable[[SearchEngine, str], Indexer]:
    return lambda engine, cursor: Indexer(engine, app.state.indexer.db, poll_seconds=0.05, name=cursor)


async def _titles(engine: SearchEngine, q: str) -> set[str]:
    event = await Event.select(Event.id).first()
    assert event is not None
    found = await engine.search(SearchRequest(event_id=str(event["id"]), q=q, limit=50))
    return {hit.document.title for hit in found.hits}


async def _add(client: httpx.AsyncClient, world: World, title: str) -> None:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items", json={"title": title, "price": 250}, headers=world.vendor
    )
    assert r.status_code == 201, r.text


async def test_one_writer_per_folder_readers_follow_and_take_over(
    client: httpx.AsyncClient, app: Any, world: World, tmp_path: Path
) -> None:
    await _add(client, world, "Lavender soap")
    await LogCursor.insert(LogCursor(name=CURSOR_NAME, seq=0))  # the one cursor of older versions
    folder = tmp_path / "search"
    first, second = MachineIndex(folder, _maker(app)), MachineIndex(folder, _maker(app), retry_seconds=0.05)
    try:
        await first.start()
        await second.start()
        assert (first.role, second.role) == ("writer", "reader")
        assert first.indexer is not None
        with pytest.raises(EngineError, match="only reads"):
            await second.engine.clear()

        # A new folder is built from the tables, under a cursor of its own; the old one is dropped.
        await first.indexer.catch_up()
        assert await _titles(second.engine, "lavender") == {"Lavender soap"}
        cursors = {r["name"] for r in await LogCursor.select(LogCursor.name)}
        assert first.indexer.name.startswith(MACHINE_CURSOR_PREFIX) and first.indexer.name in cursors
        assert CURSOR_NAME not in cursors

        # The reader sees each of the writer's commits, without being told.
        await _add(client, world, "Lavender candle")
        await first.indexer.catch_up()
        assert await _titles(second.engine, "lavender") == {"Lavender soap", "Lavender candle"}

        # The writer dies: the reader takes the lease and goes on from the same cursor.
        following = asyncio.create_task(second.run())
        first.stop()
        await first.close()
        deadline = time.monotonic() + 10
        while second.role != "writer":
            assert time.monotonic() < deadline, "the reader did not take over"
            await asyncio.sleep(0.02)
        assert second.indexer is not None and second.indexer.name == first.indexer.name
        await _add(client, world, "Lavender honey")
        await second.indexer.catch_up()
        assert await _titles(second.engine, "lavender") == {"Lavender soap", "Lavender candle", "Lavender honey"}
        assert (await second.status())["role"] == "writer"
        second.stop()
        await following
    finally:
        for index in (first, second):
            index.stop()
            await index.close()


async def test_a_reader_before_the_first_writer_answers_not_ready(
    client: httpx.AsyncClient, app: Any, world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "search"
    holder = MachineIndex(folder, _maker(app))
    holder.lease.try_acquire()  # a writer that has not built the folder yet
    reader = MachineIndex(folder, _maker(app))
    try:
        await reader.start()
        assert reader.role == "reader"
        with pytest.raises(EngineError, match="still being built"):
            await _titles(reader.engine, "soap")
        r = await client.get("/api/events/ripe-jan/search", params={"q": "soap"})
        assert r.status_code == 200  # the app's own index is unaffected
    finally:
        await reader.close()
        await holder.close()


async def test_a_wiped_folder_gets_a_new_cursor_and_the_old_one_goes(
    client: httpx.AsyncClient, app: Any, world: World, tmp_path: Path
) -> None:
    await _add(client, world, "Beeswax wrap")
    folder = tmp_path / "search"
    index = MachineIndex(folder, _maker(app))
    await index.start()
    assert index.indexer is not None
    await index.indexer.catch_up()
    old = index.indexer.name
    await index.close()
    (folder / "souk-schema-version").write_text("an older schema")  # as after an upgrade
    again = MachineIndex(folder, _maker(app))
    try:
        await again.start()
        assert again.indexer is not None and again.indexer.name != old
        await again.indexer.catch_up()
        assert await _titles(again.engine, "beeswax") == {"Beeswax wrap"}
        names = {r["name"] for r in await LogCursor.select(LogCursor.name)}
        assert old not in names and again.indexer.name in names
    finally:
        await again.close()


needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="several processes need PostgreSQL (SQLite is one process by design)"
)


async def _health(http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    r = await http.get(f"{base}/api/health")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _until_found(http: httpx.AsyncClient, base: str, title: str, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        r = await http.get(f"{base}/api/events/ripe-jan/search", params={"q": title})
        if r.status_code == 200 and title in {h["title"] for h in r.json()["hits"]}:
            return
        assert time.monotonic() < deadline, f"{title!r} not found on {base} within {within} s: {r.text[:200]}"
        await asyncio.sleep(0.05)


@needs_postgres
async def test_two_processes_of_one_machine_share_its_index_and_survive_the_writer(db: Settings) -> None:
    shared = {"SOUK_SECRET_KEY": "one-machine-one-secret"}
    first, first_base = start_server(db, **shared)
    second, second_base = start_server(db, **shared)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            roles = {(await _health(http, b))["search"]["role"] for b in (first_base, second_base)}
            assert roles == {"writer", "reader"}
            writer, reader = (
                (first, second_base)
                if (await _health(http, first_base))["search"]["role"] == "writer"
                else (second, first_base)
            )
            m = await _market(reader)
            vendor = {"Authorization": f"Bearer {m['vendor']}"}

            async def create(title: str) -> None:
                r = await http.post(
                    f"{reader}/api/stalls/{m['stall']}/items", json={"title": title, "price": 100}, headers=vendor
                )
                assert r.status_code == 201, r.text

            await create("Quince jelly")  # written through the reader, indexed by the writer
            await _until_found(http, reader, "Quince jelly", within=2.0)

            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
            await create("Quince cheese")
            deadline = time.monotonic() + 10
            while (await _health(http, reader))["search"]["role"] != "writer":
                assert time.monotonic() < deadline, "the reader did not take over the index"
                await asyncio.sleep(0.1)
            await _until_found(http, reader, "Quince cheese", within=5.0)
            health = await _health(http, reader)
            assert health["search"]["indexed_seq"] >= health["log_seq"] - 1
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
