"""Hashtags: parsing rules, canonical keys, and finding items by tag through the API."""

from __future__ import annotations

import httpx

from server.domain.hashtags import find_tags, normalise_tag, tag_key
from tests.conftest import World


def test_parsing_keeps_first_spelling_and_skips_numbers() -> None:
    text = "Honey #Organic from stall #12, see #organic and #CaféLumière! a#b ##x #عسل"
    assert find_tags(text) == ["#Organic", "#CaféLumière", "#عسل"]


def test_canonical_key_is_case_and_width_insensitive() -> None:
    assert tag_key("#CaféLumière") == tag_key("#cafélumière") == tag_key("＃CAFÉLUMIÈRE".replace("＃", "#"))
    assert normalise_tag("socialcause") == "#socialcause"
    assert normalise_tag("#Live Event") is None and normalise_tag("#") is None and normalise_tag("#123") is None


async def test_items_found_by_tag_with_implied_tags(client: httpx.AsyncClient, world: World) -> None:
    org, vendor, code = world.organizer, world.vendor, world.stall["code"]
    r = await client.post(
        "/api/events/ripe-jan/causes", json={"name": "River Rescue", "tag": "#RiverRescue", "goal": 50000}, headers=org
    )
    assert r.status_code == 201, r.text
    cause_item = (
        await client.post(
            f"/api/stalls/{code}/items", json={"title": "Tote bag #RiverRescue", "price": 1500}, headers=vendor
        )
    ).json()
    plain = (
        await client.post(
            f"/api/stalls/{code}/items",
            json={"title": "Beeswax candle", "description": "Hand-poured #Handmade", "price": 900},
            headers=vendor,
        )
    ).json()
    assert cause_item["causes"] == ["riverrescue"]
    assert {"#RiverRescue", "#SocialCause", "#Shop1", "#RipeMarketJan"} <= set(cause_item["hashtags"])
    assert "#SocialCause" not in plain["hashtags"]

    async def ids(tag: str) -> set[str]:
        r = await client.get("/api/events/ripe-jan/items", params={"tag": tag})
        assert r.status_code == 200
        return {i["id"] for i in r.json()}

    assert await ids("#SocialCause") == {cause_item["id"]}
    assert await ids("socialcause") == {cause_item["id"]}
    assert await ids("HANDMADE") == {plain["id"]}
    assert await ids("#RipeMarketJan") == {cause_item["id"], plain["id"]}
    tags = (await client.get("/api/events/ripe-jan/hashtags")).json()
    counts = {t["key"]: t["items"] for t in tags}
    assert counts["ripemarketjan"] == 2 and counts["socialcause"] == 1 and counts["handmade"] == 1
    # Editing the title drops its inline tag; deleting hides the item from tag lookups.
    r = await client.patch(f"/api/items/{plain['id']}", json={"description": "Hand-poured"}, headers=vendor)
    assert r.status_code == 200 and "#Handmade" not in r.json()["hashtags"]
    assert (await client.delete(f"/api/items/{cause_item['id']}", headers=vendor)).status_code == 204
    assert await ids("#SocialCause") == set()


async def test_editing_explicit_tags(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    item = (
        await client.post(
            f"/api/stalls/{code}/items",
            json={"title": "Scarf", "price": 2000, "hashtags": ["#Wool"]},
            headers=world.vendor,
        )
    ).json()
    assert "#Wool" in item["hashtags"]
    r = await client.patch(f"/api/items/{item['id']}", json={"hashtags": ["#Silk", "silk"]}, headers=world.vendor)
    assert r.status_code == 200, r.text
    assert "#Silk" in r.json()["hashtags"] and "#Wool" not in r.json()["hashtags"]
    r = await client.patch(f"/api/items/{item['id']}", json={"price": 2100}, headers=world.vendor)
    assert "#Silk" in r.json()["hashtags"] and r.json()["version"] == 3
