"""What a Web Push carries and what comes back: subscriptions, payloads, the headers' values, send outcomes."""

from __future__ import annotations

import email.utils
import enum
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx

from server.webpush.keys import b64url

BODY_PREVIEW_CHARS: Final = 120
MAX_DETAIL_CHARS: Final = 300


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
    # redirect, an endpoint the endpoint guard refuses...): sending the same thing again cannot succeed.
    FAILED = "failed"


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    http_status: int | None
    retry_after: float | None  # seconds, from the Retry-After header
    detail: str
    # FAILED because the endpoint is not somewhere we may send (server.webpush.endpoints: not https, an
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
    return b64url(hashlib.sha256(tag.encode("utf-8")).digest()[:24])  # 24 bytes -> 32 chars


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


def classify(response: httpx.Response, body: bytes) -> SendResult:
    """The outcome of a push service's answer (`body` already read, at most a few KB)."""
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
