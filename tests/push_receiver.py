"""A local stand-in for a Web Push service (FCM, Mozilla autopush, Apple) for tests.

It speaks real HTTP/1.1 over a socket on 127.0.0.1 (minimal, keep-alive, Content-Length bodies)
and checks what a real push service checks, independently of the `webpush` package:

* `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292): ES256 signature valid under `k` (verified with
  `cryptography`), `aud` equal to the endpoint's origin, `exp` in the future and at most 24 h away,
  `sub` a mailto:/https: URI; `k` must equal the subscription's applicationServerKey when one was
  given (browsers bind subscriptions to it). Failures answer 401 (403 for a key mismatch).
* `TTL` present and > 0 (the receiver refuses 0 so that the TTL trap shows up in tests),
  `Content-Encoding: aes128gcm`, `Urgency` and `Topic` well-formed when present, body <= 4096 bytes
  (413 otherwise).
* The body decrypts (RFC 8291, `http_ece`) with the subscription's private key and auth secret,
  to a JSON object; it is recorded in `received`.

Like a browser, it issues subscriptions (P-256 key pair + 16-byte auth secret). Per subscription
it can be told to answer something else (410, 404, 429 + Retry-After, 500, 413...) for the next N
requests or for good, to exercise a sender's error handling.

    async with PushReceiver() as receiver:
        subscription, private_key = receiver.new_subscription()
        receiver.respond_next(subscription, 500, times=2)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http
import json
import os
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from server.webpush.messages import Subscription

MAX_BODY = 4096
MAX_EXP_SECONDS = 24 * 3600
CLOCK_SKEW = 60
TOPIC_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
URGENCIES = frozenset({"very-low", "low", "normal", "high"})


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unused_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ReceivedPush:
    subscription_id: str
    headers: dict[str, str]  # names lower-cased
    payload: dict[str, Any]  # the decrypted JSON
    claims: dict[str, Any]  # the verified VAPID JWT claims


@dataclass(frozen=True)
class Attempt:
    """Every request that reached /push/<id>, whatever the answer."""

    subscription_id: str
    status: int
    reason: str
    at: float  # time.monotonic()


@dataclass
class _Issued:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str | None
    scripted: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    always: tuple[int, dict[str, str]] | None = None


class _Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PushReceiver:
    def __init__(self) -> None:
        self.received: list[ReceivedPush] = []
        self.attempts: list[Attempt] = []
        self._subs: dict[str, _Issued] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> PushReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- subscriptions and behaviour ------------------------------------------------------------

    def new_subscription(
        self, application_server_key: str | None = None
    ) -> tuple[Subscription, ec.EllipticCurvePrivateKey]:
        """Like `pushManager.subscribe()`: a fresh key pair, auth secret and endpoint."""
        sub_id = b64url_encode(os.urandom(12))
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth_secret = os.urandom(16)
        self._subs[sub_id] = _Issued(sub_id, private_key, auth_secret, application_server_key)
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        subscription = Subscription(
            endpoint=f"{self.origin}/push/{sub_id}", p256dh=b64url_encode(point), auth=b64url_encode(auth_secret)
        )
        return subscription, private_key

    @staticmethod
    def subscription_id(subscription: Subscription) -> str:
        return subscription.endpoint.rsplit("/", 1)[-1]

    def respond_next(
        self, subscription: Subscription, status: int, *, times: int = 1, retry_after: str | None = None
    ) -> None:
        """Answer `status` to the next `times` valid requests for this subscription."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        issued = self._subs[self.subscription_id(subscription)]
        issued.scripted.extend([(status, headers)] * times)

    def respond_always(self, subscription: Subscription, status: int, *, retry_after: str | None = None) -> None:
        """Answer `status` to every valid request from now on (e.g. 410 once unsubscribed)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._subs[self.subscription_id(subscription)].always = (status, headers)

    def attempts_for(self, subscription: Subscription) -> list[Attempt]:
        sub_id = self.subscription_id(subscription)
        return [a for a in self.attempts if a.subscription_id == sub_id]

    def received_for(self, subscription: Subscription) -> list[ReceivedPush]:
        sub_id = self.subscription_id(subscription)
        return [r for r in self.received if r.subscription_id == sub_id]

    # -- HTTP -----------------------------------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                if "content-length" in headers:
                    body = await reader.readexactly(int(headers["content-length"]))
                    status, extra, payload = self._handle(method, target, headers, body)
                elif method == "POST":
                    status, extra, payload = 411, {}, {"error": "Content-Length required"}
                else:
                    status, extra, payload = self._handle(method, target, headers, b"")
                data = json.dumps(payload).encode()
                close = headers.get("connection", "").lower() == "close" or status == 411
                response_lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
                response_lines += [f"{k}: {v}" for k, v in extra.items()]
                response_lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
                if close:
                    response_lines.append("Connection: close")
                writer.write("\r\n".join(response_lines).encode("latin-1") + b"\r\n\r\n" + data)
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        path = urlsplit(target).path
        if not path.startswith("/push/"):
            return 404, {}, {"error": "no such resource"}
        sub_id = path.removeprefix("/push/")
        issued = self._subs.get(sub_id)
        if issued is None:
            self.attempts.append(Attempt(sub_id, 404, "unknown subscription", time.monotonic()))
            return 404, {}, {"error": "unknown subscription"}
        if method != "POST":
            return 405, {"Allow": "POST"}, {"error": "method not allowed"}
        try:
            claims = self._verify(issued, headers, body)
            scripted: tuple[int, dict[str, str]] | None = None
            if issued.scripted:
                scripted = issued.scripted.popleft()
            elif issued.always is not None:
                scripted = issued.always
            if scripted is not None:
                status, extra = scripted
                self.attempts.append(Attempt(sub_id, status, "scripted", time.monotonic()))
                return status, extra, {"error": f"scripted {status}"}
            payload = self._decrypt(issued, body)
        except _Reject as reject:
            self.attempts.append(Attempt(sub_id, reject.status, reject.reason, time.monotonic()))
            return reject.status, {}, {"error": reject.reason}
        self.received.append(ReceivedPush(sub_id, dict(headers), payload, claims))
        self.attempts.append(Attempt(sub_id, 201, "delivered", time.monotonic()))
        message_id = b64url_encode(os.urandom(9))
        return 201, {"Location": f"{self.origin}/message/{message_id}"}, {}

    # -- checks ---------------------------------------------------------------------------------

    def _verify(self, issued: _Issued, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        claims = self._verify_vapid(issued, headers.get("authorization", ""))
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            raise _Reject(400, "TTL header missing or not a number")
        if int(ttl) <= 0:
            raise _Reject(400, "TTL 0: a sleeping device would never get this (refused in tests)")
        if headers.get("content-encoding", "").lower() != "aes128gcm":
            raise _Reject(415, "Content-Encoding must be aes128gcm")
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise _Reject(400, f"bad Urgency {urgency!r}")
        topic = headers.get("topic")
        if topic is not None and not (0 < len(topic) <= 32 and set(topic) <= TOPIC_ALPHABET):
            raise _Reject(400, f"bad Topic {topic!r}")
        if len(body) > MAX_BODY:
            raise _Reject(413, f"payload of {len(body)} bytes exceeds {MAX_BODY}")
        return claims

    def _verify_vapid(self, issued: _Issued, authorization: str) -> dict[str, Any]:
        scheme, _, params_text = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise _Reject(401, "Authorization scheme must be vapid")
        params: dict[str, str] = {}
        for part in params_text.split(","):
            name, _, value = part.strip().partition("=")
            params[name.strip()] = value.strip()
        token, key_text = params.get("t", ""), params.get("k", "")
        try:
            public_bytes = b64url_decode(key_text)
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_bytes)
        except (ValueError, TypeError) as exc:
            raise _Reject(401, f"bad k: {exc}") from exc
        if issued.application_server_key is not None and b64url_encode(public_bytes) != issued.application_server_key:
            raise _Reject(403, "k is not the applicationServerKey this subscription was made with")
        segments = token.split(".")
        if len(segments) != 3:
            raise _Reject(401, "t is not a JWS compact token")
        try:
            header = json.loads(b64url_decode(segments[0]))
            claims = json.loads(b64url_decode(segments[1]))
            signature = b64url_decode(segments[2])
        except (ValueError, TypeError) as exc:
            raise _Reject(401, f"undecodable token: {exc}") from exc
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            raise _Reject(401, "alg must be ES256")
        if len(signature) != 64:
            raise _Reject(401, "ES256 signature must be 64 bytes (r||s)")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            public_key.verify(der, f"{segments[0]}.{segments[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise _Reject(401, "bad signature") from exc
        if not isinstance(claims, dict):
            raise _Reject(401, "claims must be an object")
        if claims.get("aud") != self.origin:
            raise _Reject(401, f"aud {claims.get('aud')!r} is not {self.origin!r}")
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise _Reject(401, "exp missing")
        if exp <= now:
            raise _Reject(401, "token expired")
        if exp > now + MAX_EXP_SECONDS + CLOCK_SKEW:
            raise _Reject(401, "exp more than 24 h away")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not (sub.startswith("mailto:") or sub.startswith("https:")):
            raise _Reject(401, "sub must be a mailto: or https: URI")
        return claims

    def _decrypt(self, issued: _Issued, body: bytes) -> dict[str, Any]:
        try:
            plain = http_ece.decrypt(
                body, private_key=issued.private_key, auth_secret=issued.auth_secret, version="aes128gcm"
            )
            payload = json.loads(plain)
        except Exception as exc:
            raise _Reject(400, f"cannot decrypt: {type(exc).__name__}: {exc}") from exc
        if not isinstance(payload, dict):
            raise _Reject(400, "payload is not a JSON object")
        return payload
