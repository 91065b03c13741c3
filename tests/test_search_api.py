"""Search through the HTTP API, fed by the change-log indexer (not by request handlers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from search.embedded import EmbeddedEngine
from search.engine import EngineError
from server.search_source import Indexer, item_documents, reindex
from server.tables import Item, LogCursor
from sync.reader import HandlerFailed
from tests.conftest import World

TITLES = [
    ("Vintage leather jacket", "Soft 70s #Vintage leather", 6500),
    ("Wildflower honey", "Raw honey from the hills #Organic", 650),
    ("Sourdough loaf", "Baked this morning", 450),
    ("Leather belt", "Hand-stitched", 2500),
    ("Ceramic mug", "Glazed blue #Handmade", 1200),
]


async def _seed(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    ids = {}
    for title, description, price in TITLES:
        r = await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": title, "description": description, "price": price, "quantity": 2},
            headers=world.vendor,
        )
        ids[title] = r.json()["id"]
    return ids


async def _search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/events/ripe-jan/search", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_typos_prefixes_tags_and_filters(client: httpx.AsyncClient, app: Litestar, world: World) -> None:
    ids = await _seed(client, world)
    await app.state.indexer.catch_up()
    top = await _search(client, q="vintaje lether")
    assert top["hits"][0]["id"] == ids["Vintage leather jacket"]
    assert "<mark>" in top["hits"][0]["title_html"]
    assert {h["id"] for h in (await _search(client, q="honney"))["hits"]} == {ids["Wildflower honey"]}
    assert (await _search(client, q="sourd"))["hits"][0]["id"] == ids["Sourdough loaf"]
    assert {h["id"] for h in (await _search(client, q="#handmade"))["hits"]} == {ids["Ceramic mug"]}
    cheap = await _search(client, q="leather", price_max=3000)
    assert [h["id"] for h in cheap["hits"]] == [ids["Leather belt"]]
    by_price = await _search(client, sort="price_asc")
    assert [h["price"] for h in by_price["hits"]] == sorted(p for _, _, p in TITLES)
    assert by_price["total"] == 5 and by_price["facets"]["state"]["available"] == 5
    # A sale turns the mug sold: gone from the default (available) results, found on request.
    await client.post(f"/api/items/{ids['Ceramic mug']}/sell", json={"quantity": 2}, headers=world.vendor)
    await client.delete(f"/api/items/{ids['Leather belt']}", headers=world.vendor)
    await app.state.indexer.catch_up()
    assert (await _search(client, q="mug"))["total"] == 0
    assert (await _search(client, q="mug", state="sold"))["hits"][0]["state"] == "sold"
    assert (await _search(client, q="belt", state=["available", "reserved", "sold"]))["total"] == 0
    stall = await _search(client, stall=world.other_stall["code"])
    assert stall["total"] == 0


async def test_bad_filters_are_422_naming_them(client: httpx.AsyncClient, world: World) -> None:
    cases: list[tuple[dict[str, str | int], str]] = [
        ({"sort": "cheapest"}, "sort"),
        ({"state": "lost"}, "state"),
        ({"price_min": "cheap"}, "price_min"),
        ({"price_min": 500, "price_max": 100}, "price_min"),
        ({"limit": 0}, "limit"),
        ({"stall": "nosuchstall"}, "stall"),
    ]
    for params, field in cases:
        r = await client.get("/api/events/ripe-jan/search", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["field"] == field, (params, r.json())
    assert (await client.get("/api/events/nope/search", params={"q": "x"})).status_code == 404


ODD = st.lists(
    st.sampled_from([*"\"*-:()~^\\#@!?'", "NEAR", "AND", "OR", "NOT", "🍯", "\x00", " ", "vintage", "#tag"]),
    max_size=40,
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(st.text(max_size=300), ODD, st.text(min_size=5000, max_size=10_240)))
async def test_any_query_text_is_searched_as_words(client: httpx.AsyncClient, world: World, q: str) -> None:
    r = await client.get("/api/events/ripe-jan/search", params={"q": q})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["hits"], list)


async def test_indexer_killed_midway_catches_up(
    client: httpx.AsyncClient, app: Litestar, world: World, tmp_path: Path
) -> None:
    """A fresh engine and an indexer that dies after its first batch; a new indexer resumes
    from the saved cursor and ends with exactly the live items indexed."""
    app.state.indexer.stop()
    for n in range(30):
        await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": f"Candle {n}", "price": 300},
            headers=world.vendor,
        )
    first = (await client.get("/api/events/ripe-jan/items", params={"limit": 1})).json()[0]
    await client.delete(f"/api/items/{first['id']}", headers=world.vendor)
    engine = EmbeddedEngine(tmp_path / "index")

    class DiesAfterOneBatch(Indexer):
        batches = 0

        async def apply(self, item_ids: Any) -> None:
            if self.batches == 1:
                raise EngineError("power cut")
            self.batches += 1
            await super().apply(item_ids)

    dying = DiesAfterOneBatch(engine, app.state.indexer.db, batch=10)
    try:
        await dying.catch_up()
        raise AssertionError("the indexer should have died")
    except HandlerFailed:
        pass
    cursor = await LogCursor.select(LogCursor.seq).where(LogCursor.name == "search").first()
    assert cursor is not None and cursor["seq"] > 0
    await Indexer(engine, app.state.indexer.db, batch=10).catch_up()
    live = {str(r["id"]) for r in await Item.select(Item.id).where(Item.deleted_at.is_null())}
    from search.documents import SearchRequest

    found = await engine.search(
        SearchRequest(event_id=world.event["id"], q="candle", limit=100, states=("available", "reserved", "sold"))
    )
    assert {h.document.id for h in found.hits} == live
    assert found.total == 29
    # `souk reindex` rebuilds the same from the tables.
    assert await reindex(engine) == 29
    again = await engine.search(SearchRequest(event_id=world.event["id"], q="candle", limit=100))
    assert {h.document.id for h in again.hits} == live
    documents, gone = await item_documents([first["id"]])
    assert documents == [] and gone == [first["id"]]
    await engine.close()
