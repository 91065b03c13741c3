"""A flood of messages from one device is slowed down (429 with Retry-After) without touching
anyone else, nothing of the refused message is stored, and a queued sync batch resumes after."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from server.domain.flood import VENDOR_LIMIT, VISITOR_LIMIT
from server.tables import Message
from tests.conftest import World, bearer


async def _send(client: httpx.AsyncClient, headers: dict[str, str], conversation: str, body: str) -> httpx.Response:
    payload = {"message_id": str(uuid.uuid4()), "body": body}
    return await client.post(f"/api/conversations/{conversation}/messages", json=payload, headers=headers)


async def _conversation(client: httpx.AsyncClient, world: World, visitor: dict[str, str]) -> str:
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=visitor)
    assert r.status_code == 201, r.text
    conversation_id: str = r.json()["id"]
    return conversation_id


async def _age_messages(seconds: float) -> None:
    """Move every stored message back in time: the rolling window passes without waiting."""
    for row in await Message.select(Message.id, Message.created_at):
        await Message.update({Message.created_at: row["created_at"] - timedelta(seconds=seconds)}).where(
            Message.id == row["id"]
        )


async def test_a_flooding_device_gets_429_and_others_carry_on(client: httpx.AsyncClient, world: World) -> None:
    conversation = await _conversation(client, world, world.visitor)
    sent = [await _send(client, world.visitor, conversation, f"message {n}") for n in range(VISITOR_LIMIT.messages)]
    assert [r.status_code for r in sent] == [201] * VISITOR_LIMIT.messages

    refused = await _send(client, world.visitor, conversation, "one too many")
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "wait" in refused.json()["error"]
    assert await Message.count().where(Message.body == "one too many") == 0

    # Resending an already stored message is a retry, not a new message: never refused.
    again = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": sent[0].json()["id"], "body": "message 0"},
        headers=world.visitor,
    )
    assert again.status_code in (200, 201) and again.json()["seq"] == sent[0].json()["seq"]

    # Another visitor and the vendor are not slowed down by it.
    other = bearer((await client.post("/api/devices")).json()["token"])
    assert (await _send(client, other, await _conversation(client, world, other), "hello")).status_code == 201
    assert (await _send(client, world.vendor, conversation, "please slow down")).status_code == 201

    # A minute later the device may write again.
    await _age_messages(61)
    assert (await _send(client, world.visitor, conversation, "sorry")).status_code == 201


async def test_a_queued_batch_over_the_limit_resumes_exactly_once(client: httpx.AsyncClient, world: World) -> None:
    conversation = str(uuid.uuid4())
    total = VISITOR_LIMIT.messages + 5
    mutations: list[dict[str, Any]] = [
        {
            "id": n,
            "name": "send_message",
            "args": {
                "conversation_id": conversation,
                "stall_code": world.stall["code"],
                "message_id": str(uuid.uuid4()),
                "body": f"offline note {n}",
            },
        }
        for n in range(1, total + 1)
    ]
    batch = {"client_id": str(uuid.uuid4()), "mutations": mutations}

    first = await client.post("/api/sync/push", json=batch, headers=world.visitor)
    assert first.status_code == 429, first.text
    assert int(first.headers["retry-after"]) >= 1
    assert await Message.count().where(Message.conversation == conversation) == VISITOR_LIMIT.messages

    await _age_messages(61)
    second = await client.post("/api/sync/push", json=batch, headers=world.visitor)
    assert second.status_code == 200, second.text
    assert [r["status"] for r in second.json()["results"]] == ["applied"] * total
    assert second.json()["last_mutation_id"] == total
    bodies = [
        r["body"]
        for r in await Message.select(Message.body).where(Message.conversation == conversation).order_by(Message.seq)
    ]
    assert bodies == [f"offline note {n}" for n in range(1, total + 1)]


async def test_vendors_have_their_own_larger_budget(client: httpx.AsyncClient, world: World) -> None:
    conversation = await _conversation(client, world, world.visitor)
    answers = [await _send(client, world.vendor, conversation, f"answer {n}") for n in range(VENDOR_LIMIT.messages)]
    assert {r.status_code for r in answers} == {201}
    refused = await _send(client, world.vendor, conversation, "one too many")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # The other stall's vendor is a different sender.
    other = await client.post(
        "/api/conversations", json={"stall_code": world.other_stall["code"]}, headers=world.visitor
    )
    assert (await _send(client, world.other_vendor, other.json()["id"], "hello")).status_code == 201
    assert (await _send(client, world.visitor, conversation, "thanks!")).status_code == 201
