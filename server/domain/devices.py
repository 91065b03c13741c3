"""A visitor's anonymous device: the first name it chose for chats, and carrying it to
another browser with a short code.

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
from server.domain import validate
from server.domain.actors import Actor, require_role
from server.domain.chat.channels import account_channel, conversation_scope
from server.domain.chat.views import visitor_label
from server.domain.context import Services
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.views import utc
from server.tables import Conversation, Device, ResumeCode, Stall
from sync.log import unit_of_work
from sync.tables import LogHead

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LIFETIME = timedelta(hours=24)
FIRST_NAME_MAX = 30


@dataclass(frozen=True)
class VisitorNameOut:
    first_name: str  # "" when the visitor chose none
    shown_as: str  # what both sides of its chats see: the first name, or "Visitor A64B"


async def set_first_name(services: Services, actor: Actor | None, first_name: str) -> VisitorNameOut:
    """The name this visitor is called by in every one of its chats ("" goes back to "Visitor
    A64B"). Each of its conversations gets a new version, so the vendors' replicas learn it on
    their next pull, and each vendor's socket is poked to pull now."""
    device = require_role(actor, "device")
    name = validate.text(first_name, "first_name", max_len=FIRST_NAME_MAX)
    if any(ch in name for ch in "<>@/\\"):
        raise Invalid("first_name is a name only: no links, addresses or markup", field="first_name")
    async with unit_of_work(services.engine, services.publish) as uow:
        await Device.update({Device.first_name: name}).where(Device.id == device.device_id)
        bumped = (
            await Conversation.update({Conversation.version: Conversation.version + 1})
            .where(Conversation.device == device.device_id)
            .returning(Conversation.id, Conversation.version, Conversation.stall)
        )
        for row in bumped:
            uow.record(conversation_scope(row["id"]), "conversation", row["id"], int(row["version"]))
        stalls = {row["stall"] for row in bumped}
        vendors = await Stall.select(Stall.id, Stall.vendor).where(Stall.id.is_in(list(stalls))) if stalls else []
        vendor_of = {v["id"]: v["vendor"] for v in vendors}
        # The vendors' sockets listen on their own channel, not on conversation scopes: each is
        # poked there after the commit (this unit may be a sync push's, committed later). The
        # seq is the first this commit can take: a pull from before it brings the new name.
        head = await LogHead.select(LogHead.seq).where(LogHead.id == 1).first()
        seq = int(head["seq"]) + 1 if head else 1
        for row in bumped:
            poke: dict[str, object] = {"type": "poke", "scope": conversation_scope(row["id"]), "seq": seq}
            uow.announce(poke, [account_channel(vendor_of[row["stall"]])])
    return VisitorNameOut(name, visitor_label(device.device_id, name))


async def first_name_of(actor: Actor | None) -> VisitorNameOut:
    device = require_role(actor, "device")
    row = await Device.select(Device.first_name).where(Device.id == device.device_id).first()
    name = row["first_name"] if row else ""
    return VisitorNameOut(name, visitor_label(device.device_id, name))


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
