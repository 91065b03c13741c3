"""Who is acting: an organizer, a vendor, or an anonymous visitor device.

Every domain function takes an Actor and checks it itself, so a rule holds whether the change
comes from a REST route or from a mutation replayed by the sync protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from server.domain.errors import Forbidden, Unauthorized

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
