"""Items and sales: what vendors list, reserve and sell.

Rules that live here and nowhere else (REST routes and sync mutations both call these):
- only the stall's vendor changes its items;
- a sold item cannot be edited, reserved or sold again; only its vendor's undo of a recent sale
  (UNDO_WINDOW) puts units back on sale;
- a sale takes quantity as a delta and is refused when stock is short; the last unit sold
  turns the item `sold`;
- holds are per unit (`item_hold`): an item reads `reserved` only while its holds cover every
  unit left, otherwise it stays `available`, in search and on the stall;
- tags are derived: what the vendor wrote (inline and explicit) plus the stall's #StoreName,
  the event's own tag, and #SocialCause when a cause tag of the event is present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from server.domain.actors import Actor
from server.domain.chat.receipts import announce_item_state
from server.domain.context import Services
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.hashtags import SOCIAL_CAUSE_KEY, SOCIAL_CAUSE_TAG, find_tags, tag_key, unique_tags
from server.domain.rows import locked, one
from server.domain.stalls import may_see_hidden, owned_stall
from server.domain.validate import amount, count, hashtag, text
from server.domain.views import HashtagCount, ItemView, SaleView, item_views, sale_view, sized_item_view, utc
from server.tables import Cause, Event, Item, ItemHold, ItemTag, Photo, Sale, Stall
from sync.log import UnitOfWork, event_scope, unit_of_work
from sync.timestamps import rfc3339

MAX_QUANTITY = 100_000
MAX_PHOTOS = 8
MAX_HASHTAGS = 20
STATES = ("available", "reserved", "sold")
_COLUMN_OF = {"hashtags": "own_tags"}  # input field -> column, where they differ


@dataclass(frozen=True)
class ItemInput:
    title: str
    price: int
    quantity: int = 1
    description: str = ""
    hashtags: list[str] | None = None
    photo_keys: list[str] | None = None
    id: UUID | None = None  # clients creating items offline choose the UUID


@dataclass(frozen=True)
class ItemPatch:
    title: str | None = None
    description: str | None = None
    price: int | None = None
    quantity: int | None = None
    hashtags: list[str] | None = None
    photo_keys: list[str] | None = None


async def create_item(services: Services, actor: Actor | None, stall_code: str, data: ItemInput) -> ItemView:
    """Create an item; creating the same client-chosen id again returns the stored item."""
    async with unit_of_work(services.engine, services.publish) as uow:
        stall = await owned_stall(actor, stall_code)
        if data.id is not None:
            existing = await Item.select().where(Item.id == data.id).first()
            if existing is not None:
                if existing["stall"] != stall["id"]:
                    raise Conflict("This item id is already taken", field="id")
                return await sized_item_view(existing)
        event = await one(Event.select().where(Event.id == stall["event"]), "No such event")
        fields = await _checked_fields(
            data.title, data.description, data.price, data.quantity, data.hashtags or [], data.photo_keys or []
        )
        tags = await _derive_tags(fields, stall, event)
        now = datetime.now(UTC)
        item = Item(
            id=data.id or uuid4(),
            event=stall["event"],
            stall=stall["id"],
            currency=event["currency"],
            created_at=now,
            updated_at=now,
            state="available",
            version=1,
            **fields,
            **tags,
        )
        await item.save()
        await _write_tags(item.id, stall["event"], tags)
        uow.record(event_scope(stall["event"]), "item", item.id, 1)
    return await get_item(UUID(str(item.id)))


async def update_item(services: Services, actor: Actor | None, item_id: UUID, patch: ItemPatch) -> ItemView:
    async with unit_of_work(services.engine, services.publish) as uow:
        row, stall = await _owned_item(actor, item_id)
        _refuse_if_sold(row)
        given = {k: v for k, v in vars(patch).items() if v is not None}
        if not given:
            return await sized_item_view(row)
        merged = {
            "title": row["title"],
            "description": row["description"],
            "price": row["price"],
            "quantity": row["quantity"],
            "hashtags": json.loads(row["own_tags"]),
            "photo_keys": json.loads(row["photo_keys"]),
            **given,
        }
        fields = await _checked_fields(**merged)
        event = await one(Event.select().where(Event.id == row["event"]), "No such event")
        tags = await _derive_tags(fields, stall, event)
        columns = [_COLUMN_OF.get(k, k) for k in given]
        changes = {**{c: fields[c] for c in columns}, **tags}
        if "quantity" in changes:
            await _save_holds(uow, row, changes)  # fewer units than holds: the item reads reserved
        else:
            await _save_changes(uow, row, changes)
        await _write_tags(row["id"], row["event"], tags)
    return await get_item(item_id)


# --- holds: some units kept for a visitor until a time -------------------------------------
# An item with units left beyond its holds stays "available" (in search and on the stall);
# it reads "reserved" only while its holds cover every unit left. A hold lasts as long as the
# vendor chose: never past the event's end (once the event is over, never past MAX_HOLD from
# now), and never more than MAX_HOLD.

MAX_HOLD = timedelta(hours=24)
DEFAULT_HOLD_MINUTES = 30
UNDO_WINDOW = timedelta(hours=2)  # how long after a sale its vendor may undo it


@dataclass(frozen=True)
class HoldLength:
    """How long a hold lasts: `minutes` from now, `until` a time, or `until_end` of the event.
    None of them: DEFAULT_HOLD_MINUTES, cut short at the event's end."""

    minutes: int | None = None
    until: datetime | None = None
    until_end: bool = False


@dataclass(frozen=True)
class HoldView:
    id: UUID
    item_id: UUID
    device_id: UUID | None
    quantity: int
    until: datetime


async def reserve_item(
    services: Services,
    actor: Actor | None,
    item_id: UUID,
    minutes: int | None = None,
    device_id: UUID | None = None,
    *,
    quantity: int = 1,
    length: HoldLength | None = None,
    hold_id: UUID | None = None,
) -> ItemView:
    """Hold `quantity` units for a visitor (`device_id`) or for no one in particular.

    A visitor has one hold per item: holding for them again sets its quantity and length. A
    client-chosen `hold_id` makes a retried hold count once.
    """
    quantity = count(quantity, "quantity", low=1, high=MAX_QUANTITY)
    if minutes is not None:
        length = replace(length or HoldLength(), minutes=minutes)
    async with unit_of_work(services.engine, services.publish) as uow:
        row, _ = await _owned_item(actor, item_id)
        if hold_id is not None and (same := await ItemHold.select().where(ItemHold.id == hold_id).first()):
            if same["item"] != row["id"]:
                raise Conflict("This hold id is already taken", field="hold_id")
            return await sized_item_view(row)
        _refuse_if_sold(row)
        until = await _hold_until(row["event"], length or HoldLength())
        holds = await _holds_of(row["id"])
        mine = next((h for h in holds if device_id is not None and h["device"] == device_id), None)
        free = int(row["quantity"]) - sum(int(h["quantity"]) for h in holds) + (int(mine["quantity"]) if mine else 0)
        if quantity > free:
            what = "nothing is" if free <= 0 else f"only {free} {'is' if free == 1 else 'are'}"
            raise Conflict(f"Cannot hold {quantity}: {what} left to hold", field="quantity")
        if mine is not None:
            await ItemHold.update({ItemHold.quantity: quantity, ItemHold.until: until}).where(ItemHold.id == mine["id"])
        else:
            await ItemHold.insert(
                ItemHold(
                    id=hold_id or uuid4(),
                    event=row["event"],
                    item=row["id"],
                    device=device_id,
                    quantity=quantity,
                    until=until,
                )
            )
        await _save_holds(uow, row)
    return await get_item(item_id)


async def release_item(
    services: Services,
    actor: Actor | None,
    item_id: UUID,
    *,
    hold_id: UUID | None = None,
    device_id: UUID | None = None,
) -> ItemView:
    """Let go of one hold (by id, or the visitor's), or of every hold of the item if neither is
    named. Releasing what is already gone changes nothing."""
    async with unit_of_work(services.engine, services.publish) as uow:
        row, _ = await _owned_item(actor, item_id)
        _refuse_if_sold(row)
        query = ItemHold.delete().where(ItemHold.item == row["id"])
        if hold_id is not None:
            query = query.where(ItemHold.id == hold_id)
        if device_id is not None:
            query = query.where(ItemHold.device == device_id)
        await query
        await _save_holds(uow, row)
    return await get_item(item_id)


async def holds_of(actor: Actor | None, item_id: UUID) -> list[HoldView]:
    """The item's holds, soonest to lapse first: for its vendor only."""
    row, _ = await _owned_item(actor, item_id, lock=False)
    return [_hold_view(h) for h in await _holds_of(row["id"])]


async def expire_hold(services: Services, hold_id: UUID) -> dict[str, Any] | None:
    """Let a lapsed hold go (the sweeper calls this, no actor needed).

    Returns the hold with its item's title and stall, or None if it no longer had to lapse
    (sold, released or extended meanwhile): the check and the change are one transaction.
    """
    async with unit_of_work(services.engine, services.publish) as uow:
        hold = await ItemHold.select().where(ItemHold.id == hold_id).first()
        if hold is None:
            return None
        row = await locked(Item.select().where(Item.id == hold["item"])).first()
        hold = await ItemHold.select().where(ItemHold.id == hold_id).first()
        if row is None or hold is None or utc(hold["until"]) > datetime.now(UTC):
            return None
        await ItemHold.delete().where(ItemHold.id == hold_id)
        if row["state"] != "sold":
            await _save_holds(uow, row)
        return {**hold, "title": row["title"], "stall": row["stall"]}


async def lapsed_holds(limit: int = 100) -> list[UUID]:
    rows = await ItemHold.select(ItemHold.id).where(ItemHold.until < datetime.now(UTC)).limit(limit)
    return [UUID(str(r["id"])) for r in rows]


async def _holds_of(item_id: object) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ItemHold.select().where(ItemHold.item == item_id).order_by(ItemHold.until).order_by(ItemHold.id)
    )
    return rows


def _hold_view(row: dict[str, Any]) -> HoldView:
    return HoldView(
        id=UUID(str(row["id"])),
        item_id=UUID(str(row["item"])),
        device_id=UUID(str(row["device"])) if row["device"] else None,
        quantity=int(row["quantity"]),
        until=utc(row["until"]),
    )


async def _hold_until(event_id: object, length: HoldLength) -> datetime:
    """When a hold of `length` ends; a clear refusal when it is not a length a hold may have."""
    event = await one(Event.select(Event.ends_at, Event.time_zone).where(Event.id == event_id), "No such event")
    now = datetime.now(UTC)
    ends = utc(event["ends_at"])
    latest = min(ends, now + MAX_HOLD) if ends > now else now + MAX_HOLD
    given = [length.minutes is not None, length.until is not None, length.until_end]
    if sum(given) > 1:
        raise Invalid("Give one of minutes, until or until_end", field="minutes")
    if length.until_end:
        if ends <= now:
            raise Invalid("The event has ended: choose how many minutes to hold it", field="until_end")
        return latest
    if length.minutes is not None:
        if isinstance(length.minutes, bool) or not isinstance(length.minutes, int) or length.minutes < 1:
            raise Invalid("minutes must be a whole number of at least 1", field="minutes")
        until = now + timedelta(minutes=length.minutes)
        field = "minutes"
    elif length.until is not None:
        if length.until.tzinfo is None:
            raise Invalid("until must be a time with its UTC offset, e.g. 2026-06-06T15:00:00+01:00", field="until")
        until = length.until.astimezone(UTC)
        if until <= now:
            raise Invalid("until must be in the future", field="until")
        field = "until"
    else:
        return min(now + timedelta(minutes=DEFAULT_HOLD_MINUTES), latest) if latest > now else now + MAX_HOLD
    if until > latest + timedelta(seconds=1):
        local = latest.astimezone(ZoneInfo(event["time_zone"]))
        why = "the end of the event" if latest == ends else f"{int(MAX_HOLD.total_seconds() // 3600)} hours from now"
        raise Invalid(f"A hold can last until {why} ({local:%H:%M}) at the latest", field=field)
    return min(until, latest)


async def _save_holds(uow: UnitOfWork, row: dict[str, Any], changes: dict[str, Any] | None = None) -> None:
    """Write the item's `held`, next lapse and state from its holds (plus `changes`)."""
    changes = dict(changes or {})
    holds = await _holds_of(row["id"])
    left = int(changes.get("quantity", row["quantity"]))
    held = sum(int(h["quantity"]) for h in holds)
    state = changes.get("state", row["state"])
    if state != "sold":
        state = "reserved" if held > 0 and held >= left else "available"
    changes.update(
        held=held,
        state=state,
        reserved_until=utc(holds[0]["until"]) if holds else None,
        reserved_for=None,
    )
    current = {k: row.get(k) for k in changes}
    if (was := current.get("reserved_until")) is not None:
        current["reserved_until"] = utc(was)
    if current != changes:
        await _save_changes(uow, row, changes)


@dataclass(frozen=True)
class SaleResult:
    sale: SaleView
    item: ItemView


async def sell_item(
    services: Services,
    actor: Actor | None,
    item_id: UUID,
    quantity: int = 1,
    sale_amount: int | None = None,
    sale_id: UUID | None = None,
    sold_at: datetime | None = None,
    *,
    hold_id: UUID | None = None,
    device_id: UUID | None = None,
    from_holds: bool = False,
) -> SaleResult:
    """Record a sale of `quantity` units (a delta, so two offline sales both count).

    Sold to the visitor a hold is for (`hold_id`, or `device_id`): the sale uses up that hold;
    `from_holds`: sold to someone something was held for, it uses up holds, soonest to lapse first
    (what an offline phone that knows no hold ids says).
    Otherwise it comes out of the units nobody holds first; only a sale larger than those uses
    up holds, soonest to lapse first (the jar is gone, whoever it was kept for).
    """
    quantity = count(quantity, "quantity", low=1, high=MAX_QUANTITY)
    async with unit_of_work(services.engine, services.publish) as uow:
        # Who is asking comes first: a replayed sale id answers only the vendor who owns the item,
        # so a sale id seen elsewhere reveals nothing to anyone else.
        row, _ = await _owned_item(actor, item_id)
        if sale_id is not None and (done := await Sale.select().where(Sale.id == sale_id).first()):
            if done["item"] != row["id"]:
                raise Conflict("This sale id is already taken; record the sale with a new id", field="sale_id")
            return SaleResult(sale_view(done), await get_item(item_id))
        _refuse_if_sold(row)
        left = int(row["quantity"])
        if quantity > left:
            raise Conflict(f"Only {left} left; cannot sell {quantity}", field="quantity")
        paid = amount(int(row["price"]) * quantity if sale_amount is None else sale_amount, "amount", allow_zero=True)
        used = await _use_holds(row, quantity, hold_id, device_id, from_holds)
        now = sold_at or datetime.now(UTC)
        sale = Sale(
            id=sale_id or uuid4(),
            event=row["event"],
            stall=row["stall"],
            item=row["id"],
            quantity=quantity,
            amount=paid,
            currency=row["currency"],
            tag_keys=row["tag_keys"],
            causes=row["causes"],
            sold_at=now,
            recorded_by=actor.account_id if actor else None,
            holds=json.dumps(used),
        )
        await sale.save()
        changes: dict[str, Any] = {"quantity": left - quantity}
        if left - quantity == 0:
            changes.update(state="sold")
            await ItemHold.delete().where(ItemHold.item == row["id"])
        await _save_holds(uow, row, changes)
        uow.record(event_scope(row["event"]), "sale", sale.id, 1)
    sale_row = await one(Sale.select().where(Sale.id == sale.id), "No such sale")
    return SaleResult(sale_view(sale_row), await get_item(item_id))


async def _use_holds(
    row: dict[str, Any], quantity: int, hold_id: UUID | None, device_id: UUID | None, from_holds: bool = False
) -> list[dict[str, Any]]:
    """Take `quantity` sold units out of the holds as `sell_item` says; returns what was used."""
    holds = await _holds_of(row["id"])
    named = [
        h
        for h in holds
        if (hold_id is not None and h["id"] == hold_id) or (device_id is not None and h["device"] == device_id)
    ]
    if (hold_id is not None or device_id is not None) and not named:
        raise Conflict("That hold is no longer there (released or lapsed); sell without it", field="hold_id")
    if from_holds and not named:
        named = list(holds)
    need = quantity
    used: list[dict[str, Any]] = []

    async def take(hold: dict[str, Any], units: int) -> None:
        nonlocal need
        if units <= 0:
            return
        need -= units
        used.append(
            {
                "device": str(hold["device"]) if hold["device"] else None,
                "quantity": units,
                "until": rfc3339(hold["until"]),  # kept with the sale: an undo restores it
            }
        )
        if units >= int(hold["quantity"]):
            await ItemHold.delete().where(ItemHold.id == hold["id"])
        else:
            await ItemHold.update({ItemHold.quantity: int(hold["quantity"]) - units}).where(ItemHold.id == hold["id"])

    for hold in named:
        await take(hold, min(need, int(hold["quantity"])))
    others = [h for h in holds if h not in named]
    free = int(row["quantity"]) - sum(int(h["quantity"]) for h in holds)
    need -= min(need, max(free, 0))
    for hold in others:
        await take(hold, min(need, int(hold["quantity"])))
    return used


@dataclass(frozen=True)
class UndoResult:
    sale: SaleView
    item: ItemView


async def undo_sale(
    services: Services, actor: Actor | None, sale_id: UUID, *, item_id: UUID | None = None
) -> UndoResult:
    """The stall's vendor takes back a sale recorded in the last UNDO_WINDOW: the units go back
    on sale, holds the sale used up come back if they would still be running, and the sale counts
    in no total any more. Undoing it again changes nothing."""
    async with unit_of_work(services.engine, services.publish) as uow:
        sale = await Sale.select().where(Sale.id == sale_id).first()
        if sale is None or (item_id is not None and sale["item"] != item_id):
            raise NotFound(f"No sale {sale_id}")
        row, _ = await _owned_item(actor, UUID(str(sale["item"])), allow_deleted=True)
        if sale["undone_at"] is not None:
            return UndoResult(sale_view(sale), await get_item(UUID(str(row["id"])), include_deleted=True))
        if row["deleted_at"] is not None:
            raise Conflict("This item was deleted; its sales cannot be undone", field="sale_id")
        now = datetime.now(UTC)
        if now - utc(sale["sold_at"]) > UNDO_WINDOW:
            hours = int(UNDO_WINDOW.total_seconds() // 3600)
            raise Conflict(f"Only a sale of the last {hours} hours can be undone", field="sale_id")
        await Sale.update({Sale.undone_at: now}).where(Sale.id == sale_id)
        for hold in json.loads(sale["holds"] or "[]"):
            until = datetime.fromisoformat(hold["until"])  # "Z" now, "+00:00" in older sales: both aware UTC
            if until > now:
                await ItemHold.insert(
                    ItemHold(
                        id=uuid4(),
                        event=row["event"],
                        item=row["id"],
                        device=UUID(hold["device"]) if hold["device"] else None,
                        quantity=int(hold["quantity"]),
                        until=until,
                    )
                )
        changes: dict[str, Any] = {"quantity": int(row["quantity"]) + int(sale["quantity"])}
        if row["state"] == "sold":
            changes["state"] = "available"
        await _save_holds(uow, row, changes)
        uow.record(event_scope(row["event"]), "sale", sale["id"], 2)
    sale_row = await one(Sale.select().where(Sale.id == sale_id), "No such sale")
    return UndoResult(sale_view(sale_row), await get_item(UUID(str(row["id"]))))


async def delete_item(services: Services, actor: Actor | None, item_id: UUID) -> None:
    """Soft delete: the row stays as a tombstone so offline replicas learn it is gone."""
    async with unit_of_work(services.engine, services.publish) as uow:
        row, _ = await _owned_item(actor, item_id)
        if row["deleted_at"] is not None:
            return
        await _save_changes(uow, row, {"deleted_at": datetime.now(UTC)}, op="delete")
        await ItemTag.delete().where(ItemTag.item == row["id"])


async def get_item(item_id: UUID, *, include_deleted: bool = False) -> ItemView:
    """The item as stored, hidden or not: for code that already checked who is asking."""
    row = await Item.select().where(Item.id == item_id).first()
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        raise NotFound(f"No item {item_id}")
    return await sized_item_view(row)


async def visible_item(actor: Actor | None, item_id: UUID) -> ItemView:
    """The item as `actor` may see it. Deleted is gone for everyone; hidden (the item, or its
    whole stall) is 404 to all but the stall's vendor and the event's organizer."""
    row = await Item.select().where(Item.id == item_id).first()
    if row is None or row["deleted_at"] is not None:
        raise NotFound(f"No item {item_id}")
    stall = await one(Stall.select(Stall.hidden, Stall.vendor).where(Stall.id == row["stall"]), "No such stall")
    if (row["hidden"] or stall["hidden"]) and not await may_see_hidden(actor, row["event"], stall["vendor"]):
        raise NotFound(f"No item {item_id}")
    return await sized_item_view(row)


async def tombstone_for(actor: Actor | None, item_id: UUID) -> dict[str, Any] | None:
    """A deleted item's bare tombstone, for its vendor or organizer only; None for anyone else.

    A rejected offline edit of a deleted item must make the vendor's replica drop it, without
    handing the deleted item's content (or even its existence) to anyone else.
    """
    row = await Item.select(Item.id, Item.event, Item.stall, Item.version, Item.deleted_at).where(Item.id == item_id)
    if not row or row[0]["deleted_at"] is None:
        return None
    stall = await Stall.select(Stall.vendor).where(Stall.id == row[0]["stall"]).first()
    if stall is None or not await may_see_hidden(actor, row[0]["event"], stall["vendor"]):
        return None
    return {
        "id": str(item_id),
        "event_id": str(row[0]["event"]),
        "stall_id": str(row[0]["stall"]),
        "state": "deleted",
        "deleted": True,
        "version": int(row[0]["version"]),
    }


async def list_items(
    event_id: UUID,
    *,
    stall_id: UUID | None = None,
    tag: str | None = None,
    states: tuple[str, ...] = STATES,
    limit: int = 100,
    offset: int = 0,
) -> list[ItemView]:
    """Items of an event for browsing (search has its own engine); hidden and deleted left out."""
    query = Item.select().where((Item.event == event_id) & (Item.deleted_at.is_null()) & (Item.hidden.eq(False)))
    if stall_id is not None:
        query = query.where(Item.stall == stall_id)
    if tag:
        query = query.where(
            Item.id.is_in(
                ItemTag.select(ItemTag.item).where((ItemTag.event == event_id) & (ItemTag.tag_key == tag_key(tag)))
            )
        )
    if set(states) != set(STATES):
        query = query.where(Item.state.is_in(list(states)))
    rows = await query.order_by(Item.created_at, ascending=False).order_by(Item.id).limit(limit).offset(offset)
    return await item_views(rows)


async def list_hashtags(event_id: UUID) -> list[HashtagCount]:
    """Every tag in use at the event with its item count, most used first."""
    rows = await ItemTag.raw(
        "SELECT it.tag_key AS key, MIN(it.tag) AS tag, COUNT(*) AS items FROM item_tag it "
        "JOIN item i ON i.id = it.item WHERE it.event = {} AND i.deleted_at IS NULL AND i.hidden = {} "
        "GROUP BY it.tag_key ORDER BY items DESC, key",
        event_id,
        False,
    )
    return [HashtagCount(tag=r["tag"], key=r["key"], items=int(r["items"])) for r in rows]


async def _owned_item(
    actor: Actor | None, item_id: UUID, *, lock: bool = True, allow_deleted: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    query = Item.select().where(Item.id == item_id)
    row = await (locked(query) if lock else query).first()
    if row is None or (row["deleted_at"] is not None and not allow_deleted):
        raise NotFound(f"No item {item_id}")
    stall = await one(Stall.select().where(Stall.id == row["stall"]), "No such stall")
    try:
        await owned_stall(actor, stall["code"])
    except Forbidden:
        raise Forbidden("Only the vendor of this item's stall can change it") from None
    return row, stall


def _refuse_if_sold(row: dict[str, Any]) -> None:
    if row["state"] == "sold":
        raise Conflict("This item is sold out; undo its last sale to put it back on sale", field="state")


_MISSING = object()


async def _save_changes(uow: UnitOfWork, row: dict[str, Any], changes: dict[str, Any], op: str = "upsert") -> None:
    version = int(row["version"]) + 1
    values = {getattr(Item, k): v for k, v in changes.items()}
    await Item.update({**values, Item.version: version, Item.updated_at: datetime.now(UTC)}).where(Item.id == row["id"])
    # Name only the columns whose value moved (an edit rewrites every derived tag column), so a
    # pull's patch carries just those; a value that merely looks different is named too (safe).
    touched = (*sorted(k for k, v in changes.items() if row.get(k, _MISSING) != v), "updated_at")
    uow.record(event_scope(row["event"]), "item", row["id"], version, op=op, changed=touched)
    if "state" in changes or op == "delete":
        await announce_item_state(
            uow,
            row["id"],
            changes.get("state", row["state"]) if op != "delete" else "deleted",
            int(changes.get("quantity", row["quantity"])),
            version,
        )


async def _checked_fields(
    title: str, description: str, price: object, quantity: object, hashtags: list[str], photo_keys: list[str]
) -> dict[str, Any]:
    if not isinstance(hashtags, list) or len(hashtags) > MAX_HASHTAGS:
        raise Invalid(f"hashtags must be a list of at most {MAX_HASHTAGS} tags", field="hashtags")
    if not isinstance(photo_keys, list) or len(photo_keys) > MAX_PHOTOS:
        raise Invalid(f"photo_keys must be a list of at most {MAX_PHOTOS} photos", field="photo_keys")
    keys = list(dict.fromkeys(photo_keys))
    if keys:
        found = {r["key"] for r in await Photo.select(Photo.key).where(Photo.key.is_in(keys))}
        if missing := [k for k in keys if k not in found]:
            raise Invalid(
                f"photo_keys: unknown photo {missing[0]!r}; upload it to /api/photos first", field="photo_keys"
            )
    return {
        "title": text(title, "title", max_len=120, min_len=1),
        "description": text(description, "description", max_len=2000, multiline=True),
        "price": amount(price, "price"),
        "quantity": count(quantity, "quantity", low=0, high=MAX_QUANTITY),
        "hashtags": [hashtag(t, "hashtags") for t in hashtags],
        "own_tags": json.dumps(unique_tags(hashtag(t, "hashtags") for t in hashtags), ensure_ascii=False),
        "photo_keys": json.dumps(keys),
    }


async def _derive_tags(fields: dict[str, Any], stall: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    written = unique_tags([*fields.pop("hashtags"), *find_tags(fields["title"]), *find_tags(fields["description"])])
    cause_rows = await Cause.select(Cause.tag_key, Cause.tag).where(Cause.event == stall["event"])
    cause_tags = {r["tag_key"]: r["tag"] for r in cause_rows}
    causes = [tag_key(t) for t in written if tag_key(t) in cause_tags]
    # A charity stall's default cause counts for every item that names no cause of its own.
    default = cause_tags.get(str(stall.get("default_cause") or "")) if not causes else None
    if default is not None:
        causes = [tag_key(default)]
    implied = [stall["store_tag"], event["hashtag"], *([default] if default else [])]
    implied += [SOCIAL_CAUSE_TAG] if causes else []
    tags = unique_tags([*written, *implied])
    return {
        "hashtags": json.dumps(tags, ensure_ascii=False),
        "tag_keys": json.dumps([tag_key(t) for t in tags], ensure_ascii=False),
        "causes": json.dumps(causes),
    }


async def _write_tags(item_id: object, event_id: object, tags: dict[str, Any]) -> None:
    await ItemTag.delete().where(ItemTag.item == item_id)
    display = json.loads(tags["hashtags"])
    await ItemTag.insert(*(ItemTag(item=item_id, event=event_id, tag_key=tag_key(t), tag=t) for t in display))


async def set_item_hidden(services: Services, actor: Actor | None, item_id: UUID, hidden: bool) -> ItemView:
    """Moderation: the event's organizer hides (or shows again) an item; search and sync drop it."""
    from server.domain.events import owned_event

    async with unit_of_work(services.engine, services.publish) as uow:
        row = await one(locked(Item.select().where(Item.id == item_id)), f"No item {item_id}")
        await owned_event(actor, str(row["event"]))
        if bool(row["hidden"]) != hidden:
            await _save_changes(uow, row, {"hidden": hidden})
    return await get_item(item_id, include_deleted=True)


# ---- crediting causes (the organizer's side; the stall's default cause) ------------------------


@dataclass(frozen=True)
class UncreditedItem:
    """An item tagged #SocialCause that counts for no cause of the event, and what it sold
    (sales not credited to any cause)."""

    item: ItemView
    stall_code: str
    stall_name: str
    stall_number: str
    sold_amount: int
    sold_count: int


async def recredit_items(uow: UnitOfWork, event_id: object, *, stall_id: object = None, key: str = "") -> int:
    """Derive the causes of unsold items again, after what credits them changed: a stall's
    default cause (`stall_id`), or a new cause whose tag items already carry (`key`). Sold items
    keep theirs: a sale is final. Returns how many items changed."""
    query = Item.select().where((Item.event == event_id) & Item.deleted_at.is_null() & (Item.state != "sold"))
    if stall_id is not None:
        query = query.where(Item.stall == stall_id)
    if key:
        tagged = ItemTag.select(ItemTag.item).where((ItemTag.event == event_id) & (ItemTag.tag_key == key))
        query = query.where(Item.id.is_in(tagged))
    event = await one(Event.select().where(Event.id == event_id), "No such event")
    stalls: dict[Any, dict[str, Any]] = {}
    changed = 0
    for row in await locked(query):
        if row["stall"] not in stalls:
            stalls[row["stall"]] = await one(Stall.select().where(Stall.id == row["stall"]), "No such stall")
        fields = {"title": row["title"], "description": row["description"], "hashtags": json.loads(row["own_tags"])}
        tags = await _derive_tags(fields, stalls[row["stall"]], event)
        if tags["hashtags"] != row["hashtags"] or tags["causes"] != row["causes"]:
            await _save_changes(uow, row, tags)
            await _write_tags(row["id"], row["event"], tags)
            changed += 1
    return changed


async def uncredited_items(actor: Actor | None, event_slug: str) -> list[UncreditedItem]:
    """Items tagged #SocialCause that count for no cause: the money they raise would go missing
    from every cause's total until the organizer assigns them one."""
    from server.domain.events import owned_event

    event = await owned_event(actor, event_slug)
    tagged = ItemTag.select(ItemTag.item).where((ItemTag.event == event["id"]) & (ItemTag.tag_key == SOCIAL_CAUSE_KEY))
    rows = (
        await Item.select()
        .where((Item.event == event["id"]) & Item.deleted_at.is_null() & (Item.causes == "[]"))
        .where(Item.id.is_in(tagged))
        .order_by(Item.created_at)
    )
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    sold: dict[Any, list[int]] = {}
    sales = Sale.select(Sale.item, Sale.amount).where(
        Sale.item.is_in(ids) & (Sale.causes == "[]") & Sale.undone_at.is_null()
    )
    for sale in await sales:
        acc = sold.setdefault(sale["item"], [0, 0])
        acc[0] += int(sale["amount"])
        acc[1] += 1
    stall_rows = await Stall.select(Stall.id, Stall.code, Stall.name, Stall.number).where(
        Stall.id.is_in(list({r["stall"] for r in rows}))
    )
    stalls = {s["id"]: s for s in stall_rows}
    return [
        UncreditedItem(
            view,
            stalls[r["stall"]]["code"],
            stalls[r["stall"]]["name"],
            stalls[r["stall"]]["number"],
            *sold.get(r["id"], [0, 0]),
        )
        for r, view in zip(rows, await item_views(rows), strict=True)
    ]


async def assign_cause(services: Services, actor: Actor | None, item_id: UUID, cause: str) -> ItemView:
    """The organizer credits an item that names no cause to one of the event's causes: the cause's
    tag joins the item's own tags, and its sales so far (credited to no cause) count for it too.
    Sold items included: crediting the money is the organizer's call, not a change to the sale."""
    from server.domain.events import owned_event

    wanted = tag_key(hashtag(cause, "cause")) if isinstance(cause, str) else ""
    if not wanted:
        raise Invalid("cause must be the hashtag of one of the event's causes", field="cause")
    async with unit_of_work(services.engine, services.publish) as uow:
        row = await locked(Item.select().where(Item.id == item_id)).first()
        if row is None or row["deleted_at"] is not None:
            raise NotFound(f"No item {item_id}")
        event = await owned_event(actor, str(row["event"]))
        found = await Cause.select().where((Cause.event == row["event"]) & (Cause.tag_key == wanted)).first()
        if found is None:
            raise Invalid(f"This event has no cause tagged {cause.strip()}", field="cause")
        if json.loads(row["causes"]):
            named = ", ".join(json.loads(row["causes"]))
            raise Conflict(f"This item already counts for a cause ({named})", field="cause")
        stall = await one(Stall.select().where(Stall.id == row["stall"]), "No such stall")
        own = unique_tags([*json.loads(row["own_tags"]), found["tag"]])
        fields = {"title": row["title"], "description": row["description"], "hashtags": own}
        tags = await _derive_tags(fields, stall, event)
        await _save_changes(uow, row, {"own_tags": json.dumps(own, ensure_ascii=False), **tags})
        await _write_tags(row["id"], row["event"], tags)
        for sale in await Sale.select(Sale.id).where((Sale.item == row["id"]) & (Sale.causes == "[]")):
            await Sale.update({Sale.causes: tags["causes"]}).where(Sale.id == sale["id"])
            uow.record(event_scope(row["event"]), "sale", sale["id"], 1)
    return await get_item(item_id, include_deleted=True)
