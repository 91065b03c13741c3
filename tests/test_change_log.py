"""The one write path: every change lands in the change log in the same transaction, with
consecutive sequence numbers, and concurrent writers never break stock rules."""

from __future__ import annotations

import asyncio

import httpx

from server.tables import ChangeLog, Item, Sale
from tests.conftest import World


async def _item(client: httpx.AsyncClient, world: World, quantity: int) -> str:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": "Sourdough loaf", "price": 450, "quantity": quantity},
        headers=world.vendor,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_concurrent_sales_never_oversell(client: httpx.AsyncClient, world: World) -> None:
    item_id = await _item(client, world, 5)
    url = f"/api/items/{item_id}/sell"
    responses = await asyncio.gather(*(client.post(url, json={"quantity": 1}, headers=world.vendor) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 15, [r.text for r in responses if r.status_code >= 500]
    row = await Item.select(Item.quantity, Item.state).where(Item.id == item_id).first()
    assert row == {"quantity": 0, "state": "sold"}
    assert await Sale.count().where(Sale.item == item_id) == 5


async def test_log_is_gapless_and_follows_every_change(client: httpx.AsyncClient, world: World) -> None:
    before = await ChangeLog.count()
    ids = await asyncio.gather(*(_item(client, world, 2) for _ in range(10)))
    await asyncio.gather(*(client.patch(f"/api/items/{i}", json={"price": 500}, headers=world.vendor) for i in ids))
    rows = await ChangeLog.select().order_by(ChangeLog.seq)
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers must be consecutive"
    assert len(rows) - before == 20
    versions = {(r["entity_id"], r["version"]) for r in rows if r["entity"] == "item"}
    assert {(i, 2) for i in ids} <= versions and {(i, 1) for i in ids} <= versions
    assert {r["scope"] for r in rows if r["entity"] == "item"} == {f"event:{world.event['id']}"}


async def test_a_refused_write_leaves_no_log_entry(client: httpx.AsyncClient, world: World) -> None:
    item_id = await _item(client, world, 1)
    before = await ChangeLog.count()
    r = await client.post(f"/api/items/{item_id}/sell", json={"quantity": 2}, headers=world.vendor)
    assert r.status_code == 409
    assert await ChangeLog.count() == before


async def test_retried_sale_with_same_id_counts_once(client: httpx.AsyncClient, world: World) -> None:
    item_id = await _item(client, world, 3)
    body = {"quantity": 1, "sale_id": "0b5d6a3e-2f4c-4c1e-9a53-6f1f5d3c2b10"}
    first = await client.post(f"/api/items/{item_id}/sell", json=body, headers=world.vendor)
    again = await client.post(f"/api/items/{item_id}/sell", json=body, headers=world.vendor)
    assert first.status_code == again.status_code == 201
    assert first.json()["sale"] == again.json()["sale"]
    assert again.json()["item"]["quantity"] == 2


async def test_a_reader_following_the_log_under_concurrent_writers_never_sees_a_gap(
    client: httpx.AsyncClient, world: World
) -> None:
    """Writers of two stalls (and chat) commit side by side while a reader follows the log.

    Every read after the reader's cursor must be contiguous: a hole would be a change numbered
    lower than one already visible that could still commit later, which a sync client or the
    search indexer would then skip for good. (On PostgreSQL this is what holding the log's head
    row from the append to the commit guarantees; on SQLite the one writer does.)
    """
    import uuid

    stop = asyncio.Event()
    seen: list[int] = []
    holes: list[tuple[int, list[int]]] = []

    async def follow() -> None:
        cursor = 0
        while not stop.is_set() or cursor < await _head():
            rows = await ChangeLog.select(ChangeLog.seq).where(ChangeLog.seq > cursor).order_by(ChangeLog.seq)
            seqs = [int(r["seq"]) for r in rows]
            if seqs and seqs != list(range(cursor + 1, cursor + 1 + len(seqs))):
                holes.append((cursor, seqs[:10]))
            contiguous = [s for n, s in enumerate(seqs) if s == cursor + 1 + n]
            if contiguous:
                cursor = contiguous[-1]
                seen.extend(contiguous)
            await asyncio.sleep(0)

    async def write(stall: dict[str, str], vendor: dict[str, str], n: int) -> None:
        r = await client.post(
            f"/api/stalls/{stall['code']}/items", json={"title": f"Loaf {n}", "price": 300}, headers=vendor
        )
        assert r.status_code == 201, r.text
        r = await client.patch(f"/api/items/{r.json()['id']}", json={"price": 350}, headers=vendor)
        assert r.status_code == 200, r.text

    async def chat(n: int) -> None:
        r = await client.post(
            f"/api/conversations/{uuid.uuid4()}/messages",
            json={"message_id": str(uuid.uuid4()), "body": f"hi {n}", "stall_code": world.stall["code"]},
            headers=world.visitor,
        )
        assert r.status_code == 201, r.text

    start = await _head()
    reader = asyncio.create_task(follow())
    await asyncio.gather(
        *(write(world.stall, world.vendor, n) for n in range(15)),
        *(write(world.other_stall, world.other_vendor, n) for n in range(15)),
        *(chat(n) for n in range(10)),
    )
    stop.set()
    await asyncio.wait_for(reader, timeout=30)
    assert holes == [], f"the reader saw holes (cursor, next seqs): {holes[:3]}"
    head = await _head()
    assert seen[-1] == head and seen == list(range(1, head + 1)) and head - start >= 30 * 2 + 10 * 2


async def _head() -> int:
    from server.tables import LogHead

    row = await LogHead.select(LogHead.seq).where(LogHead.id == 1).first()
    return int(row["seq"]) if row else 0
