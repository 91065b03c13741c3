"""A message to someone with no open socket becomes a Web Push, checked by a local push
service that verifies the VAPID signature and decrypts the payload like a real one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from server.settings import Settings
from server.tables import Presence, PushSubscriptionRow
from tests.conftest import World, running_app
from tests.push_receiver import PushReceiver


@pytest.fixture
async def app(db: Settings) -> AsyncIterator[Litestar]:
    """This module's app accepts plain-http endpoints: the receiver listens on 127.0.0.1."""
    async with running_app(db.with_changes(push_allow_http=True)) as application:
        yield application


@pytest.fixture
async def receiver() -> AsyncIterator[PushReceiver]:
    async with PushReceiver() as push_service:
        yield push_service


async def _subscribe(client: httpx.AsyncClient, headers: dict[str, str], receiver: PushReceiver) -> Any:
    key = (await client.get("/api/push/key")).json()["public_key"]
    subscription, _ = receiver.new_subscription(application_server_key=key)
    body = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    r = await client.post("/api/push/subscriptions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return subscription


async def _conversation(client: httpx.AsyncClient, world: World) -> str:
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    return str(r.json()["id"])


async def _say(client: httpx.AsyncClient, headers: dict[str, str], conversation: str, body: str) -> None:
    r = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": str(uuid.uuid4()), "body": body},
        headers=headers,
    )
    assert r.status_code == 201, r.text


async def test_reply_to_an_offline_visitor_is_pushed(
    client: httpx.AsyncClient, app: Litestar, world: World, receiver: PushReceiver
) -> None:
    subscription = await _subscribe(client, world.visitor, receiver)
    conversation = await _conversation(client, world)
    await _say(client, world.vendor, conversation, "Yes! I kept the last jar of honey for you.")
    await app.state.notifier.catch_up()
    await app.state.notifier.drain()
    received = receiver.received_for(subscription)
    assert len(received) == 1
    push = received[0]
    assert push.payload["title"] == "Stall 1"
    assert push.payload["body"].startswith("Yes! I kept the last jar")
    assert push.payload["url"].endswith(f"/conversations/{conversation}")
    assert int(push.headers["ttl"]) > 0 and push.headers["urgency"] == "high"
    assert push.claims["aud"] == receiver.origin


async def test_vendor_gets_pushed_for_visitor_messages_and_no_push_when_online(
    client: httpx.AsyncClient, app: Litestar, world: World, receiver: PushReceiver
) -> None:
    vendor_sub = await _subscribe(client, world.vendor, receiver)
    conversation = await _conversation(client, world)
    await _say(client, world.visitor, conversation, "Do you take cards?")
    await app.state.notifier.catch_up()
    await app.state.notifier.drain()
    assert [p.payload["title"] for p in receiver.received_for(vendor_sub)] == ["New message for Stall 1"]
    # With an open socket the vendor already has it: no push.
    me = (await client.get("/api/auth/me", headers=world.vendor)).json()
    await Presence.insert(Presence(who=f"account:{me['account_id']}", sockets=1, seen_at=datetime.now(UTC)))
    await _say(client, world.visitor, conversation, "Hello?")
    await app.state.notifier.catch_up()
    await app.state.notifier.drain()
    assert len(receiver.received_for(vendor_sub)) == 1


async def test_gone_subscriptions_are_removed(
    client: httpx.AsyncClient, app: Litestar, world: World, receiver: PushReceiver
) -> None:
    subscription = await _subscribe(client, world.visitor, receiver)
    receiver.respond_always(subscription, 410)
    conversation = await _conversation(client, world)
    await _say(client, world.vendor, conversation, "Hi")
    await app.state.notifier.catch_up()
    await app.state.notifier.drain()
    assert not await PushSubscriptionRow.exists().where(PushSubscriptionRow.endpoint == subscription.endpoint)


async def test_bad_subscriptions_are_422(client: httpx.AsyncClient, world: World) -> None:
    bad = [
        {"endpoint": "ftp://push.example.org/x", "keys": {"p256dh": "B" * 87, "auth": "a" * 22}},
        {"endpoint": "https://push.example.org/x", "keys": {"p256dh": "short", "auth": "a" * 22}},
        {"endpoint": "https://push.example.org/x"},
    ]
    for body in bad:
        r = await client.post("/api/push/subscriptions", json=body, headers=world.visitor)
        assert r.status_code == 422, r.text
    r = await client.post("/api/push/subscriptions", json=bad[0])
    assert r.status_code in (401, 422)


async def test_unsubscribe_stops_pushes(
    client: httpx.AsyncClient, app: Litestar, world: World, receiver: PushReceiver
) -> None:
    subscription = await _subscribe(client, world.visitor, receiver)
    r = await client.post("/api/push/unsubscribe", json={"endpoint": subscription.endpoint}, headers=world.vendor)
    assert r.status_code == 204  # not the vendor's: nothing removed
    assert await PushSubscriptionRow.exists().where(PushSubscriptionRow.endpoint == subscription.endpoint)
    r = await client.post("/api/push/unsubscribe", json={"endpoint": subscription.endpoint}, headers=world.visitor)
    assert r.status_code == 204
    conversation = await _conversation(client, world)
    await _say(client, world.vendor, conversation, "Hi")
    await app.state.notifier.catch_up()
    await app.state.notifier.drain()
    assert receiver.received_for(subscription) == []


async def test_an_existing_databases_notifier_cursor_keeps_its_place(db: Settings) -> None:
    """The notifier's change-log cursor was named "push" (a word sync uses too); the migration that renames
    it carries its position over, so an upgraded market neither re-sends old nudges nor stalls compaction."""
    from server.database import build_engine, start_engine, stop_engine
    from server.migrate import migrate
    from server.notify import WebPushNotifier
    from server.tables import LogCursor

    engine = build_engine(db)
    await start_engine(engine)
    try:
        await migrate(engine)
        await LogCursor.insert(LogCursor(name="search", seq=9), LogCursor(name="push", seq=7))
        await engine.run_ddl("DELETE FROM migration WHERE name = '2026-12-02T13:45:00:000000'")  # as before it
        await migrate(engine)
        cursors = {row["name"]: row["seq"] for row in await LogCursor.select(LogCursor.name, LogCursor.seq)}
        assert cursors == {"search": 9, WebPushNotifier.name: 7}
        assert WebPushNotifier.name == "webpush"
    finally:
        await stop_engine(engine)
