"""Stalls: a vendor's place in one event, reached by the short code printed in its QR sign."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from server.auth.tokens import issue_account_token
from server.domain.accounts import CheckedAccount, NewAccount, check_new_account, create_account
from server.domain.actors import Actor, require_role
from server.domain.context import Services
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.hashtags import tag_key
from server.domain.rows import locked, one
from server.domain.validate import hashtag, text
from server.domain.views import StallView, stall_view, utc
from server.tables import Account, Cause, Event, Invite, Item, Stall
from sync.log import UnitOfWork, event_scope, unit_of_work

STALL_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # 31 symbols; 8 of them ≈ 40 bits
STALL_CODE_LENGTH = 8


@dataclass(frozen=True)
class StallInput:
    name: str
    store_tag: str
    number: str = ""
    location: str = ""
    description: str = ""


@dataclass(frozen=True)
class StallPatch:
    name: str | None = None
    store_tag: str | None = None
    number: str | None = None
    location: str | None = None
    description: str | None = None
    read_receipts: bool | None = None
    # A charity stall's cause, by its tag ("#RiverRescue"): credited on every item that names no
    # cause of its own. "" removes it.
    default_cause: str | None = None


@dataclass(frozen=True)
class StallPlace:
    """Where the organizer puts a stall: its number and its place at the market."""

    number: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class OrganizerStallView:
    """A stall as its organizer sees it: hidden ones too, with who runs it."""

    stall: StallView
    vendor_name: str
    joined_at: datetime
    items: int


@dataclass(frozen=True)
class JoinResult:
    stall: StallView
    token: str | None  # set when the join created the vendor's account


async def join_event(
    services: Services,
    actor: Actor | None,
    invite_code: str,
    stall: StallInput,
    new_account: NewAccount | None = None,
) -> JoinResult:
    """Spend an invite code on a stall; a vendor who has no account yet gets one in the same step."""
    account: CheckedAccount | None = None
    if actor is not None:
        require_role(actor, "vendor")
    elif new_account is None:
        raise Invalid("Sign in as a vendor, or give email, password and display_name", field="email")
    fields = _checked_stall(stall)
    code = invite_code.strip().upper() if isinstance(invite_code, str) else ""
    # The code first (a cheap read), the password hash only for a code worth it: a guesser must
    # not be able to make the server spend Argon2's memory and CPU on every guess.
    await _usable_invite(code)
    if actor is None and new_account is not None:
        account = await check_new_account(new_account, services.password_slots)
    async with unit_of_work(services.engine, services.publish) as uow:
        invite = await _usable_invite(code)  # again, inside the transaction: it may just have been spent
        vendor_id = actor.account_id if actor else await create_account(account, "vendor")  # type: ignore[arg-type]
        event_id = invite["event"]
        await _check_tag_free(event_id, str(fields["store_tag_key"]), None)
        now = datetime.now(UTC)
        row = Stall(
            id=uuid4(), event=event_id, vendor=vendor_id, code=_stall_code(), created_at=now, updated_at=now, **fields
        )
        await row.save()
        await Invite.update({Invite.used_by: vendor_id, Invite.used_at: now}).where(Invite.id == invite["id"])
        uow.record(event_scope(event_id), "stall", row.id, 1)
    token = await issue_account_token(vendor_id, services.settings.token_days) if actor is None else None  # type: ignore[arg-type]
    return JoinResult(await get_stall(services, str(row.code)), token)


async def _relocked(row: dict[str, Any]) -> dict[str, Any]:
    """The stall row read again under its write lock: the version it carries is the latest."""
    return await one(locked(Stall.select().where(Stall.id == row["id"])), "No such stall")


async def _usable_invite(code: str) -> dict[str, Any]:
    invite = await locked(Invite.select().where(Invite.code == code)).first() if code else None
    if invite is None:
        raise NotFound("This invite code does not exist; check it with the organizer")
    if invite["used_at"] is not None:
        raise Conflict("This invite code has already been used", field="invite_code")
    if invite["revoked_at"] is not None:
        raise Conflict("The organizer has withdrawn this invite code; ask them for a new one", field="invite_code")
    row: dict[str, Any] = invite
    return row


async def update_stall(services: Services, actor: Actor | None, code: str, patch: StallPatch) -> StallView:
    async with unit_of_work(services.engine, services.publish) as uow:
        row = await _relocked(await owned_stall(actor, code))
        changes = _checked_patch(patch)
        if "store_tag_key" in changes:
            await _check_tag_free(row["event"], str(changes["store_tag_key"]), row["id"])
        if patch.default_cause is not None:
            key = await _event_cause_key(row["event"], patch.default_cause)
            if key != row["default_cause"]:
                changes["default_cause"] = key
        if changes:
            await _save(uow, row, changes)
        if "default_cause" in changes:
            from server.domain.items import recredit_items

            await recredit_items(uow, row["event"], stall_id=row["id"])
    return await get_stall(services, code)


async def _save(uow: UnitOfWork, row: dict[str, Any], changes: dict[str, object]) -> None:
    """Write a stall's changed fields under its next version, and log it for every phone."""
    version = int(row["version"]) + 1
    await Stall.update(
        {
            **{getattr(Stall, k): v for k, v in changes.items()},
            Stall.version: version,
            Stall.updated_at: datetime.now(UTC),
        }
    ).where(Stall.id == row["id"])
    uow.record(event_scope(row["event"]), "stall", row["id"], version)


async def _event_cause_key(event_id: object, tag: object) -> str:
    """The tag key of one of the event's causes, from its tag as typed; "" for none."""
    if not isinstance(tag, str):
        raise Invalid("default_cause must be a cause's hashtag, or empty for none", field="default_cause")
    if not tag.strip():
        return ""
    key = tag_key(hashtag(tag, "default_cause"))
    if not await Cause.exists().where((Cause.event == event_id) & (Cause.tag_key == key)):
        raise Invalid(f"This event has no cause tagged {tag.strip()}; choose one of its causes", field="default_cause")
    return key


async def place_stall(services: Services, actor: Actor | None, code: str, place: StallPlace) -> StallView:
    """The organizer gives a stall its number and its place at the market (the sign prints both)."""
    from server.domain.events import owned_event

    async with unit_of_work(services.engine, services.publish) as uow:
        row = await stall_row(code)
        await owned_event(actor, str(row["event"]))
        row = await _relocked(row)
        changes: dict[str, object] = {}
        if place.number is not None:
            changes["number"] = text(place.number, "number", max_len=16)
        if place.location is not None:
            changes["location"] = text(place.location, "location", max_len=200)
        changes = {k: v for k, v in changes.items() if v != row[k]}
        if changes:
            await _save(uow, row, changes)
    return await get_stall(services, code)


async def organizer_stalls(services: Services, actor: Actor | None, event_slug: str) -> list[OrganizerStallView]:
    """Every stall of the event, hidden ones included, by number, with its vendor and item count."""
    from server.domain.events import owned_event

    event = await owned_event(actor, event_slug)
    rows = await Stall.select().where(Stall.event == event["id"]).order_by(Stall.number).order_by(Stall.name)
    vendor_ids = list({r["vendor"] for r in rows})
    names = (
        {
            a["id"]: a["display_name"]
            for a in await Account.select(Account.id, Account.display_name).where(Account.id.is_in(vendor_ids))
        }
        if vendor_ids
        else {}
    )
    counts: dict[Any, int] = {}
    live = Item.select(Item.stall).where((Item.event == event["id"]) & Item.deleted_at.is_null())
    for item in await live:
        counts[item["stall"]] = counts.get(item["stall"], 0) + 1
    base = services.settings.base_url
    return [
        OrganizerStallView(
            stall_view(r, base), names.get(r["vendor"], ""), utc(r["created_at"]), counts.get(r["id"], 0)
        )
        for r in rows
    ]


async def get_stall(services: Services, code: str) -> StallView:
    """The stall as stored, hidden or not: for code that already checked who is asking."""
    return stall_view(await stall_row(code), services.settings.base_url)


async def visible_stall(services: Services, actor: Actor | None, code: str) -> StallView:
    """The stall as `actor` may see it: a hidden stall is 404 to all but its vendor and organizer.

    Every read route (API, QR page, QR image, sign) goes through here, so a stall the organizer
    took down cannot still be reached by its printed code.
    """
    row = await visible_stall_row(actor, code)
    return stall_view(row, services.settings.base_url)


async def visible_stall_row(actor: Actor | None, code: str) -> dict[str, Any]:
    row = await stall_row(code)
    if row["hidden"] and not await may_see_hidden(actor, row["event"], row["vendor"]):
        raise NotFound(f"No stall with code {code!r}")
    return row


async def may_see_hidden(actor: Actor | None, event_id: object, vendor_id: object) -> bool:
    """Whether `actor` may see hidden things of this vendor at this event: only that vendor and
    the event's organizer (who hid it, and may show it again)."""
    if actor is None or actor.account_id is None:
        return False
    if actor.role == "vendor":
        return bool(actor.account_id == vendor_id)
    row = await Event.select(Event.organizer).where(Event.id == event_id).first()
    return actor.role == "organizer" and row is not None and row["organizer"] == actor.account_id


async def list_stalls(services: Services, event_id: UUID) -> list[StallView]:
    rows = await Stall.select().where((Stall.event == event_id) & (Stall.hidden.eq(False))).order_by(Stall.number)
    return [stall_view(r, services.settings.base_url) for r in rows]


async def stall_row(code: str) -> dict[str, Any]:
    rows = await Stall.select().where(Stall.code == code) if isinstance(code, str) else []
    if not rows:
        raise NotFound(f"No stall with code {code!r}")
    row: dict[str, Any] = rows[0]
    return row


async def owned_stall(actor: Actor | None, code: str) -> dict[str, Any]:
    """The stall row, if `actor` is the vendor who owns it."""
    vendor = require_role(actor, "vendor")
    row = await stall_row(code)
    if row["vendor"] != vendor.account_id:
        raise Forbidden("Only this stall's vendor can change it")
    return row


async def _check_tag_free(event_id: object, key: str, own_stall: object) -> None:
    query = Stall.select(Stall.id).where((Stall.event == event_id) & (Stall.store_tag_key == key))
    for other in await query:
        if other["id"] != own_stall:
            raise Conflict("Another stall of this event already uses this store tag", field="store_tag")


def _checked_stall(data: StallInput) -> dict[str, Any]:
    tag = hashtag(data.store_tag, "store_tag")
    return {
        "name": text(data.name, "name", max_len=80, min_len=1),
        "store_tag": tag,
        "store_tag_key": tag_key(tag),
        "number": text(data.number, "number", max_len=16),
        "location": text(data.location, "location", max_len=200),
        "description": text(data.description, "description", max_len=2000, multiline=True),
    }


def _checked_patch(patch: StallPatch) -> dict[str, object]:
    given = {k: v for k, v in vars(patch).items() if v is not None and k not in ("read_receipts", "default_cause")}
    full = _checked_stall(StallInput(**{"name": "x", "store_tag": "#x", **given}))
    changes = {k: full[k] for k in given}
    if "store_tag" in given:
        changes["store_tag_key"] = full["store_tag_key"]
    if patch.read_receipts is not None:
        changes["read_receipts"] = bool(patch.read_receipts)
    return changes


def _stall_code() -> str:
    return "".join(secrets.choice(STALL_CODE_ALPHABET) for _ in range(STALL_CODE_LENGTH))


async def set_stall_hidden(services: Services, actor: Actor | None, code: str, hidden: bool) -> StallView:
    """Moderation: the organizer hides a whole stall (its items leave search and sync with it)."""
    from server.domain.events import owned_event

    async with unit_of_work(services.engine, services.publish) as uow:
        row = await stall_row(code)
        await owned_event(actor, str(row["event"]))
        row = await _relocked(row)
        if bool(row["hidden"]) != hidden:
            version = int(row["version"]) + 1
            await Stall.update(
                {Stall.hidden: hidden, Stall.version: version, Stall.updated_at: datetime.now(UTC)}
            ).where(Stall.id == row["id"])
            uow.record(event_scope(row["event"]), "stall", row["id"], version)
    return await get_stall(services, code)


async def my_stalls(services: Services, actor: Actor | None) -> list[StallView]:
    """A signed-in vendor's stalls, across events (the app opens the right one after sign-in)."""
    vendor = require_role(actor, "vendor")
    rows = await Stall.select().where(Stall.vendor == vendor.account_id).order_by(Stall.created_at)
    return [stall_view(r, services.settings.base_url) for r in rows]
