"""Items and sales: what vendors list, reserve and sell.

Rules that live here and nowhere else (REST routes and sync mutations both call these):
- only the stall's vendor changes its items;
- sold is final: a sold item cannot be edited, reserved or sold again;
- a sale takes quantity as a delta and is refused when stock is short; the last unit sold
  turns the item `sold`;
- tags are derived: what the vendor wrote (inline and explicit) plus the stall's #StoreName,
  the event's own tag, and #SocialCause when a cause tag of the event is present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from server.domain.actors import Actor
from server.domain.chat.receipts import announce_item_state
from server.domain.context import Services
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.hashtags import SOCIAL_CAUSE_TAG, find_tags, tag_key, unique_tags
from server.domain.rows import locked, one
from server.domain.stalls import may_see_hidden, owned_stall
from server.domain.validate import amount, count, hashtag, text
from server.domain.views import HashtagCount, ItemView, SaleView, item_view, sale_view, utc
from server.tables import Cause, Event, Item, ItemTag, Photo, Sale, Stall
from sync.log import UnitOfWork, event_scope, unit_of_work

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
                return item_view(existing)
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
            return item_view(row)
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
        await _save_changes(uow, row, changes)
        await _write_tags(row["id"], row["event"], tags)
    return await get_item(item_id)


async def reserve_item(
    services: Services, actor: Actor | None, item_id: UUID, minutes: int = 30, device_id: UUID | None = None
) -> ItemView:
    """Hold an item for a visitor; `reserved_until` lets the hold lapse on its own."""
    minutes = count(minutes, "minutes", low=1, high=7 * 24 * 60)
    async with unit_of_work(services.engine, services.publish) as uow:
        row, _ = await _owned_item(actor, item_id)
        _refuse_if_sold(row)
        until = datetime.now(UTC) + timedelta(minutes=minutes)
        await _save_changes(uow, row, {"state": "reserved", "reserved_until": until, "reserved_for": device_id})
    return await get_item(item_id)


async def release_item(services: Services, actor: Actor | None, item_id: UUID) -> ItemView:
    async with unit_of_work(services.engine, services.publish) as uow:
        row, _ = await _owned_item(actor, item_id)
        _refuse_if_sold(row)
        if row["state"] == "reserved":
            await _save_changes(uow, row, {"state": "available", "reserved_until": None, "reserved_for": None})
    return await get_item(item_id)


async def expire_reservation(services: Services, item_id: UUID) -> dict[str, Any] | None:
    """Make a lapsed reservation available again (the sweeper calls this, no actor needed).

    Returns the item row as it was when the hold lapsed, or None if it no longer had to lapse
    (sold, released or extended meanwhile): the check and the change are one transaction.
    """
    async with unit_of_work(services.engine, services.publish) as uow:
        row = await locked(Item.select().where(Item.id == item_id)).first()
        now = datetime.now(UTC)
        if row is None or row["state"] != "reserved" or row["reserved_until"] is None:
            return None
        if utc(row["reserved_until"]) > now:
            return None
        await _save_changes(uow, row, {"state": "available", "reserved_until": None, "reserved_for": None})
        return row


async def lapsed_reservations(limit: int = 100) -> list[UUID]:
    rows = (
        await Item.select(Item.id)
        .where((Item.state == "reserved") & (Item.reserved_until < datetime.now(UTC)) & Item.deleted_at.is_null())
        .limit(limit)
    )
    return [UUID(str(r["id"])) for r in rows]


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
) -> SaleResult:
    """Record a sale of `quantity` units (a delta, so two offline sales both count)."""
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
        )
        await sale.save()
        changes: dict[str, Any] = {"quantity": left - quantity}
        if left - quantity == 0:
            changes.update(state="sold", reserved_until=None, reserved_for=None)
        await _save_changes(uow, row, changes)
        uow.record(event_scope(row["event"]), "sale", sale.id, 1)
    sale_row = await one(Sale.select().where(Sale.id == sale.id), "No such sale")
    return SaleResult(sale_view(sale_row), await get_item(item_id))


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
    return item_view(row)


async def visible_item(actor: Actor | None, item_id: UUID) -> ItemView:
    """The item as `actor` may see it. Deleted is gone for everyone; hidden (the item, or its
    whole stall) is 404 to all but the stall's vendor and the event's organizer."""
    row = await Item.select().where(Item.id == item_id).first()
    if row is None or row["deleted_at"] is not None:
        raise NotFound(f"No item {item_id}")
    stall = await one(Stall.select(Stall.hidden, Stall.vendor).where(Stall.id == row["stall"]), "No such stall")
    if (row["hidden"] or stall["hidden"]) and not await may_see_hidden(actor, row["event"], stall["vendor"]):
        raise NotFound(f"No item {item_id}")
    return item_view(row)


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
    return [item_view(r) for r in rows]


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


async def _owned_item(actor: Actor | None, item_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await locked(Item.select().where(Item.id == item_id)).first()
    if row is None or row["deleted_at"] is not None:
        raise NotFound(f"No item {item_id}")
    stall = await one(Stall.select().where(Stall.id == row["stall"]), "No such stall")
    try:
        await owned_stall(actor, stall["code"])
    except Forbidden:
        raise Forbidden("Only the vendor of this item's stall can change it") from None
    return row, stall


def _refuse_if_sold(row: dict[str, Any]) -> None:
    if row["state"] == "sold":
        raise Conflict("This item is sold; a sale is final", field="state")


async def _save_changes(uow: UnitOfWork, row: dict[str, Any], changes: dict[str, Any], op: str = "upsert") -> None:
    version = int(row["version"]) + 1
    values = {getattr(Item, k): v for k, v in changes.items()}
    await Item.update({**values, Item.version: version, Item.updated_at: datetime.now(UTC)}).where(Item.id == row["id"])
    uow.record(event_scope(row["event"]), "item", row["id"], version, op=op)
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
    cause_rows = await Cause.select(Cause.tag_key).where(Cause.event == stall["event"])
    cause_keys = {r["tag_key"] for r in cause_rows}
    causes = [tag_key(t) for t in written if tag_key(t) in cause_keys]
    implied = [stall["store_tag"], event["hashtag"]] + ([SOCIAL_CAUSE_TAG] if causes else [])
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
