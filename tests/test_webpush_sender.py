"""Web Push sender against a local push service that verifies VAPID and decrypts (tests/push_receiver.py)."""

from __future__ import annotations

import asyncio
import itertools
import json
import stat
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from webpush import WebPush
from webpush.types import WebPushSubscription

from server.webpush.client import PushSender
from server.webpush.keys import VapidKeys, load_or_create_vapid_keys
from server.webpush.messages import (
    PushPayload,
    SendStatus,
    Subscription,
    parse_retry_after,
    topic_for_tag,
    vapid_audience,
)
from tests.push_receiver import TOPIC_ALPHABET, PushReceiver, b64url_decode, b64url_encode, unused_port

SUBSCRIBER = "mailto:ops@souk.test"


@pytest.fixture
async def receiver() -> AsyncIterator[PushReceiver]:
    async with PushReceiver() as r:
        yield r


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        yield client


@pytest.fixture
def keys(tmp_path: Path) -> VapidKeys:
    return load_or_create_vapid_keys(tmp_path / "vapid")


@pytest.fixture
def sender(keys: VapidKeys, http: httpx.AsyncClient) -> PushSender:
    return PushSender(keys, SUBSCRIBER, http, require_https=False)


def payload(n: int = 0, tag: str = "conversation:42") -> PushPayload:
    return PushPayload(title=f"Stall Épices {n}", body=f"Yes, we still have saffron ({n}) ✓", url=f"/c/42#{n}", tag=tag)


def as_dict(p: PushPayload) -> dict[str, str]:
    return {"title": p.title, "body": p.body, "url": p.url, "tag": p.tag}


# -- keys -------------------------------------------------------------------------------------


def test_keys_created_once_then_reused(tmp_path: Path) -> None:
    first = load_or_create_vapid_keys(tmp_path / "data")
    second = load_or_create_vapid_keys(tmp_path / "data")
    assert first == second
    assert stat.S_IMODE(first.private_pem_path.stat().st_mode) == 0o600
    point = b64url_decode(first.public_key_b64url)
    assert len(point) == 65 and point[0] == 4  # uncompressed P-256 point
    assert "=" not in first.public_key_b64url
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["vapid_private_key.pem"]  # no temp leftovers
    assert load_or_create_vapid_keys(tmp_path / "other").public_key_b64url != first.public_key_b64url


def test_concurrent_first_runs_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: load_or_create_vapid_keys(tmp_path), range(8)))
    assert len({k.public_key_b64url for k in results}) == 1
    assert results[0].public_key_b64url == load_or_create_vapid_keys(tmp_path).public_key_b64url


def test_keys_loose_mode_tightened_and_corrupt_file_not_replaced(tmp_path: Path) -> None:
    keys = load_or_create_vapid_keys(tmp_path)
    keys.private_pem_path.chmod(0o644)
    assert load_or_create_vapid_keys(tmp_path) == keys
    assert stat.S_IMODE(keys.private_pem_path.stat().st_mode) == 0o600
    keys.private_pem_path.write_text("not a key")
    with pytest.raises(ValueError):
        load_or_create_vapid_keys(tmp_path)  # never silently regenerate: that would orphan every subscription
    assert keys.private_pem_path.read_text() == "not a key"


def test_constructor_refuses_ttl_zero_and_bad_values(keys: VapidKeys, http: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="ttl"):
        PushSender(keys, SUBSCRIBER, http, ttl=0)
    with pytest.raises(ValueError, match="urgency"):
        PushSender(keys, SUBSCRIBER, http, urgency="urgent")
    with pytest.raises(ValueError, match="subscriber"):
        PushSender(keys, "ops@souk.test", http)
    PushSender(keys, "https://souk.test/contact", http)


# -- delivery ---------------------------------------------------------------------------------


async def test_send_is_received_verified_and_decrypted(
    sender: PushSender, receiver: PushReceiver, keys: VapidKeys
) -> None:
    # Bound to our key like a browser subscription: a push signed with another key would get 403.
    subscription, _ = receiver.new_subscription(application_server_key=keys.public_key_b64url)
    sent = payload()
    result = await sender.send(subscription, sent)
    assert result.status is SendStatus.SENT, result
    assert result.http_status == 201
    [push] = receiver.received
    assert push.payload == as_dict(sent)
    assert int(push.headers["ttl"]) == 12 * 3600 > 0
    assert push.headers["urgency"] == "high"
    topic = push.headers["topic"]
    assert 0 < len(topic) <= 32 and set(topic) <= TOPIC_ALPHABET
    assert topic == topic_for_tag(sent.tag)
    assert push.headers["content-encoding"] == "aes128gcm"
    assert push.claims["aud"] == receiver.origin  # includes the port, unlike the webpush package's token
    assert push.claims["sub"] == SUBSCRIBER
    assert time.time() < push.claims["exp"] <= time.time() + 24 * 3600
    assert push.headers["authorization"].endswith(f"k={keys.public_key_b64url}")


async def test_test_can_decrypt_with_the_returned_private_key(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, private_key = receiver.new_subscription()
    prepared = sender.prepare(subscription, payload(7))
    plain = http_ece.decrypt(
        prepared.body, private_key=private_key, auth_secret=b64url_decode(subscription.auth), version="aes128gcm"
    )
    assert json.loads(plain) == as_dict(payload(7))


async def test_ttl_and_urgency_are_configurable(
    keys: VapidKeys, http: httpx.AsyncClient, receiver: PushReceiver
) -> None:
    sender = PushSender(keys, SUBSCRIBER, http, ttl=600, urgency="normal", require_https=False)
    subscription, _ = receiver.new_subscription()
    assert (await sender.send(subscription, payload())).status is SendStatus.SENT
    assert receiver.received[0].headers["ttl"] == "600"
    assert receiver.received[0].headers["urgency"] == "normal"


def test_body_is_truncated_to_a_preview() -> None:
    p = PushPayload(title="t", body="x" * 500, url="/", tag="conversation:1")
    assert len(p.body) <= 120 and p.body.endswith("…")
    assert PushPayload(title="t", body="short", url="/", tag="t").body == "short"


def test_topic_is_stable_per_tag_and_url_safe() -> None:
    a, b = topic_for_tag("conversation:1"), topic_for_tag("conversation:2")
    assert a == topic_for_tag("conversation:1") and a != b
    for tag in ("", "conversation:" + "9" * 500, "ü/+?="):
        topic = topic_for_tag(tag)
        assert 0 < len(topic) <= 32 and set(topic) <= TOPIC_ALPHABET


def test_vapid_audience_is_the_origin() -> None:
    assert vapid_audience("https://fcm.googleapis.com/fcm/send/abc") == "https://fcm.googleapis.com"
    assert vapid_audience("https://push.example:443/x") == "https://push.example"
    assert vapid_audience("https://Push.Example:8443/x") == "https://push.example:8443"
    assert vapid_audience("http://127.0.0.1:8123/push/x") == "http://127.0.0.1:8123"
    assert vapid_audience("http://[::1]:8123/push/x") == "http://[::1]:8123"
    with pytest.raises(ValueError):
        vapid_audience("ftp://example.org/x")


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    later = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(90, abs=1)
    past = format_datetime(datetime.fromtimestamp(now, UTC) - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(past, now=now) == 0


# -- response mapping -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
async def test_gone(sender: PushSender, receiver: PushReceiver, status: int) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_always(subscription, status)
    result = await sender.send_with_retries(subscription, payload(), base_delay=0.001)
    assert result.status is SendStatus.GONE and result.http_status == status
    assert len(receiver.attempts_for(subscription)) == 1  # never retried


async def test_unknown_subscription_is_gone(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    unknown = Subscription(receiver.origin + "/push/nope", subscription.p256dh, subscription.auth)
    result = await sender.send(unknown, payload())
    assert result.status is SendStatus.GONE and result.http_status == 404


async def test_413_fails_without_retry(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_always(subscription, 413)
    result = await sender.send_with_retries(subscription, payload(), base_delay=0.001)
    assert result.status is SendStatus.FAILED and result.http_status == 413
    assert len(receiver.attempts_for(subscription)) == 1


async def test_oversized_payload_fails_before_any_request(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    result = await sender.send_with_retries(subscription, PushPayload("t" * 5000, "b", "/", "x"), base_delay=0.001)
    assert result.status is SendStatus.FAILED and result.http_status is None
    assert "4096" in result.detail
    assert receiver.attempts == []


async def test_bad_subscription_keys_fail(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    broken = Subscription(subscription.endpoint, p256dh=b64url_encode(b"\x04" + b"\x01" * 64), auth=subscription.auth)
    result = await sender.send(broken, payload())
    assert result.status is SendStatus.FAILED and result.http_status is None
    assert receiver.attempts == []


async def test_http_endpoint_refused_by_default(
    keys: VapidKeys, http: httpx.AsyncClient, receiver: PushReceiver
) -> None:
    subscription, _ = receiver.new_subscription()
    result = await PushSender(keys, SUBSCRIBER, http).send(subscription, payload())
    assert result.status is SendStatus.FAILED and "https" in result.detail
    assert receiver.attempts == []


async def test_429_retry_after_is_honoured(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_next(subscription, 429, retry_after="0.3")
    result = await sender.send_with_retries(subscription, payload(), base_delay=0.001)
    assert result.status is SendStatus.SENT
    first, second = receiver.attempts_for(subscription)
    assert (first.status, second.status) == (429, 201)
    assert second.at - first.at >= 0.29  # waited Retry-After, not the 1 ms backoff
    assert receiver.received[0].payload == as_dict(payload())


async def test_single_429_reports_retry_after(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_next(subscription, 429, retry_after="7")
    result = await sender.send(subscription, payload())
    assert result.status is SendStatus.RETRY and result.http_status == 429 and result.retry_after == 7


async def test_retry_after_beyond_cap_returns_at_once(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_always(subscription, 429, retry_after="3600")
    started = time.monotonic()
    result = await sender.send_with_retries(subscription, payload(), base_delay=0.001, max_delay=60)
    assert time.monotonic() - started < 2
    assert result.status is SendStatus.RETRY and result.retry_after == 3600
    assert len(receiver.attempts_for(subscription)) == 1  # the caller re-queues it for later


async def test_500_twice_then_sent(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_next(subscription, 500, times=2)
    result = await sender.send_with_retries(subscription, payload(), base_delay=0.001)
    assert result.status is SendStatus.SENT and result.http_status == 201
    assert [a.status for a in receiver.attempts_for(subscription)] == [500, 500, 201]
    assert len(receiver.received) == 1


async def test_500_forever_gives_retry_after_all_attempts(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_always(subscription, 500)
    result = await sender.send_with_retries(subscription, payload(), attempts=3, base_delay=0.001)
    assert result.status is SendStatus.RETRY and result.http_status == 500
    assert [a.status for a in receiver.attempts_for(subscription)] == [500, 500, 500]


async def test_backoff_grows(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    receiver.respond_always(subscription, 503)
    await sender.send_with_retries(subscription, payload(), attempts=4, base_delay=0.05)
    at = [a.at for a in receiver.attempts_for(subscription)]
    gaps = [b - a for a, b in itertools.pairwise(at)]
    # base * 2**n with jitter in [0.5, 1]: 25-50 ms, 50-100 ms, 100-200 ms
    assert gaps[0] >= 0.024 and gaps[1] >= 0.049 and gaps[2] >= 0.099


async def test_connection_refused_is_retry(sender: PushSender, receiver: PushReceiver) -> None:
    subscription, _ = receiver.new_subscription()
    dead = Subscription(f"http://127.0.0.1:{unused_port()}/push/x", subscription.p256dh, subscription.auth)
    result = await sender.send(dead, payload())
    assert result.status is SendStatus.RETRY and result.http_status is None
    assert "Connect" in result.detail
    result = await sender.send_with_retries(dead, payload(), attempts=2, base_delay=0.001)
    assert result.status is SendStatus.RETRY


# -- the receiver really verifies -------------------------------------------------------------


def _tamper(token: str, segment: int, replacement: str | None = None) -> str:
    parts = token.split(".")
    if replacement is None:
        s = parts[segment]
        i = len(s) // 2
        parts[segment] = s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1 :]
    else:
        parts[segment] = replacement
    return ".".join(parts)


def _split_auth(header: str) -> tuple[str, str]:
    t_part, k_part = header.removeprefix("vapid ").split(", ")
    return t_part.removeprefix("t="), k_part.removeprefix("k=")


async def test_forged_tokens_are_refused(
    sender: PushSender, receiver: PushReceiver, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    subscription, _ = receiver.new_subscription()
    prepared = sender.prepare(subscription, payload())
    token, key = _split_auth(prepared.headers["Authorization"])

    async def post(authorization: str) -> int:
        headers = dict(prepared.headers, Authorization=authorization)
        return (await http.post(prepared.endpoint, content=prepared.body, headers=headers)).status_code

    # The untouched request is accepted, so every refusal below is due to the tampering alone.
    assert await post(f"vapid t={token}, k={key}") == 201
    assert await post(f"vapid t={_tamper(token, 2)}, k={key}") == 401  # signature bytes changed
    claims = json.loads(b64url_decode(token.split(".")[1]))
    forged = b64url_encode(json.dumps(dict(claims, aud="http://evil.example")).encode())
    assert await post(f"vapid t={_tamper(token, 1, forged)}, k={key}") == 401  # claims changed, old signature
    expired = sender.vapid_authorization(prepared.endpoint, now=time.time() - 13 * 3600)
    assert await post(expired) == 401
    other = PushSender(load_or_create_vapid_keys(tmp_path / "other"), SUBSCRIBER, http, require_https=False)
    other_token, _ = _split_auth(other.vapid_authorization(prepared.endpoint))
    assert await post(f"vapid t={other_token}, k={key}") == 401  # signed by another key, claiming ours
    assert await post("Bearer abc") == 401
    assert len(receiver.received) == 1


async def test_subscription_bound_to_another_key_is_403(
    sender: PushSender, receiver: PushReceiver, tmp_path: Path
) -> None:
    other = load_or_create_vapid_keys(tmp_path / "other")
    subscription, _ = receiver.new_subscription(application_server_key=other.public_key_b64url)
    result = await sender.send(subscription, payload())
    assert result.status is SendStatus.FAILED and result.http_status == 403


async def test_receiver_refuses_ttl_zero(sender: PushSender, receiver: PushReceiver, http: httpx.AsyncClient) -> None:
    subscription, _ = receiver.new_subscription()
    prepared = sender.prepare(subscription, payload())
    response = await http.post(prepared.endpoint, content=prepared.body, headers=dict(prepared.headers, TTL="0"))
    assert response.status_code == 400


async def test_webpush_package_token_alone_is_refused(keys: VapidKeys, receiver: PushReceiver) -> None:
    """Why the sender signs its own token: the package drops the port from `aud` and writes
    `sub` as mailto:mailto:..., and its default TTL is 0."""
    subscription, _ = receiver.new_subscription()
    private = serialization.load_pem_private_key(keys.private_pem_path.read_bytes(), password=None)
    pub = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    message = WebPush(private_key=keys.private_pem_path.read_bytes(), public_key=pub, subscriber=SUBSCRIBER).get(
        message=b"{}",
        subscription=WebPushSubscription(
            endpoint=subscription.endpoint, keys={"p256dh": subscription.p256dh, "auth": subscription.auth}
        ),
    )
    assert message.headers["ttl"] == "0"
    token, _ = _split_auth(message.headers["authorization"])
    claims = json.loads(b64url_decode(token.split(".")[1]))
    assert claims["aud"] == "http://127.0.0.1" != receiver.origin
    assert claims["sub"] == "mailto:" + SUBSCRIBER
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.post(
            subscription.endpoint, content=message.encrypted, headers=dict(message.headers, ttl="60")
        )
    assert response.status_code == 401


# -- concurrency ------------------------------------------------------------------------------


async def test_twenty_concurrent_sends_all_decrypt(sender: PushSender, receiver: PushReceiver) -> None:
    subscriptions = [receiver.new_subscription()[0] for _ in range(20)]
    payloads = [payload(i, tag=f"conversation:{i}") for i in range(20)]
    results = await asyncio.gather(*(sender.send(s, p) for s, p in zip(subscriptions, payloads, strict=True)))
    assert all(r.status is SendStatus.SENT for r in results), results
    assert len(receiver.received) == 20
    for s, p in zip(subscriptions, payloads, strict=True):
        [push] = receiver.received_for(s)
        assert push.payload == as_dict(p)
        assert push.headers["topic"] == topic_for_tag(p.tag)
