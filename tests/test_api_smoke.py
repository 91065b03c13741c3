from __future__ import annotations

import httpx

from tests.conftest import World


async def test_item_lifecycle(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    r = await client.post(
        f"/api/stalls/{code}/items",
        json={"title": "Wildflower honey #Organic", "price": 650, "quantity": 3, "hashtags": ["#SocialCause"]},
        headers=world.vendor,
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["price"] == 650 and item["currency"] == "GBP"
    assert "#Organic" in item["hashtags"] and "#Shop1" in item["hashtags"] and "#RipeMarketJan" in item["hashtags"]
    r = await client.post(f"/api/items/{item['id']}/sell", json={"quantity": 2}, headers=world.vendor)
    assert r.status_code == 201, r.text
    assert r.json()["item"]["quantity"] == 1
    r = await client.post(f"/api/items/{item['id']}/sell", json={"quantity": 2}, headers=world.vendor)
    assert r.status_code == 409
    r = await client.get("/api/events/ripe-jan/items", params={"tag": "organic"})
    assert [i["id"] for i in r.json()] == [item["id"]]
