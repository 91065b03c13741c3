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
    """Visitor tokens do not expire: losing one would orphan the visitor's conversations."""
    token, digest = new_token()
    await AuthToken.insert(AuthToken(token_hash=digest, device=device_id))
    return token


async def revoke(token: str) -> None:
    await AuthToken.delete().where(AuthToken.token_hash == hash_token(token))


async def actor_for_token(token: str) -> Actor | None:
    """Resolve a bearer token to who is acting, or None if unknown or expired."""
    rows = await AuthToken.select(
        AuthToken.account,
        AuthToken.device,
        AuthToken.expires_at,
        AuthToken.account.role,
        AuthToken.account.display_name,
    ).where(AuthToken.token_hash == hash_token(token))
    if not rows:
        return None
    row = rows[0]
    expires = row["expires_at"]
    if expires is not None and _aware(expires) < datetime.now(UTC):
        return None
    if row["account"] is not None:
        return Actor(
            role=row["account.role"],
            account_id=_uuid(row["account"]),
            display_name=row["account.display_name"] or "",
        )
    return Actor(role="device", device_id=_uuid(row["device"]))


async def create_device() -> tuple[UUID, str]:
    device = Device()
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
