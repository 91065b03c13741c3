"""Search through the HTTP API, fed by the change-log indexer (not by request handlers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import tantivy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from search.documents import SearchRequest
from search.embedded import VERSION_FILE, EmbeddedEngine
from search.embedded_schema import SCHEMA_VERSION
from search.engine import EngineError
from search.machine import MachineIndex
from server.search_source import Indexer, item_documents, reindex
from server.tables import Item, LogCursor
from sync.reader import HandlerFailed
from tests.conftest import EVENT_BODY, World

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
    by_price = await _search(client, sort="price_asc", facets="true")
    assert [h["price"] for h in by_price["hits"]] == sorted(p for _, _, p in TITLES)
    assert by_price["total"] == 5 and by_price["facets"]["state"]["available"] == 5
    assert (await _search(client, sort="price_asc"))["facets"] == {}  # only computed when asked for
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


async def test_a_short_word_with_a_typo_gets_the_relaxed_second_pass(
    client: httpx.AsyncClient, app: Litestar, world: World
) -> None:
    ids = await _seed(client, world)
    await app.state.indexer.catch_up()
    loose = await _search(client, q="hony")
    assert [h["id"] for h in loose["hits"]] == [ids["Wildflower honey"]]
    assert loose["total"] == 1 and loose["relaxed"] is True
    assert loose["corrections"] == {"hony": "honey"} and loose["showing_for"] == "honey"
    strict = await _search(client, q="honey")
    assert strict["relaxed"] is False and strict["corrections"] == {} and strict["showing_for"] == ""
    off = await _search(client, q="hony", relax="false")
    assert off["total"] == 0 and off["relaxed"] is False
    bad = await client.get("/api/events/ripe-jan/search", params={"q": "hony", "relax": "maybe"})
    assert 400 <= bad.status_code < 500 and "relax" in bad.text


async def test_totals_are_true_and_pages_reach_every_match(
    client: httpx.AsyncClient, app: Litestar, world: World
) -> None:
    for n in range(7):
        r = await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": f"River mug {n}", "hashtags": ["#RiverRescue"], "price": 100 + n, "quantity": 1},
            headers=world.vendor,
        )
        assert r.status_code == 201, r.text
    await app.state.indexer.catch_up()
    seen: list[str] = []
    for offset in range(0, 7, 3):
        page = await _search(client, tag="RiverRescue", limit=3, offset=offset)
        assert page["total"] == 7 and page["offset"] == offset
        seen += [h["id"] for h in page["hits"]]
    assert len(seen) == 7 == len(set(seen))


async def test_an_event_is_searchable_by_slug_or_id_and_an_unknown_one_is_404_until_it_exists(
    client: httpx.AsyncClient, world: World
) -> None:
    """The route remembers event ids by slug (a slug never changes): found events only, so
    a slug asked for before its event exists answers 404, then works once it is created."""
    later = {**EVENT_BODY, "name": "Ripe Market — February", "slug": "ripe-feb", "hashtag": "#RipeMarketFeb"}
    for _ in range(2):
        assert (await client.get("/api/events/ripe-feb/search", params={"q": "honey"})).status_code == 404
    created = await client.post("/api/events", json=later, headers=world.organizer)
    assert created.status_code == 201, created.text
    for name in ("ripe-feb", created.json()["id"], "ripe-feb"):
        answer = await client.get(f"/api/events/{name}/search", params={"q": "honey"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["total"] == 0
    assert (await _search(client, q="honey"))["total"] == 0  # the other event still resolves to itself


@pytest.mark.parametrize("version_said", ["1", SCHEMA_VERSION])
async def test_an_index_of_the_previous_schema_is_rebuilt_from_the_tables_on_start(
    client: httpx.AsyncClient, app: Litestar, world: World, tmp_path: Path, version_said: str
) -> None:
    """An installation upgraded from schema 1 (no word pairs) has a tantivy index whose layout
    the engine cannot read: on start the writer wipes it and its indexer rebuilds it from the
    tables, after which a word being typed after another ("leather j") ranks as it should. So
    is a folder whose version file names this schema but whose layout is another (a build made
    between two versions): the index is derived data, never a reason not to start."""
    await _seed(client, world)
    folder = tmp_path / "search"
    builder = tantivy.SchemaBuilder()  # a stand-in for schema 1: any layout but the current one
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="whitespace", index_option="position")
    folder.mkdir()
    old = tantivy.Index(builder.build(), path=str(folder))
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    writer.add_document(tantivy.Document(id="gone", title="stale leather"))
    writer.commit()
    writer.wait_merging_threads()
    (folder / VERSION_FILE).write_text(version_said)

    index = MachineIndex(folder, lambda engine, cursor: Indexer(engine, app.state.indexer.db, name=cursor))
    try:
        await index.start()
        assert index.engine.recreated and index.indexer is not None
        await index.indexer.prepare()  # what `run()` does first: the rebuild from the tables
        found = await index.engine.search(SearchRequest(event_id=world.event["id"], q="leather j"))
        assert [hit.document.title for hit in found.hits] == ["Vintage leather jacket", "Leather belt"]
        assert found.total == 2
        assert (folder / VERSION_FILE).read_text() == SCHEMA_VERSION
    finally:
        await index.close()
