"""Holds per unit, a hold length the vendor chooses, releasing holds and undoing sales (issue 14,
findings 1 and 10), through the real HTTP API, the sync push and the search indexer."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar
from litestar.di import Provide

from server.domain.reservations import sweep
from server.tables import Event, ItemHold, Sale
from tests.conftest import World


async def _honey(client: httpx.AsyncClient, world: World, quantity: int = 13, **extra: Any) -> dict[str, Any]:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": "Heather Honey", "price": 650, "quantity": quantity, **extra},
        headers=world.vendor,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _conversation(client: httpx.AsyncClient, world: World, visitor: dict[str, str] | None = None) -> str:
    r = await client.post(
        "/api/conversations", json={"stall_code": world.stall["code"]}, headers=visitor or world.visitor
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _item(client: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/items/{item_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _search_ids(client: httpx.AsyncClient, app: Litestar, q: str, **params: Any) -> set[str]:
    await app.state.indexer.catch_up()
    r = await client.get("/api/events/ripe-jan/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return {h["id"] for h in r.json()["hits"]}


async def _thread(client: httpx.AsyncClient, world: World, conversation: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/conversations/{conversation}/messages", headers=world.visitor)
    body: list[dict[str, Any]] = r.json()
    return body


def _market(app: Litestar) -> Any:
    provider = app.dependencies["services"]
    assert isinstance(provider, Provide)
    return provider.dependency()


async def test_holding_one_of_13_leaves_12_on_sale_and_in_search(
    client: httpx.AsyncClient, app: Litestar, world: World
) -> None:
    honey = await _honey(client, world)
    conversation = await _conversation(client, world)
    r = await client.post(
        f"/api/conversations/{conversation}/reserve", json={"item_id": honey["id"], "minutes": 60}, headers=world.vendor
    )
    assert r.status_code == 200, r.text
    held = r.json()
    # One jar held for the visitor; the other 12 stay available, for everyone and in search.
    assert (held["state"], held["quantity"], held["held"]) == ("available", 13, 1)
    assert honey["id"] in await _search_ids(client, app, "heather honey")  # default: available only
    assert (await _item(client, honey["id"]))["state"] == "available"
    thread = await _thread(client, world, conversation)
    assert thread[-1]["sender"] == "system" and "Reserved for you until" in thread[-1]["body"]
    # Selling to that visitor uses up their hold: 12 left, nothing held, still available.
    device = (await client.get(f"/api/conversations/{conversation}", headers=world.vendor)).json()["device_id"]
    r = await client.post(
        f"/api/items/{honey['id']}/sell", json={"quantity": 1, "device_id": device}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    after = r.json()["item"]
    assert (after["state"], after["quantity"], after["held"], after["reserved_until"]) == ("available", 12, 0, None)
    assert await ItemHold.count().where(ItemHold.item == honey["id"]) == 0
    assert honey["id"] in await _search_ids(client, app, "heather honey")


async def test_reserved_only_when_every_unit_left_is_held(
    client: httpx.AsyncClient, app: Litestar, world: World
) -> None:
    jars = await _honey(client, world, quantity=2)
    url = f"/api/items/{jars['id']}/reserve"
    first = await client.post(url, json={"minutes": 15}, headers=world.vendor)
    assert (first.json()["state"], first.json()["held"]) == ("available", 1)
    second = await client.post(url, json={"minutes": 15}, headers=world.vendor)
    assert (second.json()["state"], second.json()["held"]) == ("reserved", 2)
    assert jars["id"] not in await _search_ids(client, app, "heather honey")
    assert jars["id"] in await _search_ids(client, app, "heather honey", state=["reserved"])
    # Nothing left to hold: a clear refusal.
    third = await client.post(url, json={"minutes": 15}, headers=world.vendor)
    assert third.status_code == 409 and third.json()["field"] == "quantity", third.text
    assert "left to hold" in third.json()["error"]
    # Releasing one hold (by id) puts one back on sale.
    holds = (await client.get(f"/api/items/{jars['id']}/holds", headers=world.vendor)).json()
    assert len(holds) == 2 and all(h["quantity"] == 1 for h in holds)
    assert (await client.get(f"/api/items/{jars['id']}/holds", headers=world.other_vendor)).status_code == 403
    r = await client.post(f"/api/items/{jars['id']}/release", json={"hold_id": holds[0]["id"]}, headers=world.vendor)
    assert (r.json()["state"], r.json()["held"]) == ("available", 1)
    assert jars["id"] in await _search_ids(client, app, "heather honey")
    # Releasing with no body lets every hold go.
    r = await client.post(f"/api/items/{jars['id']}/release", json={}, headers=world.vendor)
    assert (r.json()["state"], r.json()["held"], r.json()["reserved_until"]) == ("available", 0, None)


async def test_the_vendor_chooses_how_long_a_hold_lasts(client: httpx.AsyncClient, world: World) -> None:
    honey = await _honey(client, world)
    conversation = await _conversation(client, world)
    url = f"/api/conversations/{conversation}/reserve"
    ends = datetime.now(UTC) + timedelta(hours=3)
    await Event.update({Event.ends_at: ends}).where(Event.slug == "ripe-jan")

    async def hold(**length: Any) -> httpx.Response:
        return await client.post(url, json={"item_id": honey["id"], **length}, headers=world.vendor)

    for length, minutes in (({"minutes": 15}, 15), ({"minutes": 60}, 60)):
        r = await hold(**length)
        assert r.status_code == 200, r.text
        left = datetime.fromisoformat(r.json()["reserved_until"]) - datetime.now(UTC)
        assert timedelta(minutes=minutes - 1) < left <= timedelta(minutes=minutes)
        assert r.json()["held"] == 1  # holding again for the same visitor changes their hold
    r = await hold(until_end=True)
    assert r.status_code == 200, r.text
    assert abs(datetime.fromisoformat(r.json()["reserved_until"]) - ends) < timedelta(seconds=1)
    at_three = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    r = await hold(until=at_three.isoformat())
    assert r.status_code == 200 and datetime.fromisoformat(r.json()["reserved_until"]) == at_three
    thread = await _thread(client, world, conversation)
    assert "Reserved for you until" in thread[-1]["body"]
    # Lengths a hold may not have: a clear 422 naming the field, and nothing changes.
    refusals: list[tuple[dict[str, Any], str, str]] = [
        ({"minutes": 0}, "minutes", "at least 1"),
        ({"minutes": -5}, "minutes", "at least 1"),
        ({"minutes": 4 * 60}, "minutes", "end of the event"),
        ({"until": (ends + timedelta(minutes=5)).isoformat()}, "until", "end of the event"),
        ({"until": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}, "until", "future"),
        ({"until": "2027-01-09T15:00:00"}, "until", "UTC offset"),
        ({"minutes": 15, "until_end": True}, "minutes", "one of"),
    ]
    for length, field, words in refusals:
        r = await hold(**length)
        assert r.status_code == 422, (length, r.text)
        assert r.json()["field"] == field and words in r.json()["error"], (length, r.text)
    assert datetime.fromisoformat((await _item(client, honey["id"]))["reserved_until"]) == at_three
    # Far from the end of a long event, a day is the most a hold can last.
    await Event.update({Event.ends_at: datetime.now(UTC) + timedelta(days=5)}).where(Event.slug == "ripe-jan")
    r = await hold(minutes=25 * 60)
    assert r.status_code == 422 and "24 hours" in r.json()["error"]


async def test_a_lapsed_hold_frees_its_unit_and_says_so(client: httpx.AsyncClient, app: Litestar, world: World) -> None:
    honey = await _honey(client, world, quantity=1)
    conversation = await _conversation(client, world)
    r = await client.post(
        f"/api/conversations/{conversation}/reserve", json={"item_id": honey["id"], "minutes": 15}, headers=world.vendor
    )
    assert r.json()["state"] == "reserved"
    market = _market(app)
    assert await sweep(market) == 0
    await ItemHold.update({ItemHold.until: datetime.now(UTC) - timedelta(seconds=1)}).where(
        ItemHold.item == honey["id"]
    )
    assert await sweep(market) == 1
    assert (await _item(client, honey["id"]))["state"] == "available"
    assert "lapsed" in (await _thread(client, world, conversation))[-1]["body"]


async def test_the_vendor_releases_a_visitors_hold_from_the_chat(client: httpx.AsyncClient, world: World) -> None:
    honey = await _honey(client, world)
    conversation = await _conversation(client, world)
    body = {"item_id": honey["id"], "minutes": 15}
    await client.post(f"/api/conversations/{conversation}/reserve", json=body, headers=world.vendor)
    r = await client.post(f"/api/conversations/{conversation}/release", json=body, headers=world.other_vendor)
    assert r.status_code == 404
    r = await client.post(f"/api/conversations/{conversation}/release", json=body, headers=world.vendor)
    assert r.status_code == 200 and r.json()["held"] == 0
    assert "released the hold" in (await _thread(client, world, conversation))[-1]["body"]


async def test_a_sale_without_a_visitor_comes_out_of_the_unheld_units(client: httpx.AsyncClient, world: World) -> None:
    jars = await _honey(client, world, quantity=3)
    await client.post(f"/api/items/{jars['id']}/reserve", json={"minutes": 15}, headers=world.vendor)
    r = await client.post(f"/api/items/{jars['id']}/sell", json={"quantity": 2}, headers=world.vendor)
    item = r.json()["item"]
    assert (item["quantity"], item["held"], item["state"]) == (1, 1, "reserved")
    # The last jar is gone too (sold to whoever): the hold goes with it.
    r = await client.post(f"/api/items/{jars['id']}/sell", json={"quantity": 1}, headers=world.vendor)
    assert (r.json()["item"]["state"], r.json()["item"]["held"]) == ("sold", 0)
    # A hold that is not there any more cannot be sold against.
    other = await _honey(client, world, quantity=2)
    r = await client.post(f"/api/items/{other['id']}/sell", json={"hold_id": str(uuid.uuid4())}, headers=world.vendor)
    assert r.status_code == 409 and r.json()["field"] == "hold_id"


async def _totals(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    r = await client.get("/api/events/ripe-jan/totals", headers=world.organizer)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_vendor_undoes_a_recent_sale(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        "/api/events/ripe-jan/causes", json={"name": "Food Bank", "tag": "#FoodBank"}, headers=world.organizer
    )
    assert r.status_code == 201, r.text
    honey = await _honey(client, world, quantity=2, hashtags=["#FoodBank"])
    conversation = await _conversation(client, world)
    await client.post(
        f"/api/conversations/{conversation}/reserve", json={"item_id": honey["id"], "minutes": 60}, headers=world.vendor
    )
    holds = (await client.get(f"/api/items/{honey['id']}/holds", headers=world.vendor)).json()
    before = await _totals(client, world)
    r = await client.post(
        f"/api/items/{honey['id']}/sell", json={"quantity": 2, "hold_id": holds[0]["id"]}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    sale = r.json()["sale"]
    assert r.json()["item"]["state"] == "sold"
    sold = await _totals(client, world)
    assert sold["amount"] == before["amount"] + 1300
    assert [c["amount"] for c in sold["causes"]] == [1300]
    url = f"/api/items/{honey['id']}/sales/{sale['id']}/undo"
    for headers, status in (({}, 401), (world.visitor, 403), (world.other_vendor, 403), (world.organizer, 403)):
        assert (await client.post(url, headers=headers)).status_code == status
    r = await client.post(url, headers=world.vendor)
    assert r.status_code == 200, r.text
    undone = r.json()
    assert undone["sale"]["undone"] is True
    # Back on sale, the visitor's hold given back, and the totals and cause totals as before.
    assert (undone["item"]["state"], undone["item"]["quantity"], undone["item"]["held"]) == ("available", 2, 1)
    after = await _totals(client, world)
    assert (after["amount"], after["sales"]) == (before["amount"], before["sales"])
    assert [c["amount"] for c in after["causes"]] == [0]
    # Undoing twice changes nothing; a sale of another item, or none, is not found.
    again = await client.post(url, headers=world.vendor)
    assert again.status_code == 200 and again.json()["item"]["quantity"] == 2
    other = await _honey(client, world)
    assert (
        await client.post(f"/api/items/{other['id']}/sales/{sale['id']}/undo", headers=world.vendor)
    ).status_code == 404
    assert (
        await client.post(f"/api/items/{honey['id']}/sales/{uuid.uuid4()}/undo", headers=world.vendor)
    ).status_code == 404
    # Only recent sales: one of three hours ago is refused with a reason.
    r = await client.post(f"/api/items/{honey['id']}/sell", json={"quantity": 1}, headers=world.vendor)
    old = r.json()["sale"]["id"]
    await Sale.update({Sale.sold_at: datetime.now(UTC) - timedelta(hours=3)}).where(Sale.id == old)
    r = await client.post(f"/api/items/{honey['id']}/sales/{old}/undo", headers=world.vendor)
    assert r.status_code == 409 and "last 2 hours" in r.json()["error"]


async def test_an_undo_gives_back_a_hold_recorded_in_either_time_form(client: httpx.AsyncClient, world: World) -> None:
    """A sale keeps the holds it used, times in the one wire form ("…Z"); sales stored before
    that ("+00:00") still give their hold back when undone."""
    for old_form in (False, True):
        honey = await _honey(client, world, quantity=2)
        conversation = await _conversation(client, world)
        await client.post(
            f"/api/conversations/{conversation}/reserve",
            json={"item_id": honey["id"], "minutes": 60},
            headers=world.vendor,
        )
        hold = (await client.get(f"/api/items/{honey['id']}/holds", headers=world.vendor)).json()[0]
        r = await client.post(
            f"/api/items/{honey['id']}/sell", json={"quantity": 2, "hold_id": hold["id"]}, headers=world.vendor
        )
        sale = r.json()["sale"]
        stored = await Sale.select(Sale.holds).where(Sale.id == sale["id"]).first()
        assert stored is not None
        [kept] = json.loads(stored["holds"])
        assert kept["until"].endswith("Z") and "+" not in kept["until"], kept
        if old_form:
            kept["until"] = kept["until"].replace("Z", "+00:00")
            await Sale.update({Sale.holds: json.dumps([kept])}).where(Sale.id == sale["id"])
        r = await client.post(f"/api/items/{honey['id']}/sales/{sale['id']}/undo", headers=world.vendor)
        assert r.status_code == 200, r.text
        assert (r.json()["item"]["quantity"], r.json()["item"]["held"]) == (2, 1)


def _push(client_id: str, *mutations: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "mutations": [{"id": i + 1, "name": n, "args": a} for i, (n, a) in enumerate(mutations)],
    }


async def test_holds_and_undo_work_offline_through_sync_push(client: httpx.AsyncClient, world: World) -> None:
    honey = await _honey(client, world)
    conversation = await _conversation(client, world)
    sale_id, hold_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = _push(
        str(uuid.uuid4()),
        (
            "reserve_for_visitor",
            {"conversation_id": conversation, "item_id": honey["id"], "until_end": True, "hold_id": hold_id},
        ),
        ("reserve_item", {"id": honey["id"], "minutes": 15, "quantity": 2}),
        ("sell_item", {"id": honey["id"], "sale_id": sale_id, "quantity": 1, "hold_id": hold_id}),
        ("undo_sale", {"sale_id": sale_id}),
        ("release_item", {"id": honey["id"]}),
        ("reserve_item", {"id": honey["id"], "minutes": 0}),
        ("release_for_visitor", {"conversation_id": conversation, "item_id": honey["id"]}),
    )
    r = await client.post("/api/sync/push", json=body, headers=world.vendor)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["applied"] * 5 + ["rejected", "applied"], results
    assert results[0]["data"]["held"] == 1 and results[1]["data"]["held"] == 3
    assert results[2]["data"]["item"]["held"] == 2 and results[3]["data"]["item"]["quantity"] == 13
    assert "at least 1" in results[5]["reason"] and results[5]["data"]["id"] == honey["id"]
    item = await _item(client, honey["id"])
    assert (item["state"], item["quantity"], item["held"]) == ("available", 13, 0)
    assert await Sale.count().where(Sale.undone_at.is_null() & (Sale.item == honey["id"])) == 0


async def test_reservations_from_before_holds_become_one_unit_holds(client: httpx.AsyncClient, world: World) -> None:
    """The data migration that turns old whole-listing reservations into holds of one unit: a
    listing of 13 keeps 12 available, a listing of 1 stays reserved, nothing else is touched."""
    import importlib

    from server import piccolo_conf
    from server.tables import Item

    migration = importlib.import_module("server.migrations.souk_2026_12_02t18_10_01_000000")
    honey = await _honey(client, world, quantity=13)
    last_jar = await _honey(client, world, quantity=1)
    untouched = await _honey(client, world, quantity=4)
    until = datetime.now(UTC) + timedelta(minutes=20)
    visitor = uuid.uuid4()
    for item in (honey, last_jar):  # as the old code left a reservation
        await Item.update(
            {Item.state: "reserved", Item.reserved_until: until, Item.reserved_for: visitor, Item.held: 0}
        ).where(Item.id == uuid.UUID(item["id"]))

    token = piccolo_conf.ENGINE.set(Item._meta.db)  # as server.migrate runs migrations
    try:
        manager = await migration.forwards()
        await manager.run()
    finally:
        piccolo_conf.ENGINE.reset(token)

    holds = {str(r["item"]): r for r in await ItemHold.select()}
    assert set(holds) == {honey["id"], last_jar["id"]}
    for hold in holds.values():
        assert hold["quantity"] == 1 and hold["device"] == visitor
        assert abs((hold["until"] - until).total_seconds()) < 1
    rows = {str(r["id"]): r for r in await Item.select(Item.id, Item.state, Item.held, Item.reserved_for)}
    assert (rows[honey["id"]]["state"], rows[honey["id"]]["held"]) == ("available", 1)
    assert (rows[last_jar["id"]]["state"], rows[last_jar["id"]]["held"]) == ("reserved", 1)
    assert (rows[untouched["id"]]["state"], rows[untouched["id"]]["held"]) == ("available", 0)
    assert all(r["reserved_for"] is None for r in (rows[honey["id"]], rows[last_jar["id"]]))
