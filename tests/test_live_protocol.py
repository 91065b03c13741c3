"""The AsyncAPI document at /api/asyncapi.json is what the sockets really speak.

Both sockets are opened on a real server and every frame type is driven once; each frame either
way is checked against the document's schema for its type, and the document may not name a frame
this test never saw (a stale entry) nor may the server send one it does not name.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from typing import Any

import httpx
import jsonschema_rs
import websockets

from tests.test_chat_realtime import _market


class Checked:
    """A socket whose every frame, sent or received, must match the document."""

    def __init__(self, connection: Any, incoming: dict[str, Any], outgoing: dict[str, Any], seen: set[str]) -> None:
        self.connection, self.incoming, self.outgoing, self.seen = connection, incoming, outgoing, seen

    async def send(self, frame: dict[str, Any]) -> None:
        _check(self.outgoing, frame, self.seen, "client")
        await self.connection.send(json.dumps(frame))

    async def next(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                frame: dict[str, Any] = json.loads(await self.connection.recv())
                _check(self.incoming, frame, self.seen, "server")
                if frame["type"] == kind:
                    return frame


def _check(schemas: dict[str, Any], frame: dict[str, Any], seen: set[str], side: str) -> None:
    kind = frame.get("type")
    assert kind in schemas, f"the {side} sent a frame the document does not name: {frame}"
    errors = [str(e) for e in schemas[kind].iter_errors(frame)]
    assert errors == [], f"{kind} frame {frame} does not match the document: {errors}"
    seen.add(f"{side}:{kind}")


def _frames(document: dict[str, Any], channel: str, action: str) -> dict[str, Any]:
    """The channel's frames one side sends, by `type`, each with a validator for its payload."""
    messages = document["components"]["messages"]
    names = [
        ref["$ref"].rsplit("/", 1)[1]
        for operation in document["operations"].values()
        if operation["channel"]["$ref"] == f"#/channels/{channel}" and operation["action"] == action
        for ref in operation["messages"]
    ]
    validators = {}
    for name in names:
        payload = messages[name]["payload"]
        validators[payload["properties"]["type"]["const"]] = jsonschema_rs.validator_for(payload)
    return validators


async def test_every_socket_frame_matches_the_asyncapi_document(live_server: str) -> None:
    m = await _market(live_server)
    vendor, visitor = {"Authorization": f"Bearer {m['vendor']}"}, {"Authorization": f"Bearer {m['visitor']}"}
    ws = live_server.replace("http", "ws", 1)
    seen: set[str] = set()
    async with httpx.AsyncClient(base_url=live_server) as http, AsyncExitStack() as stack:
        document = (await http.get("/api/asyncapi.json")).json()
        assert document["asyncapi"].startswith("3.")
        # The server "receives" what clients send and "sends" what clients receive.
        incoming, outgoing = _frames(document, "personal", "send"), _frames(document, "personal", "receive")

        async def personal(token: str) -> Checked:
            connection = await stack.enter_async_context(websockets.connect(ws + "/api/live"))
            socket = Checked(connection, incoming, outgoing, seen)
            await socket.send({"type": "auth", "token": token, "event": "ripe-jan"})
            await socket.next("ready")
            return socket

        pokes = Checked(
            await stack.enter_async_context(websockets.connect(ws + "/api/events/ripe-jan/live")),
            _frames(document, "eventPokes", "send"),
            {},
            seen,
        )
        await pokes.next("hello")
        conversation = (await http.post("/api/conversations", json={"stall_code": m["stall"]}, headers=visitor)).json()
        seller, buyer = await personal(m["vendor"]), await personal(m["visitor"])
        sent = await http.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "Hi there"},
            headers=visitor,
        )
        await seller.next("message")
        await seller.send({"type": "typing", "conversation_id": conversation["id"]})
        await buyer.next("typing")
        await http.post(
            f"/api/conversations/{conversation['id']}/read", json={"up_to_seq": sent.json()["seq"]}, headers=vendor
        )
        await buyer.next("receipt")
        item = (
            await http.post(f"/api/stalls/{m['stall']}/items", json={"title": "Jar", "price": 500}, headers=vendor)
        ).json()
        await pokes.next("poke")
        await buyer.next("poke")
        await http.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "This one?", "item_id": item["id"]},
            headers=visitor,
        )
        await http.post(
            f"/api/conversations/{conversation['id']}/reserve", json={"item_id": item["id"]}, headers=vendor
        )
        await buyer.next("item")
        await buyer.send({"type": "ping"})
        await buyer.next("pong")
        await buyer.connection.send(json.dumps({"type": "dance"}))
        await buyer.next("error")

    documented = {f"server:{kind}" for kind in incoming} | {f"client:{kind}" for kind in outgoing}
    assert documented - seen == set(), "the document names frames the server never sent or took"
