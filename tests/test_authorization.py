"""Authorization, route by route: every mutating route refuses the anonymous caller (401),
the visitor device (403), and the other vendor or other organizer (403), and writes nothing.

The table below must name every mutating route of the app; a new route without a row here
fails `test_every_mutating_route_is_covered`.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from litestar import Litestar
from PIL import Image

from server.tables import ChangeLog
from tests.conftest import World

# (method, route template, owner role, body)
VENDOR_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PATCH", "/api/stalls/{code}", {"name": "Renamed"}),
    ("POST", "/api/stalls/{code}/items", {"title": "Jam", "price": 300}),
    ("PATCH", "/api/items/{item}", {"title": "New title"}),
    ("POST", "/api/items/{item}/reserve", {"minutes": 10}),
    ("POST", "/api/items/{item}/release", {}),
    ("POST", "/api/items/{item}/sell", {"quantity": 1}),
    ("POST", "/api/items/{item}/sales/{sale}/undo", None),
    ("DELETE", "/api/items/{item}", None),
]
ORGANIZER_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PATCH", "/api/events/{event}", {"name": "Renamed"}),
    ("POST", "/api/events/{event}/invites", {"count": 1}),
    ("POST", "/api/events/{event}/causes", {"name": "Food Bank", "tag": "#FoodBank"}),
    ("POST", "/api/events/{event}/blocked-devices", {"device_id": "6a1b2c3d-0000-4000-8000-000000000000"}),
    ("POST", "/api/events/{event}/kiosk-tokens", {"label": "Gate"}),
    ("DELETE", "/api/events/{event}/kiosk-tokens/{token}", None),
    ("POST", "/api/items/{item}/hidden", {"hidden": True}),
    ("POST", "/api/stalls/{code}/hidden", {"hidden": True}),
    ("PATCH", "/api/stalls/{code}/place", {"number": "B7"}),
    ("PATCH", "/api/events/{event}/causes/{cause}", {"name": "Renamed cause"}),
    ("DELETE", "/api/events/{event}/invites/{invite}", None),
    ("POST", "/api/items/{item}/cause", {"cause": "#FoodBank"}),
]
# Only the conversation's visitor and the stall's vendor; everyone else gets 404 (no probing).
CHAT_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/conversations/{conversation}/messages", {"message_id": "{uuid}", "body": "hi"}),
    ("POST", "/api/conversations/{conversation}/read", {"up_to_seq": 1}),
    ("POST", "/api/conversations/{conversation}/reserve", {"item_id": "{item}"}),
    ("POST", "/api/conversations/{conversation}/release", {"item_id": "{item}"}),
    ("POST", "/api/conversations/{conversation}/block", {"blocked": True}),
]
# Open by design: signing in, getting a visitor token, joining with an invite code.
PUBLIC_ROUTES = {
    ("POST", "/api/auth/login"),
    ("POST", "/api/devices"),
    ("POST", "/api/vendors/join"),
    ("POST", "/api/devices/resume"),  # spends a single-use code
}
# Any signed-in caller, acting on themselves only; each pushed mutation is authorized by its
# domain function (tests/test_sync_api.py checks another vendor's item is rejected).
SELF_ROUTES = {
    ("POST", "/api/auth/logout"),
    ("POST", "/api/photos"),
    ("POST", "/api/sync/pull"),
    ("POST", "/api/sync/push"),
    ("POST", "/api/devices/resume-code"),  # a visitor's own identity
    ("PUT", "/api/devices/me/name"),  # a visitor's own first name (tests/test_visitor_names.py)
    ("POST", "/api/quick-replies"),  # a vendor's own list (tests/test_chat.py)
    ("DELETE", "/api/quick-replies/{reply}"),
    ("POST", "/api/conversations"),  # a visitor opens their own (vendors get 403: tests/test_chat.py)
    ("POST", "/api/push/subscriptions"),  # the caller's own browser
    ("POST", "/api/push/unsubscribe"),  # only the caller's own rows (tests/test_push_notify.py)
    ("POST", "/api/messages/{message}/report"),  # participants only, others 404 (tests/test_organizer.py)
}
# Creating an event needs the organizer role, but no event exists yet to own.
ROLE_ROUTES = {("POST", "/api/events")}


def _template(path: str) -> str:
    return (
        path.replace("{code:str}", "{code}")
        .replace("{item_id:uuid}", "{item}")
        .replace("{sale_id:uuid}", "{sale}")
        .replace("{event:str}", "{event}")
        .replace("{conversation_id:uuid}", "{conversation}")
        .replace("{reply_id:uuid}", "{reply}")
        .replace("{message_id:uuid}", "{message}")
        .replace("{token_id:str}", "{token}")
        .replace("{cause_id:uuid}", "{cause}")
        .replace("{invite_code:str}", "{invite}")
        .rstrip("/")
        or "/"
    )


def test_every_mutating_route_is_covered(app: Litestar) -> None:
    mutating = {
        (method, _template(route.path))
        for route in app.routes
        for method in getattr(route, "methods", set())
        if method in {"POST", "PUT", "PATCH", "DELETE"}
    }
    tables = VENDOR_ROUTES + ORGANIZER_ROUTES + CHAT_ROUTES
    covered = {(m, p) for m, p, _ in tables} | PUBLIC_ROUTES | SELF_ROUTES | ROLE_ROUTES
    assert mutating - covered == set(), "add the new route to this test's tables"


async def _item(client: httpx.AsyncClient, world: World) -> str:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": "Mug", "price": 1200, "quantity": 2},
        headers=world.vendor,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _kiosk_token_id(client: httpx.AsyncClient, world: World) -> str:
    r = await client.post("/api/events/ripe-jan/kiosk-tokens", json={"label": "Gate"}, headers=world.organizer)
    assert r.status_code == 201, r.text
    listed = await client.get("/api/events/ripe-jan/kiosk-tokens", headers=world.organizer)
    return str(listed.json()[0]["id"])


async def _log_size() -> int:
    size: int = await ChangeLog.count()
    return size


@pytest.mark.parametrize(("method", "route", "body"), VENDOR_ROUTES)
async def test_vendor_routes_refuse_others(
    client: httpx.AsyncClient, world: World, method: str, route: str, body: dict[str, Any] | None
) -> None:
    item = await _item(client, world)
    sale = ""
    if "{sale}" in route:
        sold = await client.post(f"/api/items/{item}/sell", json={"quantity": 1}, headers=world.vendor)
        sale = str(sold.json()["sale"]["id"])
    path = route.format(code=world.stall["code"], item=item, event="ripe-jan", sale=sale)
    before = await _log_size()
    for headers, status in (({}, 401), (world.visitor, 403), (world.other_vendor, 403), (world.organizer, 403)):
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (headers, r.text)
        assert r.json()["error"]
    assert await _log_size() == before, "a refused request wrote something"
    r = await client.request(method, path, json=body, headers=world.vendor)
    assert r.status_code < 300, r.text


@pytest.mark.parametrize(("method", "route", "body"), ORGANIZER_ROUTES)
async def test_organizer_routes_refuse_others(
    client: httpx.AsyncClient, world: World, method: str, route: str, body: dict[str, Any] | None
) -> None:
    item = await _item(client, world)
    token = await _kiosk_token_id(client, world) if "{token}" in route else ""
    cause = invite = ""
    if "{cause}" in route or route.endswith("/cause"):
        made = await client.post(
            "/api/events/ripe-jan/causes", json={"name": "Food Bank", "tag": "#FoodBank"}, headers=world.organizer
        )
        cause = str(made.json()["id"])
    if "{invite}" in route:
        made = await client.post("/api/events/ripe-jan/invites", json={}, headers=world.organizer)
        invite = made.json()["codes"][0]
    path = route.format(event="ripe-jan", item=item, code=world.stall["code"], token=token, cause=cause, invite=invite)
    before = await _log_size()
    for headers, status in (({}, 401), (world.visitor, 403), (world.vendor, 403), (world.other_organizer, 403)):
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (headers, r.text)
    assert await _log_size() == before
    r = await client.request(method, path, json=body, headers=world.organizer)
    assert r.status_code < 300, r.text


async def test_creating_an_event_needs_an_organizer(client: httpx.AsyncClient, world: World) -> None:
    from tests.conftest import EVENT_BODY

    body = {**EVENT_BODY, "slug": "another"}
    assert (await client.post("/api/events", json=body)).status_code == 401
    assert (await client.post("/api/events", json=body, headers=world.visitor)).status_code == 403
    assert (await client.post("/api/events", json=body, headers=world.vendor)).status_code == 403
    assert (await client.post("/api/events", json=body, headers=world.other_organizer)).status_code == 201


async def test_photo_upload_needs_a_token(client: httpx.AsyncClient, world: World) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG")
    files = {"file": ("a.jpg", buffer.getvalue(), "image/jpeg")}
    assert (await client.post("/api/photos", files=files)).status_code == 401
    assert (await client.post("/api/photos", files=files, headers=world.visitor)).status_code == 201


async def test_bad_tokens_are_401(client: httpx.AsyncClient, world: World) -> None:
    path = f"/api/stalls/{world.stall['code']}"
    for header in ("Bearer nope", "Basic abc", "Bearer "):
        r = await client.patch(path, json={"name": "x"}, headers={"Authorization": header})
        assert r.status_code == 401, header


async def test_logout_revokes_the_token(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.post("/api/auth/logout", headers=world.vendor)).status_code == 204
    r = await client.patch(f"/api/stalls/{world.stall['code']}", json={"name": "x"}, headers=world.vendor)
    assert r.status_code == 401


@pytest.mark.parametrize(("method", "route", "body"), CHAT_ROUTES)
async def test_chat_routes_refuse_outsiders(
    client: httpx.AsyncClient, world: World, method: str, route: str, body: dict[str, Any] | None
) -> None:
    import json
    import uuid

    item = await _item(client, world)
    opened = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    conversation = opened.json()["id"]
    stranger = {"Authorization": "Bearer " + (await client.post("/api/devices")).json()["token"]}
    path = route.format(conversation=conversation)
    payload = json.loads(json.dumps(body).replace("{uuid}", str(uuid.uuid4())).replace("{item}", item))
    before = await _log_size()
    for headers, status in (
        ({}, 401),
        (stranger, (403, 404)),
        (world.other_vendor, 404),
        (world.organizer, (403, 404)),
    ):
        r = await client.request(method, path, json=payload, headers=headers)
        assert r.status_code in (status if isinstance(status, tuple) else (status,)), (headers, r.text)
    assert await _log_size() == before
    owner = world.vendor if route.endswith(("reserve", "release", "block")) else world.visitor
    if route.endswith("/read"):
        await client.post(
            f"/api/conversations/{conversation}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "x"},
            headers=world.vendor,
        )
    r = await client.request(method, path, json=payload, headers=owner)
    assert r.status_code < 300, r.text
