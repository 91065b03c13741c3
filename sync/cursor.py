"""Sync cursors: opaque to clients, signed by the server.

A cursor says where a client is in one event's feed: still in the first-pull snapshot (and
after which item), or following the change log (after which sequence number). It is signed
with HMAC so that a cursor the server never issued — edited, truncated, or from another
event — is refused with a clear error instead of silently skipping or repeating changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from sync.errors import SyncInvalid

_VERSION = 1


@dataclass(frozen=True)
class Cursor:
    event_id: str
    seq: int  # log position: everything at or below it is reflected
    snapshot_after: str | None = None  # during the snapshot: last item id sent ("" = none yet)

    @property
    def in_snapshot(self) -> bool:
        return self.snapshot_after is not None


def encode(cursor: Cursor, key: bytes) -> str:
    body = json.dumps(
        {"v": _VERSION, "e": cursor.event_id, "s": cursor.seq, "a": cursor.snapshot_after},
        separators=(",", ":"),
    ).encode()
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    return f"{payload}.{_sign(payload, key)}"


def decode(token: str, key: bytes, event_id: str) -> Cursor:
    """The cursor behind `token`, or Invalid naming `cursor` when it was not issued for this event."""
    payload, _, signature = token.partition(".") if isinstance(token, str) else ("", "", "")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, so a
    # 500) and a cursor is whatever a client sends.
    expected = _sign(payload, key).encode()
    if not payload or not hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected):
        raise SyncInvalid("cursor was not issued by this server; pull again without a cursor", field="cursor")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if data.get("v") != _VERSION or data.get("e") != event_id:
        raise SyncInvalid("cursor belongs to another event or an older protocol; pull without a cursor", field="cursor")
    return Cursor(event_id=data["e"], seq=int(data["s"]), snapshot_after=data.get("a"))


def _sign(payload: str, key: bytes) -> str:
    digest = hmac.new(key, payload.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
