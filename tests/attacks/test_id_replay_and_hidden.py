"""Findings 3, 4 and 5: ids replayed by someone else, and hidden things that were still reachable.

Each test is what an attacker in the crowd would do with plain HTTP, and what they must get.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import World, bearer


async def _conversation_with_message(client: httpx.AsyncClient, world: World, body: str) -> tuple[str, str]:
    conversation, message = str(uuid.uuid4()), str(uuid.uuid4())
    r = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": message, "body": body, "stall_code": world.stall["code"]},
        headers=world.visitor,
    )
    assert r.status_code == 201, r.text
    return conversation, message


async def _push(client: httpx.AsyncClient, headers: dict[str, str], name: str, args: dict[str, Any]) -> Any:
    r = await client.post(
        "/api/sync/push",
        json={"client_id": str(uuid.uuid4()), "mutations": [{"id": 1, "name": name, "args": args}]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()["results"][0]


async def test_finding3_another_device_cannot_read_a_message_by_resending_its_id(
    client: httpx.AsyncClient, world: World
) -> None:
    conversation, message = await _conversation_with_message(client, world, "My phone number is 07700 900123")
    intruder = bearer((await client.post("/api/devices")).json()["token"])
    # Into the victim's conversation: the same 404 as for any conversation one is not in.
    for headers in (intruder, world.other_vendor):
        r = await client.post(
            f"/api/conversations/{conversation}/messages",
            json={"message_id": message, "body": "x"},
            headers=headers,
        )
        assert r.status_code == 404, r.text
        assert "07700" not in r.text
    # Into the intruder's own conversation: a refusal that carries nothing of the stored message.
    own = str(uuid.uuid4())
    r = await client.post(
        f"/api/conversations/{own}/messages",
        json={"message_id": message, "body": "x", "stall_code": world.other_stall["code"]},
        headers=intruder,
    )
    assert r.status_code == 409 and "07700" not in r.text and "another conversation" not in r.text
    # Through sync push: rejected, without the body.
    outcome = await _push(
        client, intruder, "send_message", {"conversation_id": conversation, "message_id": message, "body": "x"}
    )
    assert outcome["status"] == "rejected" and "07700" not in str(outcome)
    # The real sender's retry still gets its stored message back.
    r = await client.post(
        f"/api/conversations/{conversation}/messages", json={"message_id": message, "body": "x"}, headers=world.visitor
    )
    assert r.status_code == 201 and "07700" in r.json()["body"]


def _leaves(value: Any) -> list[Any]:
    """Every scalar inside a JSON value."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


async def test_finding4_a_known_sale_id_returns_nothing_to_another_caller(
    client: httpx.AsyncClient, world: World
) -> None:
    item = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": "Jar", "price": 500, "quantity": 5},
            headers=world.vendor,
        )
    ).json()
    sale_id = str(uuid.uuid4())
    r = await client.post(
        f"/api/items/{item['id']}/sell", json={"sale_id": sale_id, "amount": 777}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    for headers in (world.other_vendor, world.visitor):
        outcome = await _push(client, headers, "sell_item", {"id": item["id"], "sale_id": sale_id})
        assert outcome["status"] == "rejected", outcome
        # The sale's amount appears nowhere (as a value: "777" can occur inside a random uuid).
        assert 777 not in _leaves(outcome) and "amount" not in str(outcome), outcome
        assert sale_id not in str(outcome.get("data"))
    # A sale id reused for another item of the same vendor is refused, not answered with the first sale.
    other = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items", json={"title": "Pot", "price": 900}, headers=world.vendor
        )
    ).json()
    r = await client.post(f"/api/items/{other['id']}/sell", json={"sale_id": sale_id}, headers=world.vendor)
    assert r.status_code == 409, r.text
    # The owner's own retry is still idempotent.
    r = await client.post(
        f"/api/items/{item['id']}/sell", json={"sale_id": sale_id, "amount": 777}, headers=world.vendor
    )
    assert r.status_code == 201 and r.json()["sale"]["amount"] == 777 and r.json()["item"]["quantity"] == 4


async def test_finding5_a_hidden_item_is_404_to_all_but_its_vendor_and_organizer(
    client: httpx.AsyncClient, world: World
) -> None:
    item = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": "Fake watch", "price": 5000},
            headers=world.vendor,
        )
    ).json()
    r = await client.post(f"/api/items/{item['id']}/hidden", json={"hidden": True}, headers=world.organizer)
    assert r.status_code == 200, r.text
    for headers in ({}, world.visitor, world.other_vendor, world.other_organizer):
        assert (await client.get(f"/api/items/{item['id']}", headers=headers)).status_code == 404
    for headers in (world.vendor, world.organizer):
        assert (await client.get(f"/api/items/{item['id']}", headers=headers)).status_code == 200
    intro = await client.get(f"/api/stalls/{world.stall['code']}/intro", params={"item": item["id"]})
    assert intro.status_code == 404


async def test_finding5_a_hidden_stall_is_gone_from_every_route(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    item = (
        await client.post(f"/api/stalls/{code}/items", json={"title": "Spam", "price": 100}, headers=world.vendor)
    ).json()
    r = await client.post(f"/api/stalls/{code}/hidden", json={"hidden": True}, headers=world.organizer)
    assert r.status_code == 200, r.text
    for path in (
        f"/api/stalls/{code}",
        f"/api/stalls/{code}/items",
        f"/api/stalls/{code}/intro",
        f"/api/items/{item['id']}",
        f"/s/{code}",
        f"/s/{code}/qr.svg",
        f"/s/{code}/qr.png",
        f"/s/{code}/sign.svg",
        f"/s/{code}/sign.pdf",
        f"/api/events/ripe-jan/items?stall={code}",
    ):
        assert (await client.get(path)).status_code == 404, path
        assert (await client.get(path, headers=world.visitor)).status_code == 404, path
    assert (await client.get(f"/api/stalls/{code}", headers=world.vendor)).status_code == 200
    assert (await client.get(f"/api/stalls/{code}", headers=world.organizer)).status_code == 200
    assert (await client.get(f"/api/stalls/{code}", headers=world.other_organizer)).status_code == 404
    # Shown again: back for everyone.
    await client.post(f"/api/stalls/{code}/hidden", json={"hidden": False}, headers=world.organizer)
    assert (await client.get(f"/s/{code}")).status_code == 200


async def test_finding5_a_refused_edit_of_a_deleted_item_returns_only_a_tombstone(
    client: httpx.AsyncClient, world: World
) -> None:
    item = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": "Secret recipe jam", "description": "grandma's", "price": 300},
            headers=world.vendor,
        )
    ).json()
    assert (await client.delete(f"/api/items/{item['id']}", headers=world.vendor)).status_code == 204
    mine = await _push(client, world.vendor, "update_item", {"id": item["id"], "title": "x"})
    assert mine["status"] == "rejected"
    assert mine["data"]["deleted"] is True and mine["data"]["id"] == item["id"]
    assert "Secret" not in str(mine) and "grandma" not in str(mine)
    theirs = await _push(client, world.other_vendor, "update_item", {"id": item["id"], "title": "x"})
    assert theirs["status"] == "rejected" and theirs["data"] is None
