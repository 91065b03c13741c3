"""Who is acting: an organizer, a vendor, or an anonymous visitor device.

Every domain function takes an Actor and checks it itself, so a rule holds whether the change
comes from a REST route or from a mutation replayed by the sync protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from server.auth.tokens import TOUCH_EVERY, VISITOR_IDLE, hash_token
from server.domain.errors import Forbidden, Unauthorized
from server.domain.rows import as_uuid
from server.tables import AuthToken

Role = Literal["organizer", "vendor", "device"]


@dataclass(frozen=True)
class Actor:
    role: Role
    account_id: UUID | None = None
    device_id: UUID | None = None
    display_name: str = ""

    @property
    def is_organizer(self) -> bool:
        return self.role == "organizer"

    @property
    def is_vendor(self) -> bool:
        return self.role == "vendor"


def require_account(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'")
    if actor.account_id is None:
        raise Forbidden("This needs an organizer or vendor account, not a visitor device")
    return actor


def require_role(actor: Actor | None, role: Role) -> Actor:
    if actor is None:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'")
    if actor.role != role:
        raise Forbidden(f"Only a signed-in {role} can do this")
    return actor


def require_any(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthorized("Send 'Authorization: Bearer <token>' (POST /api/devices gives a visitor one)")
    return actor


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
            account_id=as_uuid(row["account"]),
            display_name=row["account.display_name"] or "",
        )
    last_used = _aware(row["last_used_at"] or row["created_at"])
    if last_used < now - idle:
        return None
    if last_used < now - TOUCH_EVERY:
        await AuthToken.update({AuthToken.last_used_at: now}).where(AuthToken.token_hash == digest)
    return Actor(role="device", device_id=as_uuid(row["device"]))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
