"""Events, their invite codes and their charity causes: the organizer's side of the domain."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import available_timezones

from server.domain.actors import Actor, require_role
from server.domain.context import Services
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.hashtags import tag_key
from server.domain.money import is_currency_code
from server.domain.rows import locked, one
from server.domain.validate import amount, count, hashtag, slug, text
from server.domain.views import CauseView, EventView, cause_view, event_view, utc
from server.tables import Account, Cause, Event, Invite, Item, Sale, Stall
from sync.log import event_scope, unit_of_work

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a stall


@dataclass(frozen=True)
class EventInput:
    name: str
    slug: str
    hashtag: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    currency: str
    venue: str = ""


@dataclass(frozen=True)
class EventPatch:
    name: str | None = None
    venue: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class CauseInput:
    name: str
    tag: str
    goal: int | None = None


@dataclass(frozen=True)
class CausePatch:
    """A cause's changes; `goal: 0` removes the goal. The tag can change only while nothing counts for it."""

    name: str | None = None
    tag: str | None = None
    goal: int | None = None


@dataclass(frozen=True)
class InviteStall:
    code: str
    name: str
    number: str
    location: str
    hidden: bool


@dataclass(frozen=True)
class InviteView:
    """One invite as the organizer sees it: who joined with it and which stall they opened."""

    code: str
    used: bool
    revoked: bool
    created_at: datetime
    used_at: datetime | None
    link: str  # opens the app's "join the market" form with the code filled in
    vendor_name: str | None
    stall: InviteStall | None


async def create_event(services: Services, actor: Actor | None, data: EventInput) -> EventView:
    organizer = require_role(actor, "organizer")
    fields = _checked_event(data)
    async with unit_of_work(services.engine, services.publish) as uow:
        if await Event.exists().where(Event.slug == fields["slug"]):
            raise Conflict(f"An event with slug {fields['slug']!r} already exists", field="slug")
        now = datetime.now(UTC)
        event = Event(id=uuid4(), organizer=organizer.account_id, created_at=now, updated_at=now, **fields)
        await event.save()
        uow.record(event_scope(event.id), "event", event.id, 1)
    return await get_event(str(event.slug))


async def update_event(services: Services, actor: Actor | None, slug_or_id: str, patch: EventPatch) -> EventView:
    """Change an event's details; slug, hashtag and currency stay fixed once items carry them."""
    async with unit_of_work(services.engine, services.publish) as uow:
        owned = await owned_event(actor, slug_or_id)
        row = await one(locked(Event.select().where(Event.id == owned["id"])), "No such event")  # the latest version
        given = {k: v for k, v in vars(patch).items() if v is not None}
        if not given:
            return event_view(row)
        current = {k: row[k] for k in ("name", "slug", "hashtag", "time_zone", "currency", "venue")}
        current.update(starts_at=utc(row["starts_at"]), ends_at=utc(row["ends_at"]))
        merged = EventInput(**{**current, **given})
        fields = _checked_event(merged)
        version = int(str(row["version"])) + 1
        await Event.update(
            {
                **{getattr(Event, k): fields[k] for k in given},
                Event.version: version,
                Event.updated_at: datetime.now(UTC),
            }
        ).where(Event.id == row["id"])
        uow.record(event_scope(row["id"]), "event", row["id"], version)
    return await get_event(slug_or_id)


async def get_event(slug_or_id: str) -> EventView:
    return event_view(await _event_row(slug_or_id))


async def list_events() -> list[EventView]:
    rows = await Event.select().order_by(Event.starts_at)
    return [event_view(r) for r in rows]


async def owned_event(actor: Actor | None, slug_or_id: str) -> dict[str, Any]:
    """The event row, if `actor` is the organizer who owns it (403 for any other organizer)."""
    organizer = require_role(actor, "organizer")
    row = await _event_row(slug_or_id)
    if row["organizer"] != organizer.account_id:
        raise Forbidden("Only the organizer of this event can change it")
    return row


async def create_invites(services: Services, actor: Actor | None, event_slug: str, n: int) -> list[str]:
    """Single-use codes, one per vendor: a leaked code lets in one stall, not a crowd."""
    event = await owned_event(actor, event_slug)
    n = count(n, "count", low=1, high=500)
    codes = [_invite_code() for _ in range(n)]
    await Invite.insert(*(Invite(id=uuid4(), event=event["id"], code=c) for c in codes))
    return codes


def invite_link(base_url: str, code: str) -> str:
    """The link (and QR code) a vendor opens to join: the app's join form with the code filled in."""
    return f"{base_url}/app/#/vendor?invite={code}"


async def list_invites(services: Services, actor: Actor | None, event_slug: str) -> list[InviteView]:
    """Every invite of the event, newest last: unused, revoked, or used (by whom, for which stall)."""
    event = await owned_event(actor, event_slug)
    rows = await Invite.select().where(Invite.event == event["id"]).order_by(Invite.created_at).order_by(Invite.code)
    vendor_ids = [r["used_by"] for r in rows if r["used_by"] is not None]
    names: dict[Any, str] = {}
    stalls: dict[Any, InviteStall] = {}
    if vendor_ids:
        for a in await Account.select(Account.id, Account.display_name).where(Account.id.is_in(vendor_ids)):
            names[a["id"]] = a["display_name"]
        query = Stall.select().where((Stall.event == event["id"]) & Stall.vendor.is_in(vendor_ids))
        for st in await query.order_by(Stall.created_at):
            stalls.setdefault(
                st["vendor"], InviteStall(st["code"], st["name"], st["number"], st["location"], bool(st["hidden"]))
            )
    base = services.settings.base_url
    return [
        InviteView(
            code=r["code"],
            used=r["used_at"] is not None,
            revoked=r["revoked_at"] is not None,
            created_at=utc(r["created_at"]),
            used_at=utc(r["used_at"]) if r["used_at"] is not None else None,
            link=invite_link(base, r["code"]),
            vendor_name=names.get(r["used_by"]),
            stall=stalls.get(r["used_by"]),
        )
        for r in rows
    ]


async def revoke_invite(services: Services, actor: Actor | None, event_slug: str, code: str) -> None:
    """Take back an unused invite: joining with it is refused from now on. A used one cannot be
    taken back (the stall exists); hide that stall instead."""
    event = await owned_event(actor, event_slug)
    wanted = code.strip().upper()
    async with unit_of_work(services.engine, services.publish):
        row = await locked(Invite.select().where((Invite.event == event["id"]) & (Invite.code == wanted))).first()
        if row is None:
            raise NotFound(f"No invite {wanted!r} at this event")
        if row["used_at"] is not None:
            raise Conflict("This invite has been used: hide the stall instead of revoking the invite", field="code")
        if row["revoked_at"] is None:
            await Invite.update({Invite.revoked_at: datetime.now(UTC)}).where(Invite.id == row["id"])


async def create_cause(services: Services, actor: Actor | None, event_slug: str, data: CauseInput) -> CauseView:
    event = await owned_event(actor, event_slug)
    name = text(data.name, "name", max_len=120, min_len=1)
    tag = hashtag(data.tag, "tag")
    goal = amount(data.goal, "goal") if data.goal is not None else None
    key = tag_key(tag)
    if key == "socialcause":
        raise Invalid("A cause needs its own tag; #SocialCause is added to its items for you", field="tag")
    async with unit_of_work(services.engine, services.publish) as uow:
        if await Cause.exists().where((Cause.event == event["id"]) & (Cause.tag_key == key)):
            raise Conflict(f"This event already has a cause tagged {tag}", field="tag")
        cause = Cause(id=uuid4(), event=event["id"], name=name, tag=tag, tag_key=key, goal=goal)
        await cause.save()
        uow.record(event_scope(event["id"]), "cause", cause.id, 1)
        # Items listed with this tag before the cause existed count for it from now on.
        from server.domain.items import recredit_items

        await recredit_items(uow, event["id"], key=key)
    rows = await Cause.select().where(Cause.id == cause.id)
    return cause_view(rows[0])


async def update_cause(
    services: Services, actor: Actor | None, event_slug: str, cause_id: UUID, patch: CausePatch
) -> CauseView:
    """Rename a cause, change its goal (0 removes it) or, while no item or sale counts for it, its tag."""
    event = await owned_event(actor, event_slug)
    async with unit_of_work(services.engine, services.publish) as uow:
        row = await locked(Cause.select().where((Cause.id == cause_id) & (Cause.event == event["id"]))).first()
        if row is None:
            raise NotFound(f"No cause {cause_id} at this event")
        changes: dict[Any, Any] = {}
        if patch.name is not None:
            changes[Cause.name] = text(patch.name, "name", max_len=120, min_len=1)
        if patch.goal is not None:
            goal = amount(patch.goal, "goal", allow_zero=True)
            changes[Cause.goal] = goal or None
        if patch.tag is not None:
            tag = hashtag(patch.tag, "tag")
            key = tag_key(tag)
            if key == "socialcause":
                raise Invalid("A cause needs its own tag; #SocialCause is added to its items for you", field="tag")
            if key != row["tag_key"]:
                if await Cause.exists().where((Cause.event == event["id"]) & (Cause.tag_key == key)):
                    raise Conflict(f"This event already has a cause tagged {tag}", field="tag")
                if await _cause_in_use(event["id"], str(row["tag_key"])):
                    raise Conflict(
                        f"Items or sales already count for {row['tag']}, so its tag stays; change its name instead",
                        field="tag",
                    )
                changes[Cause.tag_key] = key
            changes[Cause.tag] = tag
        if changes:
            version = int(row["version"]) + 1
            changes.update({Cause.version: version, Cause.updated_at: datetime.now(UTC)})
            await Cause.update(changes).where(Cause.id == row["id"])
            uow.record(event_scope(event["id"]), "cause", row["id"], version)
    return cause_view(await one(Cause.select().where(Cause.id == cause_id), "No such cause"))


async def _cause_in_use(event_id: object, key: str) -> bool:
    """Whether an item (live or not), a sale or a stall's default names this cause's tag key."""
    for table in (Item, Sale):
        rows = await table.select(table.causes).where((table.event == event_id) & (table.causes != "[]"))
        if any(key in json.loads(r["causes"]) for r in rows):
            return True
    return bool(await Stall.exists().where((Stall.event == event_id) & (Stall.default_cause == key)))


async def list_causes(event_id: UUID) -> list[CauseView]:
    rows = await Cause.select().where(Cause.event == event_id).order_by(Cause.created_at)
    return [cause_view(r) for r in rows]


async def _event_row(slug_or_id: str) -> dict[str, Any]:
    query = Event.select()
    try:
        rows = await query.where(Event.id == UUID(slug_or_id))
    except ValueError:
        rows = await query.where(Event.slug == slug_or_id)
    if not rows:
        raise NotFound(f"No event {slug_or_id!r}")
    row: dict[str, Any] = rows[0]
    return row


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _checked_event(data: EventInput) -> dict[str, Any]:
    tag = hashtag(data.hashtag, "hashtag")
    starts, ends = utc(data.starts_at), utc(data.ends_at)
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise Invalid("starts_at and ends_at need a time zone offset (e.g. 2026-12-05T09:00:00Z)", field="starts_at")
    for name, moment in (("starts_at", starts), ("ends_at", ends)):
        # Also what catches a bare number: the JSON decoder takes 0 for 1970-01-01.
        if not EARLIEST <= moment < LATEST:
            raise Invalid(f"{name} must be a date between {EARLIEST.year} and {LATEST.year - 1}", field=name)
    if ends <= starts:
        raise Invalid("ends_at must be after starts_at", field="ends_at")
    if data.time_zone not in available_timezones():
        raise Invalid(f"Unknown time zone {data.time_zone!r}; use an IANA name like Europe/London", field="time_zone")
    if not is_currency_code(data.currency):
        raise Invalid("currency must be a 3-letter ISO 4217 code like GBP", field="currency")
    return {
        "name": text(data.name, "name", max_len=120, min_len=1),
        "slug": slug(data.slug),
        "hashtag": tag,
        "hashtag_key": tag_key(tag),
        "venue": text(data.venue, "venue", max_len=200),
        "starts_at": starts,
        "ends_at": ends,
        "time_zone": data.time_zone,
        "currency": data.currency,
    }


def _invite_code() -> str:
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"
