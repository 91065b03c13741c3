"""Finding 9 (input that reached a 500) and finding 11 (ordinary phone text refused).

Bad input must get a 4xx naming the problem, on every route and on the live socket; what real
keyboards type must be accepted, and only invisible tricks refused.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.conftest import World

DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
DEEP_LIST = "[" * 3000 + "]" * 3000


def _mutating_routes(app: Litestar) -> list[tuple[str, str, bool]]:
    """(method, path, whether the handler reads a body) of every mutating HTTP route."""
    return sorted(
        (method, route.path, "data" in handler.parsed_fn_signature.parameters)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
        if method in {"POST", "PUT", "PATCH", "DELETE"}
    )


def _fill(path: str, world: World, item: str, conversation: str) -> str:
    return (
        path.replace("{code:str}", world.stall["code"])
        .replace("{item_id:uuid}", item)
        .replace("{event:str}", "ripe-jan")
        .replace("{conversation_id:uuid}", conversation)
        .replace("{reply_id:uuid}", str(uuid.uuid4()))
        .replace("{message_id:uuid}", str(uuid.uuid4()))
        .replace("{token_id:str}", "0" * 16)
    )


async def test_finding9_deeply_nested_json_is_a_4xx_on_every_route(
    app: Litestar, client: httpx.AsyncClient, world: World
) -> None:
    item = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items", json={"title": "Jar", "price": 1}, headers=world.vendor
        )
    ).json()["id"]
    conversation = (
        await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    ).json()["id"]
    routes = _mutating_routes(app)
    assert len(routes) > 25
    assert sum(reads for _, _, reads in routes) > 20
    for method, route, reads_body in routes:
        path = _fill(route, world, item, conversation)
        for headers in ({}, world.visitor, world.vendor, world.organizer):
            for body in (DEEP_OBJECT, DEEP_LIST):
                r = await client.request(
                    method, path, content=body, headers={**headers, "Content-Type": "application/json"}
                )
                assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
                if reads_body:
                    assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text[:200])


async def test_finding9_a_cursor_with_non_ascii_characters_is_refused_not_a_500(
    client: httpx.AsyncClient, world: World
) -> None:
    for cursor in ("abc.é", "é.abc", "ü", ".", "a" * 5000 + ".b"):
        r = await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor}, headers=world.visitor)
        assert r.status_code == 422 and r.json()["field"] == "cursor", (cursor, r.text)


async def test_finding9_live_socket_answers_nested_and_huge_frames_and_stays_open(live_server: str) -> None:
    async with httpx.AsyncClient() as http:
        token = (await http.post(f"{live_server}/api/devices")).json()["token"]
    ws_url = live_server.replace("http://", "ws://") + "/api/live"
    async with websockets.connect(ws_url) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await socket.recv())["type"] == "ready"
        for frame in (
            DEEP_OBJECT,
            DEEP_LIST,
            "x" * 100_000,
            '{"type":"typing"}',
            '{"type":"typing","conversation_id":[]}',
        ):
            await socket.send(frame)
            answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert answer["type"] == "error", answer
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == "pong"
    # A nested first frame is simply not an auth frame: 4401, not a server error.
    async with websockets.connect(ws_url) as socket:
        await socket.send(DEEP_OBJECT)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


KEYBOARD_TEXT = {
    "England flag (tag sequence)": "Scarf \U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "Persian with ZWNJ": "می\u200cخواهم این را بخرم",
    "RLM mark in mixed text": "Price 5\u200f ₪ שקל",
    "LRM mark": "\u200eSKU-42 زيت",
    "family emoji (ZWJ)": "For the \U0001f468\u200d\U0001f469\u200d\U0001f467 kids",
    "skin tone": "\U0001f44d\U0001f3fd thanks",
    "emoji newer than Python's tables": "so cute \U0001fae8",
}
INVISIBLE_TRICKS = {
    "right-to-left override": "Price 10\u202e05",
    "left-to-right isolate": "a\u2066b",
    "zero-width space": "free\u200bstuff",
    "lone tag character": "x\U000e0067",
    "bell": "ding\x07",
    "Hangul filler name": "\u3164",
}


@pytest.mark.parametrize("name", sorted(KEYBOARD_TEXT))
async def test_finding11_what_phone_keyboards_type_is_accepted(
    client: httpx.AsyncClient, world: World, name: str
) -> None:
    body = KEYBOARD_TEXT[name]
    r = await client.post(
        f"/api/conversations/{uuid.uuid4()}/messages",
        json={"message_id": str(uuid.uuid4()), "body": body, "stall_code": world.stall["code"]},
        headers=world.visitor,
    )
    assert r.status_code == 201, r.text
    assert r.json()["body"] == body
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items", json={"title": body[:100], "price": 100}, headers=world.vendor
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("name", sorted(INVISIBLE_TRICKS))
async def test_finding11_invisible_tricks_are_still_refused(client: httpx.AsyncClient, world: World, name: str) -> None:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": INVISIBLE_TRICKS[name], "price": 100},
        headers=world.vendor,
    )
    assert r.status_code == 422 and r.json()["field"] == "title", r.text
