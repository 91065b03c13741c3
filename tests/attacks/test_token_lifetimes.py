"""Token lifetimes (security finding 12): a visitor token lapses after SOUK_VISITOR_IDLE_DAYS
without use and records its use at most hourly; spending a resume code moves the identity (the
old browser's token stops working); kiosk tokens can be listed and revoked by their organizer.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets

from server.auth.tokens import hash_token
from server.domain.actors import actor_for_token
from server.settings import Settings
from server.tables import AuthToken, KioskToken
from tests.conftest import EVENT_BODY, World, bearer, start_server


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def _set_use(token: str, *, last_used: datetime | None, created: datetime | None = None) -> None:
    """Move a token's recorded use back in time, straight in the database."""
    changes: dict[Any, Any] = {AuthToken.last_used_at: last_used}
    if created is not None:
        changes[AuthToken.created_at] = created
    await AuthToken.update(changes).where(AuthToken.token_hash == hash_token(token))


async def _last_used(token: str) -> datetime | None:
    row = await AuthToken.select(AuthToken.last_used_at).where(AuthToken.token_hash == hash_token(token)).first()
    assert row is not None, "the token row is gone"
    value: datetime | None = row["last_used_at"]
    return None if value is None else value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def test_an_idle_visitor_token_is_refused(client: httpx.AsyncClient, world: World) -> None:
    token = _token(world.visitor)
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 200
    await _set_use(token, last_used=_ago(days=59))  # the default limit is 60 days
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 200
    await _set_use(token, last_used=_ago(days=61))
    refused = await client.get("/api/conversations", headers=world.visitor)
    assert refused.status_code == 401
    assert refused.json()["error"] == "This token is unknown or expired; sign in again"
    # Never refreshed: then its creation is its last use.
    await _set_use(token, last_used=None, created=_ago(days=61))
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 401
    # The PWA's way back: a new device token works at once.
    fresh = bearer((await client.post("/api/devices")).json()["token"])
    assert (await client.get("/api/conversations", headers=fresh)).status_code == 200


async def test_the_idle_limit_is_a_parameter_and_accounts_keep_their_own_expiry(
    client: httpx.AsyncClient, world: World
) -> None:
    token = _token(world.visitor)
    await _set_use(token, last_used=_ago(days=2))
    assert await actor_for_token(token, idle=timedelta(days=1)) is None
    assert await actor_for_token(token, idle=timedelta(days=3)) is not None
    # A vendor's sign-in token ends at its expires_at, not after idleness.
    vendor = _token(world.vendor)
    await _set_use(vendor, last_used=None, created=_ago(days=400))
    assert (await client.get("/api/vendors/me/stalls", headers=world.vendor)).status_code == 200
    assert await _last_used(vendor) is None, "account tokens are not touched on every use"


async def test_an_active_token_is_refreshed_at_most_hourly(client: httpx.AsyncClient, world: World) -> None:
    token = _token(world.visitor)
    # Created just now: using it writes nothing (its creation time counts as its last use).
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 200
    assert await _last_used(token) is None
    # Last used two hours ago: the next request records the use, once.
    await _set_use(token, last_used=_ago(hours=2))
    before = datetime.now(UTC)
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 200
    first = await _last_used(token)
    assert first is not None and first >= before - timedelta(seconds=1)
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 200
    assert (await client.post("/api/sync/pull", json={"event": "ripe-jan"}, headers=world.visitor)).status_code == 200
    assert await _last_used(token) == first, "a second use within the hour wrote again"
    # Fifty-nine minutes later: still no write.
    await _set_use(token, last_used=_ago(minutes=59))
    stale = await _last_used(token)
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 200
    assert await _last_used(token) == stale


async def test_resuming_signs_the_old_browser_out(client: httpx.AsyncClient, world: World) -> None:
    opened = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    assert opened.status_code == 201, opened.text
    bystander = bearer((await client.post("/api/devices")).json()["token"])
    code = (await client.post("/api/devices/resume-code", headers=world.visitor)).json()["code"]
    resumed = await client.post("/api/devices/resume", json={"code": code})
    assert resumed.status_code == 201, resumed.text
    new_browser = bearer(resumed.json()["token"])

    old = await client.get("/api/conversations", headers=world.visitor)
    assert old.status_code == 401, "the old browser's token still works after a resume"
    mine = await client.get("/api/conversations", headers=new_browser)
    assert mine.status_code == 200 and [c["id"] for c in mine.json()] == [opened.json()["id"]]
    assert (await client.get("/api/conversations", headers=bystander)).status_code == 200  # other devices untouched
    assert await AuthToken.count().where(AuthToken.device == resumed.json()["device_id"]) == 1
    # The code stays single-use: a second spender gets nothing and revokes nothing.
    assert (await client.post("/api/devices/resume", json={"code": code})).status_code == 409
    assert (await client.get("/api/conversations", headers=new_browser)).status_code == 200


async def test_resuming_twice_in_the_same_instant_leaves_one_working_token(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await client.post("/api/devices/resume-code", headers=world.visitor)).json()["code"]
    answers = await asyncio.gather(*(client.post("/api/devices/resume", json={"code": code}) for _ in range(3)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 201)
    assert (await client.get("/api/conversations", headers=bearer(winner.json()["token"]))).status_code == 200
    assert (await client.get("/api/conversations", headers=world.visitor)).status_code == 401


async def _kiosk(client: httpx.AsyncClient, headers: dict[str, str], label: str, slug: str = "ripe-jan") -> str:
    r = await client.post(f"/api/events/{slug}/kiosk-tokens", json={"label": label}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def test_kiosk_tokens_are_listed_and_revoked(client: httpx.AsyncClient, world: World) -> None:
    north = await _kiosk(client, world.organizer, "North gate")
    south = await _kiosk(client, world.organizer, "South gate")
    listed = await client.get("/api/events/ripe-jan/kiosk-tokens", headers=world.organizer)
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert [r["label"] for r in rows] == ["North gate", "South gate"]
    assert all(set(r) == {"id", "label", "created_at"} for r in rows)
    assert north not in listed.text and south not in listed.text
    assert hash_token(north) not in listed.text, "the id is a prefix of the hash, not the whole hash"
    assert all(len(r["id"]) == 16 for r in rows)
    north_id = rows[0]["id"]

    assert (await client.get("/api/kiosk/ripe-jan", headers={"token": north})).status_code == 200
    revoked = await client.delete(f"/api/events/ripe-jan/kiosk-tokens/{north_id}", headers=world.organizer)
    assert revoked.status_code == 204, revoked.text
    gone = await client.get("/api/kiosk/ripe-jan", headers={"token": north})
    assert gone.status_code == 401 and gone.json()["error"] == "Unknown kiosk token"
    assert (await client.get("/api/kiosk/ripe-jan", headers={"token": south})).status_code == 200
    again = await client.get("/api/events/ripe-jan/kiosk-tokens", headers=world.organizer)
    assert [r["label"] for r in again.json()] == ["South gate"]

    # Unknown, already revoked, or not an id at all: 404, and nothing else is deleted.
    for token_id in (north_id, "0" * 16, "zz", "%", north_id[:8], north_id.upper() + "0"):
        r = await client.delete(f"/api/events/ripe-jan/kiosk-tokens/{token_id}", headers=world.organizer)
        assert r.status_code == 404, (token_id, r.text)
    assert await KioskToken.count() == 1


async def test_only_the_events_organizer_lists_or_revokes_its_kiosk_tokens(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await _kiosk(client, world.organizer, "Entrance")
    token_id = (await client.get("/api/events/ripe-jan/kiosk-tokens", headers=world.organizer)).json()[0]["id"]
    path = f"/api/events/ripe-jan/kiosk-tokens/{token_id}"
    for headers, status in (({}, 401), (world.visitor, 403), (world.vendor, 403), (world.other_organizer, 403)):
        assert (await client.get("/api/events/ripe-jan/kiosk-tokens", headers=headers)).status_code == status
        assert (await client.delete(path, headers=headers)).status_code == status
    assert (await client.get("/api/kiosk/ripe-jan", headers={"token": token})).status_code == 200

    # The other organizer's own event cannot reach this event's token by its id either.
    assert (
        await client.post("/api/events", json={**EVENT_BODY, "slug": "other-fair"}, headers=world.other_organizer)
    ).status_code == 201
    theirs = await _kiosk(client, world.other_organizer, "Their gate", "other-fair")
    elsewhere = await client.delete(f"/api/events/other-fair/kiosk-tokens/{token_id}", headers=world.other_organizer)
    assert elsewhere.status_code == 404
    assert (await client.get("/api/kiosk/ripe-jan", headers={"token": token})).status_code == 200
    their_id = (await client.get("/api/events/other-fair/kiosk-tokens", headers=world.other_organizer)).json()[0]["id"]
    mine = await client.delete(f"/api/events/ripe-jan/kiosk-tokens/{their_id}", headers=world.organizer)
    assert mine.status_code == 404
    assert (await client.get("/api/kiosk/other-fair", headers={"token": theirs})).status_code == 200


async def test_the_idle_setting_reaches_requests_and_the_live_socket(db: Settings) -> None:
    """A real `souk serve` with SOUK_VISITOR_IDLE_DAYS=1: HTTP and /api/live both refuse."""
    process, base = start_server(db, SOUK_VISITOR_IDLE_DAYS="1")
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            token = (await http.post("/api/devices")).json()["token"]
            await _set_use(token, last_used=_ago(hours=20))
            assert (await http.get("/api/conversations", headers=bearer(token))).status_code == 200
            await _set_use(token, last_used=_ago(hours=25))
            assert (await http.get("/api/conversations", headers=bearer(token))).status_code == 401
        async with websockets.connect(base.replace("http", "ws", 1) + "/api/live") as connection:
            await connection.send(json.dumps({"type": "auth", "token": token}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(connection.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_an_open_socket_of_a_resumed_device_ends_at_its_next_ping(live_server: str) -> None:
    """A socket authenticated before the resume does not keep streaming the visitor's messages."""
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        old = (await http.post("/api/devices")).json()["token"]
        async with websockets.connect(live_server.replace("http", "ws", 1) + "/api/live") as connection:
            await connection.send(json.dumps({"type": "auth", "token": old}))
            assert json.loads(await asyncio.wait_for(connection.recv(), 5))["type"] == "ready"
            await connection.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(connection.recv(), 5))["type"] == "pong"
            code = (await http.post("/api/devices/resume-code", headers=bearer(old))).json()["code"]
            assert (await http.post("/api/devices/resume", json={"code": code})).status_code == 201
            await connection.send(json.dumps({"type": "ping"}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(connection.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
