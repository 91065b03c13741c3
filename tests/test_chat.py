"""Chat over HTTP: stall QR to conversation, idempotent messages, inbox, catch-up, the
availability auto-answer, in-chat reservations that lapse, quick replies, resume codes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar
from litestar.di import Provide

from server.domain.reservations import sweep
from server.tables import ItemHold, Message
from tests.conftest import World, bearer


async def _item(client: httpx.AsyncClient, world: World, title: str = "Wildflower honey") -> dict[str, Any]:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": title, "price": 650, "quantity": 3},
        headers=world.vendor,
    )
    assert r.status_code == 201
    body: dict[str, Any] = r.json()
    return body


async def _open(client: httpx.AsyncClient, world: World, **extra: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/conversations", json={"stall_code": world.stall["code"], **extra}, headers=world.visitor
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _send(
    client: httpx.AsyncClient, headers: dict[str, str], conversation: str, body: str, **extra: Any
) -> httpx.Response:
    payload = {"message_id": str(uuid.uuid4()), "body": body, **extra}
    return await client.post(f"/api/conversations/{conversation}/messages", json=payload, headers=headers)


async def test_qr_to_conversation_with_prefilled_intro(client: httpx.AsyncClient, world: World) -> None:
    item = await _item(client, world)
    intro = (await client.get(f"/api/stalls/{world.stall['code']}/intro")).json()["text"]
    assert "Stall 1" in intro and "Ripe Market" in intro
    about = (await client.get(f"/api/stalls/{world.stall['code']}/intro", params={"item": item["id"]})).json()
    assert "Wildflower honey" in about["text"]
    first = await _open(client, world)
    again = await _open(client, world)
    assert first["id"] == again["id"], "one conversation per visitor and stall"
    assert first["seller_online"] is False and first["stall_name"] == "Stall 1"
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.vendor)
    assert r.status_code == 403


async def test_messages_are_idempotent_ordered_and_caught_up(client: httpx.AsyncClient, world: World) -> None:
    conversation = (await _open(client, world))["id"]
    payload = {"message_id": str(uuid.uuid4()), "body": "Hello! Do you have rosemary honey?"}
    url = f"/api/conversations/{conversation}/messages"
    one = await client.post(url, json=payload, headers=world.visitor)
    two = await client.post(url, json=payload, headers=world.visitor)
    assert one.status_code == two.status_code == 201 and one.json() == two.json()
    assert one.json()["seq"] == 1
    assert await Message.count() == 1
    inbox = (await client.get("/api/conversations", headers=world.vendor)).json()
    assert [c["id"] for c in inbox] == [conversation] and inbox[0]["unread"] == 1
    assert inbox[0]["last_preview"].startswith("Hello!")
    assert (await client.get("/api/conversations", headers=world.other_vendor)).json() == []
    for text in ("Yes, two jars left", "Come by!"):
        assert (await _send(client, world.vendor, conversation, text)).status_code == 201
    missing = (await client.get(url, params={"after_seq": 1}, headers=world.visitor)).json()
    assert [m["seq"] for m in missing] == [2, 3] and [m["sender"] for m in missing] == ["vendor", "vendor"]
    mine = (await client.get("/api/conversations", headers=world.visitor)).json()
    assert mine[0]["unread"] == 2
    r = await client.post(f"/api/conversations/{conversation}/read", json={"up_to_seq": 3}, headers=world.visitor)
    assert r.status_code == 200 and r.json()["unread"] == 0
    read = (await client.get(url, headers=world.vendor)).json()
    assert read[1]["read_at"] is not None and read[0]["read_at"] is None  # only the other side's


async def test_only_participants_see_a_conversation(client: httpx.AsyncClient, world: World) -> None:
    conversation = (await _open(client, world))["id"]
    await _send(client, world.visitor, conversation, "secret offer")
    stranger = bearer((await client.post("/api/devices")).json()["token"])
    url = f"/api/conversations/{conversation}"
    for headers in (stranger, world.other_vendor):
        assert (await client.get(url, headers=headers)).status_code == 404
        assert (await client.get(url + "/messages", headers=headers)).status_code == 404
        assert (await _send(client, headers, conversation, "hi")).status_code == 404
    assert (await client.get("/api/conversations", headers=world.organizer)).status_code == 403
    assert (await client.get(url)).status_code == 401


async def test_is_it_still_available_gets_an_instant_answer(client: httpx.AsyncClient, world: World) -> None:
    item = await _item(client, world)
    conversation = (await _open(client, world, item_id=item["id"]))["id"]
    r = await _send(client, world.visitor, conversation, "Is this still available?", item_id=item["id"])
    assert r.status_code == 201 and r.json()["item_card"]["title"] == "Wildflower honey"
    thread = (await client.get(f"/api/conversations/{conversation}/messages", headers=world.vendor)).json()
    assert [m["sender"] for m in thread] == ["visitor", "system"]
    assert "available" in thread[1]["body"] and "3 left" in thread[1]["body"]
    await client.post(f"/api/items/{item['id']}/sell", json={"quantity": 3}, headers=world.vendor)
    await _send(client, world.visitor, conversation, "still available?", item_id=item["id"])
    thread = (await client.get(f"/api/conversations/{conversation}/messages", headers=world.visitor)).json()
    assert "sold" in thread[-1]["body"] and thread[-1]["sender"] == "system"
    # A plain remark is not a question about availability.
    await _send(client, world.visitor, conversation, "Thanks, lovely stall", item_id=item["id"])
    thread = (await client.get(f"/api/conversations/{conversation}/messages", headers=world.visitor)).json()
    assert thread[-1]["sender"] == "visitor"


async def test_reserve_for_this_visitor_then_lapse(client: httpx.AsyncClient, app: Litestar, world: World) -> None:
    item = await _item(client, world)
    conversation = await _open(client, world)
    url = f"/api/conversations/{conversation['id']}/reserve"
    assert (await client.post(url, json={"item_id": item["id"]}, headers=world.other_vendor)).status_code == 404
    r = await client.post(url, json={"item_id": item["id"]}, headers=world.vendor)
    assert r.status_code == 200, r.text
    held = r.json()
    # Holds are per unit: one of the 3 is held, the other 2 stay on sale.
    assert (held["state"], held["held"], held["quantity"]) == ("available", 1, 3)
    until = datetime.fromisoformat(held["reserved_until"])
    assert timedelta(minutes=29) < until - datetime.now(UTC) <= timedelta(minutes=30)
    thread = (await client.get(f"/api/conversations/{conversation['id']}/messages", headers=world.visitor)).json()
    assert thread[-1]["sender"] == "system" and "Reserved for you until" in thread[-1]["body"]
    # Nothing lapses early; after the hold runs out the sweeper frees it and says so.
    provider = app.dependencies["services"]
    assert isinstance(provider, Provide)
    market = provider.dependency()
    assert await sweep(market) == 0
    await ItemHold.update({ItemHold.until: datetime.now(UTC) - timedelta(seconds=1)}).where(ItemHold.item == item["id"])
    assert await sweep(market) == 1
    after = (await client.get(f"/api/items/{item['id']}")).json()
    assert (after["state"], after["held"], after["reserved_until"]) == ("available", 0, None)
    thread = (await client.get(f"/api/conversations/{conversation['id']}/messages", headers=world.visitor)).json()
    assert "lapsed" in thread[-1]["body"]
    assert await sweep(market) == 0


async def test_bad_messages_are_422(client: httpx.AsyncClient, world: World) -> None:
    conversation = (await _open(client, world))["id"]
    for body, extra, field in (
        ("x" * 2001, {}, "body"),
        ("   ", {}, "body"),
        ("hi", {"photo_key": "0" * 64}, "photo_key"),
        ("hi", {"item_id": str(uuid.uuid4())}, "item_id"),
    ):
        r = await _send(client, world.visitor, conversation, body, **extra)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = await client.post(f"/api/conversations/{conversation}/messages", json={"body": "no id"}, headers=world.visitor)
    assert r.status_code == 422 and r.json()["field"] == "message_id"
    assert await Message.count() == 0


async def test_quick_replies_belong_to_their_vendor(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post("/api/quick-replies", json={"text": "Still available!"}, headers=world.vendor)
    assert r.status_code == 201
    reply = r.json()
    assert [q["text"] for q in (await client.get("/api/quick-replies", headers=world.vendor)).json()] == [
        "Still available!"
    ]
    assert (await client.get("/api/quick-replies", headers=world.other_vendor)).json() == []
    assert (await client.delete(f"/api/quick-replies/{reply['id']}", headers=world.other_vendor)).status_code == 404
    assert (await client.get("/api/quick-replies", headers=world.visitor)).status_code == 403
    assert (await client.delete(f"/api/quick-replies/{reply['id']}", headers=world.vendor)).status_code == 204


async def test_resume_code_carries_conversations_to_a_new_browser(client: httpx.AsyncClient, world: World) -> None:
    conversation = (await _open(client, world))["id"]
    await _send(client, world.visitor, conversation, "Can you hold the blue mug?")
    code = (await client.post("/api/devices/resume-code", headers=world.visitor)).json()["code"]
    assert (await client.post("/api/devices/resume-code", headers=world.vendor)).status_code == 403
    r = await client.post("/api/devices/resume", json={"code": code.lower().replace("-", " ")})
    assert r.status_code == 201, r.text
    new_browser = bearer(r.json()["token"])
    mine = (await client.get("/api/conversations", headers=new_browser)).json()
    assert [c["id"] for c in mine] == [conversation]
    assert (await client.post("/api/devices/resume", json={"code": code})).status_code == 409
    assert (await client.post("/api/devices/resume", json={"code": "AAAAA-AAAAA"})).status_code == 404


async def test_receipts_off_hides_read_and_photos_travel(client: httpx.AsyncClient, world: World) -> None:
    import io

    from PIL import Image

    conversation = (await _open(client, world))["id"]
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "green").save(buffer, "JPEG")
    photo = (
        await client.post(
            "/api/photos", files={"file": ("a.jpg", buffer.getvalue(), "image/jpeg")}, headers=world.visitor
        )
    ).json()["photo"]
    r = await _send(client, world.visitor, conversation, "", photo_key=photo["key"])
    assert r.status_code == 201 and r.json()["photo"]["thumb"] == photo["thumb"]
    inbox = (await client.get("/api/conversations", headers=world.vendor)).json()
    assert inbox[0]["last_preview"] == "📷 Photo"
    await client.patch(f"/api/stalls/{world.stall['code']}", json={"read_receipts": False}, headers=world.vendor)
    await client.post(f"/api/conversations/{conversation}/read", json={"up_to_seq": 1}, headers=world.vendor)
    seen_by_visitor = (await client.get(f"/api/conversations/{conversation}/messages", headers=world.visitor)).json()
    assert seen_by_visitor[0]["delivered_at"] is not None and seen_by_visitor[0]["read_at"] is None
    seen_by_vendor = (await client.get(f"/api/conversations/{conversation}/messages", headers=world.vendor)).json()
    assert seen_by_vendor[0]["read_at"] is not None


async def test_receipts_reach_pulls_and_vendors_find_their_stalls(client: httpx.AsyncClient, world: World) -> None:
    conversation = (await _open(client, world))["id"]
    await _send(client, world.visitor, conversation, "Hi")
    cursor = None
    while True:
        page = (
            await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor}, headers=world.visitor)
        ).json()
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    await client.post(f"/api/conversations/{conversation}/read", json={"up_to_seq": 1}, headers=world.vendor)
    page = (
        await client.post("/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor}, headers=world.visitor)
    ).json()
    messages = [c for c in page["changes"] if c["entity"] == "message"]
    assert len(messages) == 1 and messages[0]["version"] == 3 and messages[0]["data"]["read_at"] is not None
    mine = (await client.get("/api/vendors/me/stalls", headers=world.vendor)).json()
    assert [s["code"] for s in mine] == [world.stall["code"]]
    assert (await client.get("/api/vendors/me/stalls", headers=world.visitor)).status_code == 403
