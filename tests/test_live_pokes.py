"""Open clients are poked over a real WebSocket when their event's log advances."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from server.domain.accounts import NewAccount, create_account
from tests.conftest import EVENT_BODY


async def test_a_change_pokes_the_events_socket(live_server: str) -> None:
    await create_account(NewAccount("org@example.org", "correct horse", "Org"), "organizer")
    async with httpx.AsyncClient(base_url=live_server) as http:
        token = (
            await http.post("/api/auth/login", json={"email": "org@example.org", "password": "correct horse"})
        ).json()["token"]
        organizer = {"Authorization": f"Bearer {token}"}
        assert (await http.post("/api/events", json=EVENT_BODY, headers=organizer)).status_code == 201
        ws_url = live_server.replace("http://", "ws://") + "/api/events/ripe-jan/live"
        async with websockets.connect(ws_url) as socket:
            hello = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert hello["type"] == "hello" and hello["scopes"][0].startswith("event:")
            r = await http.post(
                "/api/events/ripe-jan/causes", json={"name": "Food Bank", "tag": "#FoodBank"}, headers=organizer
            )
            assert r.status_code == 201
            poke = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert poke["type"] == "poke" and poke["scope"].startswith("event:") and poke["seq"] >= 2
            assert set(poke) == {"type", "scope", "seq"}, "pokes carry no data"
        # An unknown event has no socket.
        bad = live_server.replace("http://", "ws://") + "/api/events/nope/live"
        try:
            async with websockets.connect(bad) as socket:
                await asyncio.wait_for(socket.recv(), 5)
            raise AssertionError("expected the socket to be refused")
        except (websockets.InvalidStatus, websockets.ConnectionClosed):
            pass
