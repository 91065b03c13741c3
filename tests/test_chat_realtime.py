"""Chat in real time over real sockets: delivery, typing, receipts, presence; and across two
server processes through Redis, as in the scale-out deployment."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server.domain.accounts import NewAccount, create_account
from server.settings import Settings
from tests.conftest import EVENT_BODY, start_server

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _market(base: str) -> dict[str, Any]:
    """Organizer, event, one vendor stall and one visitor, made through the API."""
    await create_account(NewAccount("org@example.org", "correct horse", "Org"), "organizer")
    async with httpx.AsyncClient(base_url=base) as http:
        login = await http.post("/api/auth/login", json={"email": "org@example.org", "password": "correct horse"})
        organizer = {"Authorization": f"Bearer {login.json()['token']}"}
        await http.post("/api/events", json=EVENT_BODY, headers=organizer)
        code = (await http.post("/api/events/ripe-jan/invites", json={"count": 1}, headers=organizer)).json()
        joined = (
            await http.post(
                "/api/vendors/join",
                json={
                    "invite_code": code["codes"][0],
                    "email": "v@example.org",
                    "password": "vendor-pass",
                    "display_name": "V",
                    "stall": {"name": "Honey Stall", "store_tag": "#Honey"},
                },
            )
        ).json()
        visitor = (await http.post("/api/devices")).json()["token"]
    return {"vendor": joined["token"], "stall": joined["stall"]["code"], "visitor": visitor}


class Socket:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def next(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        """The next frame of `kind`, skipping others (pokes, pongs)."""
        async with asyncio.timeout(within):
            while True:
                frame: dict[str, Any] = json.loads(await self.connection.recv())
                if frame.get("type") == kind:
                    return frame


async def _socket(base: str, token: str, stack: Any) -> Socket:
    connection = await stack.enter_async_context(websockets.connect(base.replace("http", "ws", 1) + "/api/live"))
    await connection.send(json.dumps({"type": "auth", "token": token, "event": "ripe-jan"}))
    socket = Socket(connection)
    await socket.next("ready")
    return socket


@pytest.fixture
async def stack() -> AsyncIterator[Any]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as exit_stack:
        yield exit_stack


async def test_messages_typing_receipts_and_presence_live(live_server: str, stack: Any) -> None:
    m = await _market(live_server)
    vendor, visitor = {"Authorization": f"Bearer {m['vendor']}"}, {"Authorization": f"Bearer {m['visitor']}"}
    async with httpx.AsyncClient(base_url=live_server) as http:
        conversation = (await http.post("/api/conversations", json={"stall_code": m["stall"]}, headers=visitor)).json()
        assert conversation["seller_online"] is False
        vendor_socket = await _socket(live_server, m["vendor"], stack)
        visitor_socket = await _socket(live_server, m["visitor"], stack)
        opened = (await http.get(f"/api/conversations/{conversation['id']}", headers=visitor)).json()
        assert opened["seller_online"] is True
        sent = await http.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "Hi there"},
            headers=visitor,
        )
        frame = await vendor_socket.next("message")
        assert frame["message"]["body"] == "Hi there"
        assert frame["stall_id"] == conversation["stall_id"]  # a one-stall screen filters on it
        await vendor_socket.connection.send(json.dumps({"type": "typing", "conversation_id": conversation["id"]}))
        typing = await visitor_socket.next("typing")
        assert typing == {"type": "typing", "conversation_id": conversation["id"], "by": "vendor"}
        await http.post(
            f"/api/conversations/{conversation['id']}/read", json={"up_to_seq": sent.json()["seq"]}, headers=vendor
        )
        receipt = await visitor_socket.next("receipt")
        assert receipt["status"] == "read" and receipt["by"] == "vendor"
        # The vendor turns read receipts off: visitors then only learn "delivered".
        await http.patch(f"/api/stalls/{m['stall']}", json={"read_receipts": False}, headers=vendor)
        await http.post(f"/api/conversations/{conversation['id']}/read", json={"up_to_seq": 1}, headers=vendor)
        assert (await visitor_socket.next("receipt"))["status"] == "delivered"
        # The item in the conversation gets reserved: both sides hear it at once.
        item = (
            await http.post(f"/api/stalls/{m['stall']}/items", json={"title": "Jar", "price": 500}, headers=vendor)
        ).json()
        await http.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "This one?", "item_id": item["id"]},
            headers=visitor,
        )
        await http.post(
            f"/api/conversations/{conversation['id']}/reserve", json={"item_id": item["id"]}, headers=vendor
        )
        change = await visitor_socket.next("item")
        assert change["item_id"] == item["id"] and change["state"] == "reserved"
        # A frame the server does not understand gets an error frame, not a dropped socket.
        await visitor_socket.connection.send("not json")
        assert "error" in await visitor_socket.next("error")
        await vendor_socket.connection.close()
        await asyncio.sleep(0.3)
        after = (await http.get(f"/api/conversations/{conversation['id']}", headers=visitor)).json()
        assert after["seller_online"] is False


async def test_socket_without_a_valid_token_is_closed(live_server: str) -> None:
    async with websockets.connect(live_server.replace("http", "ws", 1) + "/api/live") as connection:
        await connection.send(json.dumps({"type": "auth", "token": "nope"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_two_server_processes_share_messages_through_redis(db: Settings, tmp_path: Path, stack: Any) -> None:
    """Socket on process A, message accepted by process B: Redis carries it across."""
    shared = {"SOUK_REDIS_URL": REDIS_URL, "SOUK_SECRET_KEY": "two-workers-one-secret"}
    a, base_a = start_server(db, SOUK_DATA_DIR=str(tmp_path / "a"), **shared)
    b, base_b = start_server(db, SOUK_DATA_DIR=str(tmp_path / "b"), **shared)
    try:
        m = await _market(base_b)
        visitor_socket = await _socket(base_a, m["visitor"], stack)
        vendor_socket = await _socket(base_a, m["vendor"], stack)
        visitor = {"Authorization": f"Bearer {m['visitor']}"}
        async with httpx.AsyncClient(base_url=base_b) as http:
            conversation = (
                await http.post("/api/conversations", json={"stall_code": m["stall"]}, headers=visitor)
            ).json()
            for n in range(10):
                r = await http.post(
                    f"/api/conversations/{conversation['id']}/messages",
                    json={"message_id": str(uuid.uuid4()), "body": f"message {n}"},
                    headers=visitor,
                )
                assert r.status_code == 201
        received = [(await vendor_socket.next("message"))["message"]["body"] for _ in range(10)]
        assert received == [f"message {n}" for n in range(10)]
        echoes = [(await visitor_socket.next("message"))["message"]["seq"] for _ in range(10)]
        assert echoes == list(range(1, 11))
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(timeout=20)
