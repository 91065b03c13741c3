"""Opaque bearer tokens for accounts and visitor devices.

The client holds 32 random bytes; the database holds only their SHA-256, so tokens can be
revoked (delete the row) and a stolen database backup signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from server.domain.actors import Actor
from server.tables import Account, AuthToken, Device

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


async def actor_for_token(token: str, *, idle: timedelta = VISITOR_IDLE) -> Actor | None:
    """Resolve a bearer token to who is acting, or None if unknown or expired.

    An account token ends at its `expires_at`; a visitor's device token ends after `idle`
    without use (last use: `last_used_at`, or `created_at` before the first refresh). The last
    use is written at most once per TOUCH_EVERY, so reading a token is not a write per request.
    """
    digest = hash_token(token)
    rows = await AuthToken.select(
        AuthToken.account,
        AuthToken.device,
        AuthToken.created_at,
        AuthToken.expires_at,
        AuthToken.last_used_at,
        AuthToken.account.role,
        AuthToken.account.display_name,
    ).where(AuthToken.token_hash == digest)
    if not rows:
        return None
    row = rows[0]
    now = datetime.now(UTC)
    expires = row["expires_at"]
    if expires is not None and _aware(expires) < now:
        return None
    if row["account"] is not None:
        return Actor(
            role=row["account.role"],
            account_id=_uuid(row["account"]),
            display_name=row["account.display_name"] or "",
        )
    last_used = _aware(row["last_used_at"] or row["created_at"])
    if last_used < now - idle:
        return None
    if last_used < now - TOUCH_EVERY:
        await AuthToken.update({AuthToken.last_used_at: now}).where(AuthToken.token_hash == digest)
    return Actor(role="device", device_id=_uuid(row["device"]))


async def create_device(address_key: str = "") -> tuple[UUID, str]:
    """A new anonymous visitor; `address_key` (see server/api/client.py) lets a block follow them."""
    device = Device(address_key=address_key)
    await device.save()
    token = await issue_device_token(device.id)
    return device.id, token


async def account_by_email(email: str) -> Account | None:
    result: Account | None = await Account.objects().where(Account.email == email.strip().lower()).first()
    return result


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
