"""Opaque bearer tokens for accounts and visitor devices (who a token belongs to is resolved in
`server/domain/actors.py`: the domain uses this module, never the other way round).

The client holds 32 random bytes; the database holds only their SHA-256, so tokens can be
revoked (delete the row) and a stolen database backup signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from server.tables import AuthToken, Device

VISITOR_IDLE = timedelta(days=60)  # the default of SOUK_VISITOR_IDLE_DAYS
TOUCH_EVERY = timedelta(hours=1)  # how stale a token's recorded last use may get


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_account_token(account_id: UUID, days: int) -> str:
    token, digest = new_token()
    now = datetime.now(UTC)
    await AuthToken.insert(
        AuthToken(token_hash=digest, account=account_id, created_at=now, expires_at=now + timedelta(days=days))
    )
    return token


async def issue_device_token(device_id: UUID) -> str:
    """A visitor token has no fixed end (losing it would orphan the visitor's conversations);
    it lapses after `idle` without use instead (see `actor_for_token`)."""
    token, digest = new_token()
    await AuthToken.insert(AuthToken(token_hash=digest, device=device_id))
    return token


async def revoke_other_device_tokens(device_id: UUID, keep: str) -> None:
    """Every token of the device but `keep` stops working (a resumed identity moves, not copies)."""
    await AuthToken.delete().where((AuthToken.device == device_id) & (AuthToken.token_hash != hash_token(keep)))


async def revoke(token: str) -> None:
    await AuthToken.delete().where(AuthToken.token_hash == hash_token(token))


async def create_device(address_key: str = "") -> tuple[UUID, str]:
    """A new anonymous visitor; `address_key` (see server/api/client.py) lets a block follow them."""
    device = Device(address_key=address_key)
    await device.save()
    token = await issue_device_token(device.id)
    return device.id, token
