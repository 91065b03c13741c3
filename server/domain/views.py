"""The shapes the API and the sync feed hand out; one view per entity, built in one place.

A photo's width and height are those stored at upload (the `photo` table): views that show
photos get them from `photo_sizes`, so an app can reserve a photo's space before it loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from server.domain.rows import as_uuid
from server.tables import Photo

PhotoSizes = Mapping[str, tuple[int, int]]  # photo key -> (width, height)


@dataclass(frozen=True)
class PhotoView:
    key: str
    thumb: str  # ~320 px, for lists
    detail: str  # ~960 px
    original: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class EventView:
    id: UUID
    slug: str
    name: str
    hashtag: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    currency: str
    version: int


@dataclass(frozen=True)
class CauseView:
    id: UUID
    event_id: UUID
    name: str
    tag: str
    goal: int | None
    version: int


@dataclass(frozen=True)
class StallView:
    id: UUID
    event_id: UUID
    code: str
    number: str
    location: str
    name: str
    description: str
    store_tag: str
    url: str
    version: int
    hidden: bool = False
    default_cause: str = ""  # a charity stall's cause (tag key), credited on items that name none


@dataclass(frozen=True)
class ItemView:
    id: UUID
    event_id: UUID
    stall_id: UUID
    title: str
    description: str
    price: int
    currency: str
    quantity: int
    hashtags: list[str]
    causes: list[str]
    photos: list[PhotoView]
    state: str
    reserved_until: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted: bool = False
    hidden: bool = False
    tag_keys: list[str] = field(default_factory=list)
    held: int = 0  # units on hold for visitors; `state` is "reserved" only when held >= quantity


@dataclass(frozen=True)
class SaleView:
    id: UUID
    item_id: UUID
    stall_id: UUID
    quantity: int
    amount: int
    currency: str
    sold_at: datetime
    undone: bool = False  # its vendor undid it: it counts in no total


@dataclass(frozen=True)
class HashtagCount:
    tag: str
    key: str
    items: int


def photo_view(key: str, width: int = 0, height: int = 0) -> PhotoView:
    base = f"/photos/{key}"
    return PhotoView(key, f"{base}/320", f"{base}/960", f"{base}/original", width, height)


async def photo_sizes(keys: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Width and height of each stored photo among `keys`, in one query (a key with no row is
    left out: its view says 0 x 0)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    rows = await Photo.select(Photo.key, Photo.width, Photo.height).where(Photo.key.is_in(wanted))
    return {r["key"]: (int(r["width"]), int(r["height"])) for r in rows}


def sized_photo_view(key: str, sizes: PhotoSizes) -> PhotoView:
    return photo_view(key, *sizes.get(key, (0, 0)))


async def item_views(rows: Sequence[dict[str, Any]]) -> list[ItemView]:
    """Views of item rows with their photos' real sizes (one query for all of them)."""
    sizes = await photo_sizes(k for r in rows for k in json.loads(r["photo_keys"]))
    return [item_view(r, sizes) for r in rows]


async def sized_item_view(row: dict[str, Any]) -> ItemView:
    """The view of one item row with its photos' real sizes."""
    return (await item_views([row]))[0]


def event_view(row: dict[str, Any]) -> EventView:
    return EventView(
        id=as_uuid(row["id"]),
        slug=row["slug"],
        name=row["name"],
        hashtag=row["hashtag"],
        venue=row["venue"],
        starts_at=utc(row["starts_at"]),
        ends_at=utc(row["ends_at"]),
        time_zone=row["time_zone"],
        currency=row["currency"],
        version=row["version"],
    )


def cause_view(row: dict[str, Any]) -> CauseView:
    return CauseView(
        id=as_uuid(row["id"]),
        event_id=as_uuid(row["event"]),
        name=row["name"],
        tag=row["tag"],
        goal=row["goal"],
        version=row["version"],
    )


def stall_view(row: dict[str, Any], base_url: str) -> StallView:
    return StallView(
        id=as_uuid(row["id"]),
        event_id=as_uuid(row["event"]),
        code=row["code"],
        number=row["number"],
        location=row["location"],
        name=row["name"],
        description=row["description"],
        store_tag=row["store_tag"],
        url=f"{base_url}/s/{row['code']}",
        version=row["version"],
        hidden=bool(row["hidden"]),
        default_cause=row.get("default_cause") or "",
    )


def item_view(row: dict[str, Any], sizes: PhotoSizes | None = None) -> ItemView:
    """The view of an item row; photos are 0 x 0 unless `sizes` has them (`item_views`)."""
    return ItemView(
        id=as_uuid(row["id"]),
        event_id=as_uuid(row["event"]),
        stall_id=as_uuid(row["stall"]),
        title=row["title"],
        description=row["description"],
        price=int(row["price"]),
        currency=row["currency"],
        quantity=int(row["quantity"]),
        hashtags=json.loads(row["hashtags"]),
        causes=json.loads(row["causes"]),
        photos=[sized_photo_view(k, sizes or {}) for k in json.loads(row["photo_keys"])],
        state=row["state"],
        reserved_until=utc(row["reserved_until"]) if row["reserved_until"] else None,
        version=row["version"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        deleted=row["deleted_at"] is not None,
        hidden=bool(row["hidden"]),
        tag_keys=json.loads(row["tag_keys"]),
        held=int(row.get("held") or 0),
    )


def sale_view(row: dict[str, Any]) -> SaleView:
    return SaleView(
        id=as_uuid(row["id"]),
        item_id=as_uuid(row["item"]),
        stall_id=as_uuid(row["stall"]),
        quantity=row["quantity"],
        amount=int(row["amount"]),
        currency=row["currency"],
        sold_at=utc(row["sold_at"]),
        undone=row.get("undone_at") is not None,
    )


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Souk stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
