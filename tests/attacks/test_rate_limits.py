"""Finding 7: no throttling of sign-in, codes, device tokens, reports or sync pushes.

Limits follow the client address as well as the device or account, answer 429 with
Retry-After, and are checked before any costly work (a password hash) is done.
"""

from __future__ import annotations

import time
import types
import uuid

import httpx
import pytest

from server.ratelimit import (
    CODE_FAILURES_PER_ADDRESS,
    NEW_DEVICE_PER_ADDRESS,
    REPORTS_PER_REPORTER,
    SIGN_IN_FAILURES_PER_ACCOUNT,
    SIGN_IN_FAILURES_PER_ADDRESS,
    SYNC_REJECTIONS_PER_CALLER,
)
from tests.conftest import World


@pytest.fixture(autouse=True)
def clock_inside_one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows are aligned to the wall clock, so a test that straddled a boundary would see its
    counts start afresh half-way (it did, once in CI). Each test here runs at one moment 30 s
    into a day, inside one window of every rule; expiry still follows the real monotonic clock."""
    moment = (time.time() // 86400) * 86400 + 30
    monkeypatch.setattr("server.ratelimit.time", types.SimpleNamespace(time=lambda: moment, monotonic=time.monotonic))


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _is_throttled(r: httpx.Response) -> bool:
    return r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "try again" in r.json()["error"]


async def test_finding7_device_tokens_per_address(client: httpx.AsyncClient, world: World) -> None:
    answers = [
        (await client.post("/api/devices", headers=_from("203.0.113.20"))).status_code
        for _ in range(NEW_DEVICE_PER_ADDRESS.limit + 5)
    ]
    assert answers[: NEW_DEVICE_PER_ADDRESS.limit].count(201) == NEW_DEVICE_PER_ADDRESS.limit
    assert set(answers[NEW_DEVICE_PER_ADDRESS.limit :]) == {429}
    assert _is_throttled(await client.post("/api/devices", headers=_from("203.0.113.20")))
    # Another address is not affected.
    assert (await client.post("/api/devices", headers=_from("203.0.113.21"))).status_code == 201


async def test_finding7_sign_in_locks_per_account_then_lets_the_right_password_in_later(
    client: httpx.AsyncClient, world: World
) -> None:
    wrong = {"email": "org@example.org", "password": "wrong password"}
    for n in range(SIGN_IN_FAILURES_PER_ACCOUNT.limit):
        # Each guess from a new address: the per-account limit must hold on its own.
        r = await client.post("/api/auth/login", json=wrong, headers=_from(f"198.51.100.{n + 1}"))
        assert r.status_code == 401
    right = {"email": "org@example.org", "password": "correct horse"}
    r = await client.post("/api/auth/login", json=right, headers=_from("198.51.100.200"))
    assert _is_throttled(r), r.text
    # Other accounts sign in as usual.
    other = {"email": "other-org@example.org", "password": "correct horse"}
    assert (await client.post("/api/auth/login", json=other, headers=_from("198.51.100.201"))).status_code == 201


async def test_finding7_sign_in_guesses_per_address_across_accounts(client: httpx.AsyncClient, world: World) -> None:
    for n in range(SIGN_IN_FAILURES_PER_ADDRESS.limit):
        body = {"email": f"nobody{n}@example.org", "password": "guess-guess"}
        assert (await client.post("/api/auth/login", json=body, headers=_from("203.0.113.30"))).status_code == 401
    right = {"email": "org@example.org", "password": "correct horse"}
    assert _is_throttled(await client.post("/api/auth/login", json=right, headers=_from("203.0.113.30")))
    assert (await client.post("/api/auth/login", json=right, headers=_from("203.0.113.31"))).status_code == 201


async def test_finding7_a_bogus_invite_code_is_refused_before_any_password_hash(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.auth import passwords
    from server.domain import accounts

    hashed: list[str] = []

    def counting(password: str) -> str:
        hashed.append(password)
        return passwords.hash_password(password)

    monkeypatch.setattr(accounts, "hash_password", counting)
    body = {
        "invite_code": "NOPE-NOPE",
        "email": "guess@example.org",
        "password": "long enough",
        "display_name": "G",
        "stall": {"name": "S", "store_tag": "#Guess"},
    }
    for _ in range(CODE_FAILURES_PER_ADDRESS.limit):
        assert (await client.post("/api/vendors/join", json=body, headers=_from("203.0.113.40"))).status_code == 404
    assert _is_throttled(await client.post("/api/vendors/join", json=body, headers=_from("203.0.113.40")))
    assert hashed == []


async def test_finding7_resume_code_guesses_per_address(client: httpx.AsyncClient, world: World) -> None:
    real = (await client.post("/api/devices/resume-code", headers=world.visitor)).json()["code"]
    for n in range(CODE_FAILURES_PER_ADDRESS.limit):
        r = await client.post("/api/devices/resume", json={"code": f"AAAA{n:06d}"}, headers=_from("203.0.113.50"))
        assert r.status_code == 404
    assert _is_throttled(await client.post("/api/devices/resume", json={"code": real}, headers=_from("203.0.113.50")))
    assert (
        await client.post("/api/devices/resume", json={"code": real}, headers=_from("203.0.113.51"))
    ).status_code == 201


async def test_finding7_reports_per_reporter(client: httpx.AsyncClient, world: World) -> None:
    sent = await client.post(
        f"/api/conversations/{uuid.uuid4()}/messages",
        json={"message_id": str(uuid.uuid4()), "body": "hello", "stall_code": world.stall["code"]},
        headers=world.visitor,
    )
    message = sent.json()["id"]
    answers = [
        (await client.post(f"/api/messages/{message}/report", json={"reason": "x"}, headers=world.vendor)).status_code
        for _ in range(REPORTS_PER_REPORTER.limit + 1)
    ]
    assert answers[:-1] == [201] * REPORTS_PER_REPORTER.limit and answers[-1] == 429


async def test_finding7_refused_sync_mutations_per_caller(client: httpx.AsyncClient, world: World) -> None:
    """A script pushing mutations that can only be refused stops filling the bookkeeping table."""
    from server.tables import MutationResult

    client_id = str(uuid.uuid4())
    next_id, answers = 1, []
    for _ in range(SYNC_REJECTIONS_PER_CALLER.limit // 100 + 2):
        batch = [{"id": next_id + i, "name": "no_such_mutation", "args": {}} for i in range(100)]
        r = await client.post(
            "/api/sync/push", json={"client_id": client_id, "mutations": batch}, headers=world.visitor
        )
        answers.append(r.status_code)
        if r.status_code == 200:
            next_id += 100
    assert answers.count(200) == SYNC_REJECTIONS_PER_CALLER.limit // 100 and answers[-1] == 429
    assert await MutationResult.count() == SYNC_REJECTIONS_PER_CALLER.limit


async def test_finding7_limits_are_shared_through_redis_between_processes() -> None:
    """Two processes (two limiters on one Redis) count together, so scale-out does not multiply limits."""
    from server.domain.errors import TooManyRequests
    from server.ratelimit import Rule, build_rate_limiter

    rule = Rule(f"test-{uuid.uuid4().hex[:8]}", 3, 60, "tries")
    first = build_rate_limiter("redis://127.0.0.1:6379/0", 1.0)
    second = build_rate_limiter("redis://127.0.0.1:6379/0", 1.0)
    try:
        await first.hit(rule, "k")
        await second.hit(rule, "k")
        await first.hit(rule, "k")
        try:
            await second.hit(rule, "k")
        except TooManyRequests as exc:
            assert int(exc.headers["Retry-After"]) <= 60
        else:
            raise AssertionError("the fourth hit across two processes was allowed")
    finally:
        await first.close()
        await second.close()


async def test_finding2_uploads_per_device_and_per_address(client: httpx.AsyncClient, world: World) -> None:
    """Upload floods stop at the device's limit, and a fresh device from the same address does not
    get a fresh allowance beyond the address's."""
    import io

    from PIL import Image

    from server.ratelimit import UPLOADS_PER_ADDRESS, UPLOADS_PER_CALLER

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(buffer, "JPEG")
    files = {"file": ("a.jpg", buffer.getvalue(), "image/jpeg")}
    answers = [
        (await client.post("/api/photos", files=files, headers={**world.visitor, **_from("203.0.113.60")})).status_code
        for _ in range(UPLOADS_PER_CALLER.limit + 1)
    ]
    assert answers[:-1] == [201] * UPLOADS_PER_CALLER.limit and answers[-1] == 429
    used = UPLOADS_PER_CALLER.limit + 1
    while used < UPLOADS_PER_ADDRESS.limit:  # other devices behind the same address
        device = {
            "Authorization": "Bearer "
            + (await client.post("/api/devices", headers=_from("203.0.113.61"))).json()["token"]
        }
        for _ in range(min(UPLOADS_PER_CALLER.limit, UPLOADS_PER_ADDRESS.limit - used)):
            r = await client.post("/api/photos", files=files, headers={**device, **_from("203.0.113.60")})
            assert r.status_code == 201, r.text
            used += 1
    r = await client.post("/api/photos", files=files, headers={**world.vendor, **_from("203.0.113.60")})
    assert _is_throttled(r)
    assert (
        await client.post("/api/photos", files=files, headers={**world.vendor, **_from("203.0.113.62")})
    ).status_code == 201
