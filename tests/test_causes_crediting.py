"""Issue 14, finding 4: charity money must not go missing.

An item credited a cause only when its vendor typed that cause's exact hashtag; one tagged just
#SocialCause sold for no cause, and nothing added the causes up. Now: a charity stall's default
cause counts for every item naming none, a cause created after items carry its tag picks them up,
the totals carry an event-wide charity figure (with what #SocialCause items sold uncredited), and
the organizer lists those items and assigns them a cause, their earlier sales included.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server.tables import ChangeLog
from tests.conftest import World

EVENT = "/api/events/ripe-jan"


async def _cause(client: httpx.AsyncClient, world: World, name: str, tag: str, goal: int | None = None) -> Any:
    r = await client.post(f"{EVENT}/causes", json={"name": name, "tag": tag, "goal": goal}, headers=world.organizer)
    assert r.status_code == 201, r.text
    return r.json()


async def _item(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, title: str, price: int, **extra: Any
) -> Any:
    r = await client.post(f"/api/stalls/{code}/items", json={"title": title, "price": price, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _sell(client: httpx.AsyncClient, headers: dict[str, str], item: str, quantity: int = 1) -> None:
    r = await client.post(f"/api/items/{item}/sell", json={"quantity": quantity}, headers=headers)
    assert r.status_code in (200, 201), r.text


async def _totals(client: httpx.AsyncClient, world: World) -> Any:
    r = await client.get(f"{EVENT}/totals", headers=world.organizer)
    assert r.status_code == 200, r.text
    return r.json()


async def test_social_cause_alone_is_listed_and_the_organizer_credits_it(
    client: httpx.AsyncClient, world: World
) -> None:
    await _cause(client, world, "River Rescue", "#RiverRescue", 10_000)
    await _cause(client, world, "Food Bank", "#FoodBank")
    vague = await _item(client, world.vendor, world.stall["code"], "Scarf #SocialCause", 1200, quantity=5)
    named = await _item(client, world.vendor, world.stall["code"], "Jam #FoodBank", 400, quantity=5)
    plain = await _item(client, world.other_vendor, world.other_stall["code"], "Mug", 900, quantity=5)
    assert vague["causes"] == [] and named["causes"] == ["foodbank"]
    await _sell(client, world.vendor, vague["id"], 2)  # 2400 meant for charity, credited to none
    await _sell(client, world.vendor, named["id"])  # 400 for the food bank
    await _sell(client, world.other_vendor, plain["id"])  # 900, no charity

    totals = await _totals(client, world)
    assert totals["charity"] == {"amount": 400, "sales": 1, "uncredited_amount": 2400, "uncredited_sales": 1}
    public = (await client.get(f"{EVENT}/cause-totals")).json()
    assert public["charity"]["amount"] == 400  # the kiosk and the app get the combined figure too

    listed = await client.get(f"{EVENT}/uncredited-items", headers=world.organizer)
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert [(r["item"]["id"], r["sold_amount"], r["sold_count"], r["stall_name"]) for r in rows] == [
        (vague["id"], 2400, 1, "Stall 1")
    ]

    r = await client.post(f"/api/items/{vague['id']}/cause", json={"cause": "#riverrescue"}, headers=world.organizer)
    assert r.status_code == 200, r.text
    assert r.json()["causes"] == ["riverrescue"] and "#RiverRescue" in r.json()["hashtags"]
    totals = await _totals(client, world)
    river = next(c for c in totals["causes"] if c["tag"] == "#RiverRescue")
    assert (river["amount"], river["sales"]) == (2400, 1), "the earlier sale now counts for the cause"
    assert totals["charity"] == {"amount": 2800, "sales": 2, "uncredited_amount": 0, "uncredited_sales": 0}
    assert (await client.get(f"{EVENT}/uncredited-items", headers=world.organizer)).json() == []

    # The vendor's next edit keeps the cause (it is one of the item's own tags now), and a later sale counts.
    r = await client.patch(f"/api/items/{vague['id']}", json={"title": "Wool scarf"}, headers=world.vendor)
    assert r.status_code == 200 and r.json()["causes"] == ["riverrescue"], r.text
    await _sell(client, world.vendor, vague["id"])
    river = next(c for c in (await _totals(client, world))["causes"] if c["tag"] == "#RiverRescue")
    assert river["amount"] == 3600


async def test_assigning_a_cause_refuses_bad_input(client: httpx.AsyncClient, world: World) -> None:
    await _cause(client, world, "River Rescue", "#RiverRescue")
    named = await _item(client, world.vendor, world.stall["code"], "Jam #RiverRescue", 400)
    vague = await _item(client, world.vendor, world.stall["code"], "Tea #SocialCause", 300)
    path = f"/api/items/{vague['id']}/cause"
    for body in ({"cause": "#NoSuchCause"}, {"cause": "not a tag!"}, {"cause": 12}, {}):
        r = await client.post(path, json=body, headers=world.organizer)
        assert r.status_code in (400, 422), r.text
        assert r.json()["error"] and "cause" in r.json().get("field", "") + r.json()["error"], r.text
    r = await client.post(f"/api/items/{named['id']}/cause", json={"cause": "#RiverRescue"}, headers=world.organizer)
    assert r.status_code == 409 and "already counts" in r.json()["error"]
    before = await ChangeLog.count()
    for headers, status in (({}, 401), (world.visitor, 403), (world.vendor, 403), (world.other_organizer, 403)):
        assert (await client.post(path, json={"cause": "#RiverRescue"}, headers=headers)).status_code == status
        assert (await client.get(f"{EVENT}/uncredited-items", headers=headers)).status_code == status
    assert await ChangeLog.count() == before


async def test_a_charity_stall_default_cause_credits_every_item(client: httpx.AsyncClient, world: World) -> None:
    await _cause(client, world, "River Rescue", "#RiverRescue")
    await _cause(client, world, "Food Bank", "#FoodBank")
    before = await _item(client, world.vendor, world.stall["code"], "Tote", 1500, quantity=3)
    assert before["causes"] == []

    r = await client.patch(
        f"/api/stalls/{world.stall['code']}", json={"default_cause": "#RiverRescue"}, headers=world.vendor
    )
    assert r.status_code == 200, r.text
    assert r.json()["default_cause"] == "riverrescue"
    # Items already listed count for it from now on; new ones too; one naming its own cause keeps it.
    tote = (await client.get(f"/api/items/{before['id']}")).json()
    assert tote["causes"] == ["riverrescue"] and {"#RiverRescue", "#SocialCause"} <= set(tote["hashtags"])
    new = await _item(client, world.vendor, world.stall["code"], "Cap #SocialCause", 800)
    own = await _item(client, world.vendor, world.stall["code"], "Jam #FoodBank", 400)
    assert new["causes"] == ["riverrescue"] and own["causes"] == ["foodbank"]
    await _sell(client, world.vendor, tote["id"])
    await _sell(client, world.vendor, new["id"])
    totals = await _totals(client, world)
    assert {c["tag"]: c["amount"] for c in totals["causes"]} == {"#RiverRescue": 2300, "#FoodBank": 0}
    assert totals["charity"]["uncredited_amount"] == 0

    # Another vendor's stall is untouched; a cause that is not the event's is refused with its field.
    other = await _item(client, world.other_vendor, world.other_stall["code"], "Plant", 500)
    assert other["causes"] == []
    r = await client.patch(
        f"/api/stalls/{world.stall['code']}", json={"default_cause": "#Elsewhere"}, headers=world.vendor
    )
    assert r.status_code in (400, 422) and r.json()["field"] == "default_cause", r.text
    r = await client.patch(f"/api/stalls/{world.stall['code']}", json={"default_cause": 5}, headers=world.vendor)
    assert r.status_code in (400, 422) and r.json()["field"] == "default_cause", r.text

    # Clearing it: unsold items name no cause any more; the sold sale stays credited.
    r = await client.patch(f"/api/stalls/{world.stall['code']}", json={"default_cause": ""}, headers=world.vendor)
    assert r.status_code == 200 and r.json()["default_cause"] == ""
    assert (await client.get(f"/api/items/{tote['id']}")).json()["causes"] == []
    river = next(c for c in (await _totals(client, world))["causes"] if c["tag"] == "#RiverRescue")
    assert river["amount"] == 2300


async def test_the_default_cause_travels_through_an_offline_push(client: httpx.AsyncClient, world: World) -> None:
    await _cause(client, world, "River Rescue", "#RiverRescue")
    body = {
        "client_id": str(uuid.uuid4()),
        "mutations": [
            {"id": 1, "name": "update_stall", "args": {"code": world.stall["code"], "default_cause": "#RiverRescue"}}
        ],
    }
    r = await client.post("/api/sync/push", json=body, headers=world.vendor)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "applied", r.text
    stall = (await client.get(f"/api/stalls/{world.stall['code']}")).json()
    assert stall["default_cause"] == "riverrescue"


async def test_a_cause_created_later_credits_items_already_tagged(client: httpx.AsyncClient, world: World) -> None:
    early = await _item(client, world.vendor, world.stall["code"], "Honey #RiverRescue", 650, quantity=4)
    assert early["causes"] == []
    await _cause(client, world, "River Rescue", "#RiverRescue")
    item = (await client.get(f"/api/items/{early['id']}")).json()
    assert item["causes"] == ["riverrescue"] and "#SocialCause" in item["hashtags"]
    await _sell(client, world.vendor, early["id"])
    assert (await _totals(client, world))["charity"]["amount"] == 650
