"""Carrying a visitor's anonymous identity to another browser with a short code.

A cleared browser or a borrowed phone must not lose a half-done deal: the visitor asks for a
code on the old device and types it on the new one, which then acts as the same device (same
conversations). Codes are short enough to read aloud, single-use and expire in a day. The
identity moves rather than being copied: spending a code ends every other token of the device.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from server.auth.tokens import issue_device_token, revoke_other_device_tokens
from server.domain.actors import Actor, require_role
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.views import utc
from server.tables import ResumeCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class ResumeCodeOut:
    code: str
    expires_at: datetime


async def new_resume_code(actor: Actor | None) -> ResumeCodeOut:
    device = require_role(actor, "device")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    code = f"{raw[:5]}-{raw[5:]}"
    expires = datetime.now(UTC) + CODE_LIFETIME
    await ResumeCode.insert(ResumeCode(code=code, device=device.device_id, expires_at=expires))
    return ResumeCodeOut(code, expires)


async def resume(code: str) -> tuple[UUID, str]:
    """Spend a code: a new token for the original device identity, and the device's other
    tokens revoked (the old browser, or whoever copied its token, is signed out)."""
    normalized = code.strip().upper().replace(" ", "") if isinstance(code, str) else ""
    if len(normalized) == 10:
        normalized = f"{normalized[:5]}-{normalized[5:]}"
    row = await ResumeCode.select().where(ResumeCode.code == normalized).first()
    if row is None:
        raise NotFound("Unknown code; ask for a new one on your other device")
    if row["used_at"] is not None:
        raise Conflict("This code has already been used", field="code")
    if utc(row["expires_at"]) < datetime.now(UTC):
        raise Invalid("This code has expired; ask for a new one on your other device", field="code")
    updated = (
        await ResumeCode.update({ResumeCode.used_at: datetime.now(UTC)})
        .where((ResumeCode.code == normalized) & ResumeCode.used_at.is_null())
        .returning(ResumeCode.code)
    )
    if not updated:  # another browser spent it in the same instant
        raise Conflict("This code has already been used", field="code")
    device_id = UUID(str(row["device"]))
    # The new token first, then the others go: a failure in between leaves the old browser
    # working a while longer rather than the visitor with no token at all.
    token = await issue_device_token(device_id)
    await revoke_other_device_tokens(device_id, keep=token)
    return device_id, token
