"""Bad input gets a clear 4xx naming the field, and writes nothing."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from server.tables import ChangeLog, Item, Photo
from tests.conftest import EVENT_BODY, World


async def _create(client: httpx.AsyncClient, world: World, body: dict[str, Any]) -> Any:
    return await client.post(f"/api/stalls/{world.stall['code']}/items", json=body, headers=world.vendor)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Jam", "price": "4.50"}, "price"),
        ({"title": "Jam", "price": 4.5}, "price"),
        ({"title": "Jam", "price": -1}, "price"),
        ({"title": "Jam", "price": 0}, "price"),
        ({"title": "Jam", "price": 10**15}, "price"),
        ({"title": "Jam", "price": 300, "quantity": -1}, "quantity"),
        ({"title": "x" * 121, "price": 300}, "title"),
        ({"title": "   ", "price": 300}, "title"),
        ({"title": "Jam\x00", "price": 300}, "title"),
        ({"price": 300}, "title"),
        ({"title": "Jam", "price": 300, "hashtags": ["not a tag!"]}, "hashtags"),
        ({"title": "Jam", "price": 300, "photo_keys": ["0" * 64]}, "photo_keys"),
        ({"title": "Jam", "price": 300, "description": "d" * 2001}, "description"),
    ],
)
async def test_bad_item_is_422_naming_the_field(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    before = (await Item.count(), await ChangeLog.count())
    r = await _create(client, world, body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert field in r.json()["error"]
    assert (await Item.count(), await ChangeLog.count()) == before


async def test_unknown_stall_and_item_are_404(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/api/stalls/nosuchcode")
    assert r.status_code == 404 and "nosuchcode" in r.json()["error"]
    r = await client.get("/api/items/6a1b2c3d-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert (await client.get("/s/nosuchcode")).status_code == 404
    assert (await client.get("/api/events/nope")).status_code == 404


async def test_selling_more_than_left_is_refused(client: httpx.AsyncClient, world: World) -> None:
    item = (await _create(client, world, {"title": "Candle", "price": 800, "quantity": 2})).json()
    r = await client.post(f"/api/items/{item['id']}/sell", json={"quantity": 3}, headers=world.vendor)
    assert r.status_code == 409 and r.json()["field"] == "quantity"
    r = await client.post(f"/api/items/{item['id']}/sell", json={"quantity": 0}, headers=world.vendor)
    assert r.status_code == 422
    r = await client.post(f"/api/items/{item['id']}/sell", json={"quantity": 2, "amount": 1500}, headers=world.vendor)
    assert r.status_code == 201
    body = r.json()
    assert body["item"]["state"] == "sold" and body["item"]["quantity"] == 0 and body["sale"]["amount"] == 1500
    # sold is final
    r = await client.patch(f"/api/items/{item['id']}", json={"price": 100}, headers=world.vendor)
    assert r.status_code == 409 and r.json()["field"] == "state"
    r = await client.post(f"/api/items/{item['id']}/reserve", json={}, headers=world.vendor)
    assert r.status_code == 409


async def test_oversized_and_non_image_uploads_are_422(client: httpx.AsyncClient, world: World) -> None:
    for name, data in (("notes.jpg", b"hello, I am text"), ("big.jpg", b"\xff\xd8\xff" + b"0" * 10_000_001)):
        r = await client.post("/api/photos", files={"file": (name, data, "image/jpeg")}, headers=world.vendor)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "file"
    assert await Photo.count() == 0


async def test_bad_event_input(client: httpx.AsyncClient, world: World) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "x2", "currency": "pounds"}, "currency"),
        ({"slug": "x3", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"slug": "x4", "ends_at": "2027-01-09T08:00:00Z"}, "ends_at"),
        ({"slug": "x5", "hashtag": "no spaces allowed"}, "hashtag"),
        ({"slug": "x6", "starts_at": "tomorrow"}, "starts_at"),
        ({"slug": "x7", "starts_at": 0}, "starts_at"),  # a bare number would be 1970-01-01
        ({"slug": "x8", "ends_at": "2100-01-01T00:00:00Z"}, "ends_at"),
    ]
    for change, field in cases:
        r = await client.post("/api/events", json={**EVENT_BODY, **change}, headers=world.organizer)
        assert r.status_code == 422, (change, r.text)
        assert r.json()["field"] == field, (change, r.json())
    r = await client.post("/api/events", json=EVENT_BODY, headers=world.organizer)
    assert r.status_code == 409 and r.json()["field"] == "slug"
    r = await client.patch("/api/events/ripe-jan", json={"starts_at": 0}, headers=world.organizer)
    assert r.status_code == 422 and r.json()["field"] == "starts_at", r.text
    r = await client.get("/api/events/ripe-jan")
    assert r.json()["starts_at"].startswith("2027-01-09T09:00:00"), r.json()  # unchanged


async def test_invite_codes_are_single_use(client: httpx.AsyncClient, world: World) -> None:
    code = (await client.post("/api/events/ripe-jan/invites", json={"count": 1}, headers=world.organizer)).json()
    stall = {"name": "Plants", "store_tag": "#GreenThumb"}
    body = {
        "invite_code": code["codes"][0],
        "email": "p@example.org",
        "password": "12345678",
        "display_name": "P",
        "stall": stall,
    }
    assert (await client.post("/api/vendors/join", json=body)).status_code == 201
    again = {**body, "email": "q@example.org"}
    assert (await client.post("/api/vendors/join", json=again)).status_code == 409
    unknown = {**body, "invite_code": "ZZZZ-ZZZZ", "email": "r@example.org"}
    assert (await client.post("/api/vendors/join", json=unknown)).status_code == 404
    code2 = (await client.post("/api/events/ripe-jan/invites", json={"count": 1}, headers=world.organizer)).json()
    taken_tag = {**body, "invite_code": code2["codes"][0], "email": "s@example.org"}
    r = await client.post("/api/vendors/join", json=taken_tag)
    assert r.status_code == 409 and r.json()["field"] == "store_tag"
    short_pw = {
        **body,
        "invite_code": code2["codes"][0],
        "email": "t@example.org",
        "password": "short",
        "stall": {"name": "T", "store_tag": "#Tee"},
    }
    r = await client.post("/api/vendors/join", json=short_pw)
    assert r.status_code == 422 and r.json()["field"] == "password"


async def test_wrong_password_is_401(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post("/api/auth/login", json={"email": "org@example.org", "password": "wrong"})
    assert r.status_code == 401
    r = await client.post("/api/auth/login", json={"email": "nobody@example.org", "password": "wrong"})
    assert r.status_code == 401


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG")
    return buffer.getvalue()


HUGE = 2**70  # past every integer column: SQLite's and PostgreSQL's BIGINT alike


async def test_huge_numbers_are_422_not_a_server_error(client: httpx.AsyncClient, world: World) -> None:
    """Numbers past what the database can hold are refused with 422 before any query runs."""
    conversation = (
        await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    ).json()
    messages = f"/api/conversations/{conversation['id']}/messages"
    checks = [
        (await client.get(f"{messages}?after_seq={HUGE}", headers=world.visitor), "after_seq"),
        (await client.get(f"{messages}?after_seq={2**31}", headers=world.visitor), "after_seq"),
        (
            await client.post(
                f"/api/conversations/{conversation['id']}/read", json={"up_to_seq": HUGE}, headers=world.vendor
            ),
            "up_to_seq",
        ),
        (await client.get(f"/api/events/ripe-jan/items?offset={HUGE}"), "offset"),
    ]
    answers = [(field, response.status_code, response.json()["field"]) for response, field in checks]
    assert answers == [(field, 422, field) for _, field in checks]
