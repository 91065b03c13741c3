"""The sync protocol over HTTP: snapshot, change feed, cursors, idempotent push, rejections."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from litestar import Litestar

from server.tables import ChangeLog, Item, Sale
from sync.compact import compact_log
from tests.conftest import World
from tests.replica_rules import replica_of


async def _pull_all(
    client: httpx.AsyncClient, headers: dict[str, str], cursor: str | None = None, limit: int = 500
) -> tuple[list[dict[str, Any]], str, int]:
    changes: list[dict[str, Any]] = []
    calls = 0
    while True:
        r = await client.post(
            "/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor, "limit": limit}, headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        calls += 1
        assert not body["reset"]
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, str(cursor), calls


async def _items(client: httpx.AsyncClient, world: World, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": f"Jar {i}", "price": 100 + i, "quantity": 2},
            headers=world.vendor,
        )
        ids.append(r.json()["id"])
    return ids


async def test_snapshot_in_pages_then_the_log(client: httpx.AsyncClient, world: World) -> None:
    ids = await _items(client, world, 7)
    changes, cursor, calls = await _pull_all(client, world.visitor, limit=3)
    assert calls >= 3
    replica = replica_of(changes)
    assert {k[1] for k in replica if k[0] == "item"} == set(ids)
    assert ("event", world.event["id"]) in replica
    assert {k[1] for k in replica if k[0] == "stall"} == {world.stall["id"], world.other_stall["id"]}
    # Nothing new: an empty page.
    more, cursor2, _ = await _pull_all(client, world.visitor, cursor)
    assert more == []
    # Changes since: an edit, a delete (tombstone), a sale (totals).
    await client.patch(f"/api/items/{ids[0]}", json={"price": 999}, headers=world.vendor)
    await client.delete(f"/api/items/{ids[1]}", headers=world.vendor)
    await client.post(f"/api/items/{ids[2]}/sell", json={"quantity": 1}, headers=world.vendor)
    more, _, _ = await _pull_all(client, world.visitor, cursor2)
    by_id = {(c["entity"], c["id"]): c for c in more}
    assert by_id[("item", ids[0])]["data"]["price"] == 999
    assert by_id[("item", ids[1])]["op"] == "delete" and by_id[("item", ids[1])]["data"] is None
    assert by_id[("totals", world.event["id"])]["data"]["sales"] == 1
    final = replica_of(changes + more)
    assert ("item", ids[1]) not in final and final[("item", ids[2])]["quantity"] == 1


async def test_bad_cursors_are_refused_and_old_ones_reset(
    app: Litestar, client: httpx.AsyncClient, world: World
) -> None:
    await _items(client, world, 2)
    _, cursor, _ = await _pull_all(client, world.visitor)
    for bad in ("nonsense", cursor[:-2] + "xx", "e30." + cursor.split(".")[1]):
        r = await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": bad}, headers=world.visitor)
        assert r.status_code == 422 and r.json()["field"] == "cursor", r.text
    await _items(client, world, 2)
    await app.state.indexer.catch_up()
    await app.state.notifier.catch_up()
    readers = {r.name: r.entities for r in (app.state.indexer, app.state.notifier)}
    assert (await compact_log(ChangeLog._meta.db, 10_000, readers)).removed > 0
    r = await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor}, headers=world.visitor)
    assert r.status_code == 200 and r.json()["reset"] is True
    r = await client.post("/api/sync/pull", json={"event": "ripe-jan"})
    assert r.status_code == 401


def _push_body(client_id: str, start: int, *mutations: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "mutations": [{"id": start + i, "name": n, "args": a} for i, (n, a) in enumerate(mutations)],
    }


async def test_push_is_idempotent_and_ordered(client: httpx.AsyncClient, world: World) -> None:
    cid, item_id, sale_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    body = _push_body(
        cid,
        1,
        (
            "create_item",
            {"stall_code": world.stall["code"], "id": item_id, "title": "Offline mug", "price": 1500, "quantity": 3},
        ),
        ("sell_item", {"id": item_id, "sale_id": sale_id, "quantity": 1}),
        ("update_item", {"id": item_id, "price": 1400}),
    )
    first = await client.post("/api/sync/push", json=body, headers=world.vendor)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["applied"] * 3
    # The response was "lost": the client retries the same batch, twice at once.
    retries = await asyncio.gather(*(client.post("/api/sync/push", json=body, headers=world.vendor) for _ in range(2)))
    for r in retries:
        assert r.json() == first.json()
    assert await Item.count().where(Item.id == item_id) == 1
    assert await Sale.count().where(Sale.item == item_id) == 1
    row = await Item.select(Item.quantity, Item.price).where(Item.id == item_id).first()
    assert row == {"quantity": 2, "price": 1400}
    # A gap is refused, and nothing after it is applied.
    gap = await client.post(
        "/api/sync/push", json=_push_body(cid, 5, ("delete_item", {"id": item_id})), headers=world.vendor
    )
    assert gap.status_code == 409 and "expects mutation 4" in gap.json()["error"]
    assert (await client.get(f"/api/items/{item_id}")).status_code == 200


async def test_permanent_rejections_do_not_jam_the_queue(client: httpx.AsyncClient, world: World) -> None:
    other_item = (
        await client.post(
            f"/api/stalls/{world.other_stall['code']}/items",
            json={"title": "Not yours", "price": 100},
            headers=world.other_vendor,
        )
    ).json()
    mine = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": "Mine", "price": 100, "quantity": 1},
            headers=world.vendor,
        )
    ).json()
    await client.post(f"/api/items/{mine['id']}/sell", json={"quantity": 1}, headers=world.vendor)
    cid = str(uuid.uuid4())
    body = _push_body(
        cid,
        1,
        ("teleport_item", {"id": mine["id"]}),
        ("update_item", {"id": other_item["id"], "title": "Stolen"}),
        ("update_item", {"id": mine["id"], "title": "Edited while offline"}),
        ("update_item", {"id": mine["id"], "price": "free"}),
        ("update_stall", {"code": world.stall["code"], "name": "Renamed offline"}),
    )
    r = await client.post("/api/sync/push", json=body, headers=world.vendor)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "rejected", "rejected", "rejected", "applied"]
    assert "unknown mutation" in results[0]["reason"]
    assert "Only the vendor" in results[1]["reason"]
    assert "sold" in results[2]["reason"] and results[2]["data"]["state"] == "sold"
    assert results[3]["field"] == "price"
    assert r.json()["last_mutation_id"] == 5
    assert (await client.get(f"/api/items/{other_item['id']}")).json()["title"] == "Not yours"
    # Retrying returns the very same rejections.
    again = await client.post("/api/sync/push", json=body, headers=world.vendor)
    assert again.json() == r.json()


async def test_malformed_pushes_are_4xx(client: httpx.AsyncClient, world: World) -> None:
    cid = str(uuid.uuid4())
    cases = [
        {"client_id": "not-a-uuid", "mutations": [{"id": 1, "name": "delete_item", "args": {}}]},
        {"client_id": cid, "mutations": []},
        {"client_id": cid, "mutations": [{"id": 1, "name": "x"}, {"id": 3, "name": "x"}]},
        {"client_id": cid, "mutations": [{"id": 0, "name": "x"}]},
        {"client_id": cid},
    ]
    for body in cases:
        r = await client.post("/api/sync/push", json=body, headers=world.vendor)
        assert r.status_code == 422, (body, r.text)
    r = await client.post(
        "/api/sync/push", content=b"{not json", headers={**world.vendor, "content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
    # A client id is bound to whoever used it first.
    ok = await client.post("/api/sync/push", json=_push_body(cid, 1, ("teleport", {})), headers=world.vendor)
    assert ok.status_code == 200
    stolen = await client.post("/api/sync/push", json=_push_body(cid, 2, ("teleport", {})), headers=world.visitor)
    assert stolen.status_code == 403
