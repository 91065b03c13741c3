"""Issue 14, finding 7: the visitor and the vendor call the visitor by the same name.

Both sides' conversation views carry `visitor_name` ("Visitor A64B" until the visitor chooses a
first name); the visitor chooses one online (PUT /api/devices/me/name) or offline (the queued
`set_first_name` mutation), it is checked like every other name (length, control and bidi
characters), and the vendor's replica learns it through a pull."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import World


async def _open(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _pull(client: httpx.AsyncClient, headers: dict[str, str], cursor: str | None) -> tuple[list[Any], str]:
    changes: list[Any] = []
    while True:
        r = await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, str(cursor)


async def test_both_sides_see_the_same_default_name(client: httpx.AsyncClient, world: World) -> None:
    conversation = await _open(client, world)
    expected = f"Visitor {conversation['device_id'][:4].upper()}"
    assert conversation["visitor_name"] == expected
    inbox = (await client.get("/api/conversations", headers=world.vendor)).json()
    assert [c["visitor_name"] for c in inbox] == [expected]
    mine = (await client.get("/api/conversations", headers=world.visitor)).json()
    assert [c["visitor_name"] for c in mine] == [expected]
    me = (await client.get("/api/devices/me/name", headers=world.visitor)).json()
    assert me == {"first_name": "", "shown_as": expected}


async def test_a_chosen_first_name_reaches_the_vendor_through_a_pull(client: httpx.AsyncClient, world: World) -> None:
    conversation = await _open(client, world)
    _, cursor = await _pull(client, world.vendor, None)

    r = await client.put("/api/devices/me/name", json={"first_name": "  Amélie "}, headers=world.visitor)
    assert r.status_code == 200, r.text
    assert r.json() == {"first_name": "Amélie", "shown_as": "Amélie"}

    changes, cursor = await _pull(client, world.vendor, cursor)
    records = [c for c in changes if c["entity"] == "conversation" and c["id"] == conversation["id"]]
    assert records and records[-1]["data"]["visitor_name"] == "Amélie"
    assert records[-1]["version"] > conversation["version"]
    inbox = (await client.get("/api/conversations", headers=world.vendor)).json()
    assert inbox[0]["visitor_name"] == "Amélie"

    # Empty goes back to "Visitor A64B".
    r = await client.put("/api/devices/me/name", json={"first_name": ""}, headers=world.visitor)
    assert r.status_code == 200 and r.json()["shown_as"] == f"Visitor {conversation['device_id'][:4].upper()}"


async def test_an_offline_name_change_is_a_queued_mutation(client: httpx.AsyncClient, world: World) -> None:
    await _open(client, world)
    body = {
        "client_id": str(uuid.uuid4()),
        "mutations": [{"id": 1, "name": "set_first_name", "args": {"first_name": "Sam"}}],
    }
    r = await client.post("/api/sync/push", json=body, headers=world.visitor)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied"]
    inbox = (await client.get("/api/conversations", headers=world.vendor)).json()
    assert inbox[0]["visitor_name"] == "Sam"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("x" * 31, "longer than 30"),
        ("Sam\u202eevil", "invisible or control"),
        ("Sam\u2066", "invisible or control"),
        ("Sam\nJones", "invisible or control"),
        ("Sam\u200b", "invisible or control"),
        ("sam@example.org", "a name only"),
        ("<b>Sam</b>", "a name only"),
        (42, "Expected `str`"),
    ],
)
async def test_bad_names_are_refused_with_a_reason(
    client: httpx.AsyncClient, world: World, name: Any, why: str
) -> None:
    r = await client.put("/api/devices/me/name", json={"first_name": name}, headers=world.visitor)
    assert r.status_code in (400, 422), r.text
    assert why in r.json()["error"], r.text


async def test_only_a_visitor_device_has_a_first_name(client: httpx.AsyncClient, world: World) -> None:
    r = await client.put("/api/devices/me/name", json={"first_name": "Sam"}, headers=world.vendor)
    assert r.status_code == 403, r.text
    r = await client.put("/api/devices/me/name", json={"first_name": "Sam"})
    assert r.status_code == 401, r.text
