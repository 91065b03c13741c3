"""The Web Push client: encrypt, VAPID-sign and send notifications (chat replies) to browsers.

The `webpush` package only *builds* a message; this module adds what it leaves out:

* It encrypts the payload (aes128gcm, RFC 8291) with `webpush.WebPush.get()`, but the VAPID
  token (RFC 8292) is signed here, because the package's token is wrong in two ways: its `aud`
  drops the port (`http://127.0.0.1:8123/...` gives `http://127.0.0.1`), and it always prefixes
  `sub` with `mailto:` (`mailto:mailto:ops@...`, and no way to give an https URL).
* Its default TTL is 0, which tells the push service "deliver now or drop it": a phone that is
  asleep or between cell towers at that instant never gets the reply. We always send TTL > 0.
* Passing `ttl` or `subscriber` to `WebPush.get()` overwrites them on the shared instance, so we
  fix them once at construction and never pass them per call: `send()` is safe to run concurrently.
* It sets no `Urgency` or `Topic` header and interprets no response. `send()` maps responses to
  `SendStatus`; `send_with_retries()` backs off on 429/5xx/network errors.
* Endpoints come from untrusted clients, so they are a server-side request forgery risk: every
  endpoint is re-checked by `server.webpush.endpoints.check_endpoint` before each send, and the caller's
  client should be `server.webpush.transport.push_http_client()`, whose connections only ever reach
  public addresses (checked after resolving, connected to the checked address). A refused
  endpoint is a FAILED result with `forbidden=True`: it can never work, delete it like GONE.
  Redirects are never followed, and at most `MAX_RESPONSE_BYTES` of an answer are read.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from webpush import WebPush
from webpush.types import WebPushSubscription

from server.webpush.endpoints import ForbiddenEndpoint, check_endpoint
from server.webpush.keys import VapidKeys, application_server_key, b64url, load_private_key
from server.webpush.messages import (
    PreparedPush,
    PushPayload,
    SendResult,
    SendStatus,
    Subscription,
    classify,
    topic_for_tag,
    vapid_audience,
)

# RFC 8030 section 7.2: push services must accept at least 4096 bytes of encrypted payload.
MAX_ENCRYPTED_BYTES: Final = 4096
URGENCIES: Final = frozenset({"very-low", "low", "normal", "high"})
# RFC 8292 section 2: the token's `exp` must be no more than 24 hours away.
JWT_LIFETIME_SECONDS: Final = 12 * 3600
# A push service answers with a few bytes of status text; an endpoint that streams more is not one.
MAX_RESPONSE_BYTES: Final = 16 * 1024
# Whole-request bound: httpx's timeout is per read, so a slow drip could hold a send forever.
SEND_DEADLINE_SECONDS: Final = 60.0


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of the body, undecoded (no decompression bomb), then stop reading."""
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


class PushSender:
    """Sends encrypted, VAPID-signed pushes with an `httpx.AsyncClient` owned by the caller.

    `subscriber` is the contact in the VAPID `sub` claim: "mailto:ops@example.org" or an https URL.
    Push services use it to reach the operator before blocking them.

    `ttl` is how long (seconds) the push service keeps a message for a device that is offline. It
    is never 0: 0 means "drop unless the device is reachable right now", and phones at a busy
    event often are not. The default (12 h) covers a day at the event; a chat reply older than that
    is no longer worth a buzz.

    `urgency` (RFC 8030 section 5.3) tells the device whether to wake up for the message; chat
    replies are "high", since the visitor is waiting for an answer.

    `require_https` refuses plain-http endpoints. Endpoints come from browsers, i.e. from untrusted
    clients: keep it on in production. Turning it off (SOUK_PUSH_ALLOW_HTTP, tests against a local
    receiver) also lets endpoints name loopback hosts on any port, and nothing more (see
    `server.webpush.endpoints.check_endpoint`). `http` should come from `push_http_client()`, which
    re-checks every address it connects to; give it the same `allow_loopback=not require_https`.
    """

    def __init__(
        self,
        keys: VapidKeys,
        subscriber: str,
        http: httpx.AsyncClient,
        *,
        ttl: int = 12 * 3600,
        urgency: str = "high",
        require_https: bool = True,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be > 0: a TTL of 0 makes push services drop messages for sleeping devices")
        if urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {sorted(URGENCIES)}")
        if not (subscriber.startswith("mailto:") or subscriber.startswith("https://")):
            raise ValueError("subscriber must be a mailto: or https:// URI (VAPID `sub` claim)")
        self.keys = keys
        self.subscriber = subscriber
        self.http = http
        self.ttl = ttl
        self.urgency = urgency
        self.require_https = require_https
        self._private_key = load_private_key(keys.private_pem_path)
        if application_server_key(self._private_key) != keys.public_key_b64url:
            raise ValueError("VapidKeys.public_key_b64url does not match the private key")
        public_pem = self._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Used only to encrypt. ttl/subscriber are fixed here and never passed to get(), which would
        # overwrite them on this shared instance. Its Authorization header is discarded (see module
        # docstring); the subscriber given to it is only there because get() insists on one.
        self._webpush: Any = WebPush(
            private_key=keys.private_pem_path.read_bytes(),
            public_key=public_pem,
            subscriber=subscriber.removeprefix("mailto:"),
            ttl=ttl,
        )

    # -- building -------------------------------------------------------------------------------

    def vapid_authorization(self, endpoint: str, *, now: float | None = None) -> str:
        """`Authorization: vapid t=<ES256 JWT>, k=<applicationServerKey>` (RFC 8292)."""
        issued = int(time.time() if now is None else now)
        header = {"typ": "JWT", "alg": "ES256"}
        claims = {"aud": vapid_audience(endpoint), "exp": issued + JWT_LIFETIME_SECONDS, "sub": self.subscriber}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        ).encode("ascii")
        der = self._private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants raw r||s, not DER
        token = signing_input.decode("ascii") + "." + b64url(signature)
        return f"vapid t={token}, k={self.keys.public_key_b64url}"

    def prepare(self, subscription: Subscription, payload: PushPayload) -> PreparedPush:
        """Encrypt and sign one message. Pure computation on per-call objects, safe concurrently.
        Raises ValueError for an unusable subscription or an oversized payload; ForbiddenEndpoint
        (a ValueError) when the endpoint is not somewhere we may send at all."""
        check_endpoint(subscription.endpoint, allow_http=not self.require_https)
        vapid_audience(subscription.endpoint)  # validates the URL
        try:
            sub = WebPushSubscription(
                endpoint=subscription.endpoint,
                keys={"p256dh": subscription.p256dh, "auth": subscription.auth},
            )
            message = self._webpush.get(message=payload.to_json_bytes(), subscription=sub)
        except Exception as exc:  # bad base64, not a point on the curve, invalid URL...
            raise ValueError(f"cannot encrypt for this subscription: {exc}") from exc
        body = bytes(message.encrypted)
        if len(body) > MAX_ENCRYPTED_BYTES:
            raise ValueError(f"encrypted payload is {len(body)} bytes, over the {MAX_ENCRYPTED_BYTES} byte limit")
        headers = {
            "Authorization": self.vapid_authorization(subscription.endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self.ttl),
            "Urgency": self.urgency,
            "Topic": topic_for_tag(payload.tag),
        }
        return PreparedPush(endpoint=subscription.endpoint, headers=headers, body=body)

    # -- sending --------------------------------------------------------------------------------

    async def send(self, subscription: Subscription, payload: PushPayload) -> SendResult:
        """One attempt. Never raises for push-service or network trouble: the outcome is in the
        result (GONE means delete the subscription; RETRY means try later; FAILED means don't, and
        FAILED with `forbidden` means delete it too: the endpoint is refused by the endpoint guard)."""
        try:
            prepared = self.prepare(subscription, payload)
        except ForbiddenEndpoint as exc:
            return SendResult(SendStatus.FAILED, None, None, str(exc), forbidden=True)
        except ValueError as exc:
            return SendResult(SendStatus.FAILED, None, None, str(exc))
        try:
            async with asyncio.timeout(SEND_DEADLINE_SECONDS):
                async with self.http.stream(
                    "POST",
                    prepared.endpoint,
                    content=prepared.body,
                    headers={**prepared.headers, "Accept-Encoding": "identity"},  # read raw, below
                    follow_redirects=False,  # push services never redirect; a hop would skip the checks
                ) as response:
                    body = await _read_capped(response, MAX_RESPONSE_BYTES)
        except ForbiddenEndpoint as exc:  # from transport.GuardedBackend, at connect time
            return SendResult(SendStatus.FAILED, None, None, str(exc), forbidden=True)
        except httpx.TransportError as exc:  # refused, reset, DNS, timeouts...
            return SendResult(SendStatus.RETRY, None, None, f"{type(exc).__name__}: {exc}")
        except TimeoutError:
            return SendResult(SendStatus.RETRY, None, None, f"no complete answer within {SEND_DEADLINE_SECONDS:g} s")
        return classify(response, body)

    async def send_with_retries(
        self,
        subscription: Subscription,
        payload: PushPayload,
        *,
        attempts: int = 4,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
    ) -> SendResult:
        """Send, retrying RETRY results up to `attempts` tries in all.

        Waits Retry-After when the service gives one, else base_delay * 2**n with jitter (so many
        senders throttled at once do not come back in lockstep), at most `max_delay`. If the
        service asks for a longer wait than `max_delay`, we return that RETRY result at once
        rather than retry early (which would only be throttled again) or block the caller: its
        `retry_after` says when the caller may re-queue it.
        """
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        result = await self.send(subscription, payload)
        for attempt in range(1, attempts):
            if result.status is not SendStatus.RETRY:
                return result
            if result.retry_after is not None:
                if result.retry_after > max_delay:
                    return result
                delay = result.retry_after
            else:
                backoff = min(max_delay, base_delay * 2 ** (attempt - 1))
                delay = backoff * random.uniform(0.5, 1.0)
            await asyncio.sleep(delay)
            result = await self.send(subscription, payload)
        return result
