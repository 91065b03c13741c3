"""Finding 6: a block must stop the blocked visitor, not only their current token; vendors can
block in their own chats; the organizer sees and lifts every block."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import World, bearer


async def _send(client: httpx.AsyncClient, headers: dict[str, str], stall: str, body: str = "hi") -> httpx.Response:
    return await client.post(
        f"/api/conversations/{uuid.uuid4()}/messages",
        json={"message_id": str(uuid.uuid4()), "body": body, "stall_code": stall},
        headers=headers,
    )


async def _device(client: httpx.AsyncClient, address: str) -> dict[str, str]:
    r = await client.post("/api/devices", headers={"X-Forwarded-For": address})
    assert r.status_code == 201, r.text
    return bearer(r.json()["token"])


async def test_finding6_a_vendor_blocks_a_harasser_in_their_own_conversation(
    client: httpx.AsyncClient, world: World
) -> None:
    harasser = await _device(client, "203.0.113.9")
    first = await _send(client, harasser, world.stall["code"], "rude")
    conversation = first.json()["conversation_id"]
    r = await client.post(f"/api/conversations/{conversation}/block", json={}, headers=world.vendor)
    assert r.status_code == 204, r.text
    again = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": str(uuid.uuid4()), "body": "still here"},
        headers=harasser,
    )
    assert again.status_code == 403 and "seller" in again.json()["error"]
    # Only this vendor's stall: the harasser can still talk to other stalls.
    assert (await _send(client, harasser, world.other_stall["code"])).status_code == 201
    # Another vendor cannot block in a conversation that is not theirs.
    r = await client.post(f"/api/conversations/{conversation}/block", json={}, headers=world.other_vendor)
    assert r.status_code == 404


async def test_finding6_a_new_device_token_from_the_same_address_stays_blocked(
    client: httpx.AsyncClient, world: World
) -> None:
    harasser = await _device(client, "203.0.113.10")
    conversation = (await _send(client, harasser, world.stall["code"])).json()["conversation_id"]
    device_id = (await client.get("/api/auth/me", headers=harasser)).json()["device_id"]
    await client.post(f"/api/conversations/{conversation}/block", json={}, headers=world.vendor)
    r = await client.post(
        "/api/events/ripe-jan/blocked-devices", json={"device_id": device_id}, headers=world.organizer
    )
    assert r.status_code == 204
    fresh = await _device(client, "203.0.113.10")
    r = await _send(client, fresh, world.stall["code"])
    assert r.status_code == 403, r.text
    assert (await _send(client, fresh, world.other_stall["code"])).status_code == 403  # the organizer's block
    # Someone at another address is not caught.
    stranger = await _device(client, "198.51.100.77")
    assert (await _send(client, stranger, world.stall["code"])).status_code == 201
    # The organizer sees the blocks, followed ones marked, and lifting the original lifts what followed.
    listed = (await client.get("/api/events/ripe-jan/blocked-devices", headers=world.organizer)).json()
    assert {b["blocked_by"] for b in listed} == {"organizer", "vendor", "address"}
    assert (await client.get("/api/events/ripe-jan/blocked-devices", headers=world.vendor)).status_code == 403
    r = await client.post(
        "/api/events/ripe-jan/blocked-devices", json={"device_id": device_id, "blocked": False}, headers=world.organizer
    )
    assert r.status_code == 204
    assert (await client.get("/api/events/ripe-jan/blocked-devices", headers=world.organizer)).json() == []
    assert (await _send(client, fresh, world.stall["code"])).status_code == 201
    assert (await _send(client, harasser, world.stall["code"])).status_code == 201


async def test_finding6_a_resume_code_carries_the_block_to_another_browser(
    client: httpx.AsyncClient, world: World
) -> None:
    harasser = await _device(client, "203.0.113.11")
    device_id = (await client.get("/api/auth/me", headers=harasser)).json()["device_id"]
    await client.post("/api/events/ripe-jan/blocked-devices", json={"device_id": device_id}, headers=world.organizer)
    code = (await client.post("/api/devices/resume-code", headers=harasser)).json()["code"]
    moved = await client.post("/api/devices/resume", json={"code": code}, headers={"X-Forwarded-For": "192.0.2.200"})
    assert moved.status_code == 201
    assert (await _send(client, bearer(moved.json()["token"]), world.stall["code"])).status_code == 403


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    client: httpx.AsyncClient, world: World
) -> None:
    """The test client connects from 127.0.0.1, a trusted proxy by default; a client's own fake
    entry at the left of the chain is skipped for the hop our proxy saw."""
    from server.api.client import address_group

    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_group("::ffff:192.0.2.1") == "192.0.2.1"
    harasser = await _device(client, "203.0.113.12")
    device_id = (await client.get("/api/auth/me", headers=harasser)).json()["device_id"]
    await client.post("/api/events/ripe-jan/blocked-devices", json={"device_id": device_id}, headers=world.organizer)
    spoofed = await _device(client, "198.51.100.1, 203.0.113.12")  # fake left entry, real right one
    assert (await _send(client, spoofed, world.stall["code"])).status_code == 403
