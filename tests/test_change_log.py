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
