"""Send Web Push notifications (chat replies) to browsers.

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
  endpoint is re-checked by `server.push_guard.check_endpoint` before each send, and the caller's
  client should be `server.push_guard.push_http_client()`, whose connections only ever reach
  public addresses (checked after resolving, connected to the checked address). A refused
  endpoint is a FAILED result with `forbidden=True`: it can never work, delete it like GONE.
  Redirects are never followed, and at most `MAX_RESPONSE_BYTES` of an answer are read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import enum
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from webpush import WebPush
from webpush.types import WebPushSubscription
from webpush.vapid import VAPID

from server.push_guard import ForbiddenEndpoint, check_endpoint

__all__ = [
    "MAX_ENCRYPTED_BYTES",
    "PreparedPush",
    "PushPayload",
    "PushSender",
    "SendResult",
    "SendStatus",
    "Subscription",
    "VapidKeys",
    "load_or_create_vapid_keys",
    "parse_retry_after",
    "topic_for_tag",
    "vapid_audience",
]

PRIVATE_KEY_FILE: Final = "vapid_private_key.pem"
# RFC 8030 section 7.2: push services must accept at least 4096 bytes of encrypted payload.
MAX_ENCRYPTED_BYTES: Final = 4096
BODY_PREVIEW_CHARS: Final = 120
URGENCIES: Final = frozenset({"very-low", "low", "normal", "high"})
# RFC 8292 section 2: the token's `exp` must be no more than 24 hours away.
JWT_LIFETIME_SECONDS: Final = 12 * 3600
MAX_DETAIL_CHARS: Final = 300
# A push service answers with a few bytes of status text; an endpoint that streams more is not one.
MAX_RESPONSE_BYTES: Final = 16 * 1024
# Whole-request bound: httpx's timeout is per read, so a slow drip could hold a send forever.
SEND_DEADLINE_SECONDS: Final = 60.0


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------------------------
# VAPID keys
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VapidKeys:
    """The server's VAPID identity.

    Browsers bind each subscription to the `applicationServerKey` given to
    `pushManager.subscribe()`; pushes signed with any other key are refused (401/403). So the key
    must survive restarts: losing it silently orphans every stored subscription.
    """

    private_pem_path: Path
    public_key_b64url: str  # uncompressed P-256 point, base64url without padding (applicationServerKey)


def _load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} does not hold a P-256 private key (VAPID needs ES256)")
    return key


def _application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(point)


def load_or_create_vapid_keys(data_dir: Path) -> VapidKeys:
    """Return the VAPID key pair kept in `data_dir`, generating it on first run.

    The private key is written with mode 0600 to a temporary file and then hard-linked into
    place: the link either creates the final name or fails because it exists, so a reader never
    sees a half-written key, and two processes starting together agree on a single key (the loser
    of the race reads the winner's). A key file that exists but cannot be read is an error, never
    a reason to generate a new key, which would orphan every subscription.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PRIVATE_KEY_FILE
    if not path.exists():
        private_pem, _public_pem, _server_key = VAPID.generate_keys()
        _create_exclusively(path, bytes(private_pem))
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # tighten a key that was copied in with loose permissions
    return VapidKeys(private_pem_path=path, public_key_b64url=_application_server_key(_load_private_key(path)))


def _create_exclusively(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
        except OSError:
            # Filesystems without hard links: rename is still atomic, but last writer wins.
            if not path.exists():
                os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """A browser's push subscription, as `PushSubscription.toJSON()` gives it."""

    endpoint: str
    p256dh: str  # base64url P-256 public key of the browser
    auth: str  # base64url 16-byte authentication secret


@dataclass(frozen=True)
class PushPayload:
    """What the service worker shows. The body is cut to a short preview: push payloads are
    limited to about 4 KB, and a lock screen shows two lines anyway.

    `tag` (e.g. "conversation:<id>") lets the service worker replace an older notification for the
    same conversation instead of stacking them; it also yields the `Topic` header (see
    `topic_for_tag`), which does the same for messages still queued at the push service.
    """

    title: str
    body: str
    url: str
    tag: str

    def __post_init__(self) -> None:
        if len(self.body) > BODY_PREVIEW_CHARS:
            object.__setattr__(self, "body", self.body[: BODY_PREVIEW_CHARS - 1].rstrip() + "…")

    def to_json_bytes(self) -> bytes:
        data = {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class SendStatus(enum.Enum):
    SENT = "sent"
    # 404/410: the subscription no longer exists (the user revoked permission, uninstalled, or the
    # browser rotated it). It will never work again: the caller must delete it, or every future
    # message keeps hitting the push service, which may throttle us for it.
    GONE = "gone"
    # 429, 5xx, network error or timeout: worth trying again later (after Retry-After if given).
    RETRY = "retry"
    # Any other refusal (400 malformed, 401/403 VAPID key mismatch, 413 payload too large, a
    # redirect, an endpoint the push guard refuses...): sending the same thing again cannot succeed.
    FAILED = "failed"


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    http_status: int | None
    retry_after: float | None  # seconds, from the Retry-After header
    detail: str
    # FAILED because the endpoint is not somewhere we may send (server.push_guard: not https, an
    # internal address...). Unlike a refused payload this never gets better: delete it like GONE.
    forbidden: bool = False


@dataclass(frozen=True)
class PreparedPush:
    """A fully built request: POST `body` with `headers` to `endpoint`."""

    endpoint: str
    headers: dict[str, str]
    body: bytes


def vapid_audience(endpoint: str) -> str:
    """The origin of a push endpoint, which is the `aud` claim RFC 8292 requires:
    scheme://host, plus the port when it is not the scheme's default."""
    parts = urlsplit(endpoint)
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"not an http(s) URL: {endpoint!r}")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def topic_for_tag(tag: str) -> str:
    """The `Topic` header for a notification tag (RFC 8030 section 5.4).

    A push service keeps at most one undelivered message per topic per subscription: while a phone
    is offline, ten replies in the same conversation collapse into the latest one instead of ten
    buzzes when it comes back. Topics are limited to 32 characters of the base64url alphabet, so
    we hash the tag (the hash also keeps conversation ids out of the push service's logs).
    """
    return _b64url(hashlib.sha256(tag.encode("utf-8")).digest()[:24])  # 24 bytes -> 32 chars


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date.
    Fractional seconds are accepted too (not standard, but harmless). None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of the body, undecoded (no decompression bomb), then stop reading."""
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


def _classify(response: httpx.Response, body: bytes) -> SendResult:
    code = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")[:MAX_DETAIL_CHARS]
    detail = f"{code} {response.reason_phrase}" + (f": {text}" if text else "")
    if 200 <= code < 300:
        return SendResult(SendStatus.SENT, code, None, detail)
    if code in (404, 410):
        return SendResult(SendStatus.GONE, code, None, detail)
    if code == 429 or code >= 500:
        return SendResult(SendStatus.RETRY, code, retry_after, detail)
    return SendResult(SendStatus.FAILED, code, None, detail)


# --------------------------------------------------------------------------------------------
# Sender
# --------------------------------------------------------------------------------------------


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
    `server.push_guard.check_endpoint`). `http` should come from `push_http_client()`, which
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
        self._private_key = _load_private_key(keys.private_pem_path)
        if _application_server_key(self._private_key) != keys.public_key_b64url:
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
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        ).encode("ascii")
        der = self._private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants raw r||s, not DER
        token = signing_input.decode("ascii") + "." + _b64url(signature)
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
        FAILED with `forbidden` means delete it too: the endpoint is refused by the push guard)."""
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
        except ForbiddenEndpoint as exc:  # from push_guard.GuardedBackend, at connect time
            return SendResult(SendStatus.FAILED, None, None, str(exc), forbidden=True)
        except httpx.TransportError as exc:  # refused, reset, DNS, timeouts...
            return SendResult(SendStatus.RETRY, None, None, f"{type(exc).__name__}: {exc}")
        except TimeoutError:
            return SendResult(SendStatus.RETRY, None, None, f"no complete answer within {SEND_DEADLINE_SECONDS:g} s")
        return _classify(response, body)

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
