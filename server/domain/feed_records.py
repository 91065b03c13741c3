"""Sync format 2: the compact records of a pull page (spec: sync/FORMAT.md).

A format-2 record is the format-1 record (the views the REST routes answer with) minus what the
client already knows or can derive: `id` and `version` travel in the change's envelope,
`event_id` is the pulled event's, photo URLs are built from the key, `tag_keys` are the
hashtags in lower case without `#`, fields at their default are left out, and deleted or hidden
entities are tombstones (data null). Photo keys (64 hex digits: incompressible) are sent once
per page in a table, with their width and height, and items refer to them by index. An item's
times are whole seconds: its microseconds were 6% of a full pull gzipped, and nothing the app
does with them (newest first, a reservation's end) needs less than a second. Ids (the
envelope's and the id fields inside records) are the UUID's 16 bytes in base64url, 22
characters instead of 36, and photo keys the sha256's 32 bytes, 43 characters instead of 64:
random, they do not compress, and gzip codes a base64 character in fewer bits than the 1.5
hex digits that carry as much (ids 56 -> 45 KB of a full pull gzipped, keys -2.4 KB).

Encoding from the format-1 record, rather than from rows a second way, keeps the two formats
carrying the same state: a client expanding a format-2 page gets the records a format-1 client
would have applied.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sync.pull import Change, Edit, Edits, PullResult
from sync.timestamps import rfc3339

FORMAT = 2

# Keys no format-2 record carries: the envelope has them, or they are the pulled event's.
_ENVELOPE = ("id", "version", "event_id")

_HEX_KEY = re.compile(r"[0-9a-f]{64}")

# The id fields inside records, sent short like the envelope's id (an item's `stall` is its own).
_ID_FIELDS = {"conversation": ("stall_id", "device_id", "item_id"), "message": ("conversation_id", "item_id")}


def short_id(value: UUID | str) -> str:
    """A UUID as format 2 sends it: its 16 bytes in base64url without padding (22 characters).
    The client turns it back into the canonical string (pwa/kit/wire.js `canonicalId`)."""
    raw = (value if isinstance(value, UUID) else UUID(value)).bytes
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def short_key(key: str) -> str:
    """A photo key (64 hex digits, a sha256) as format 2 sends it: its 32 bytes in base64url
    without padding (43 characters); the client makes it hex again for the photo's URLs
    (pwa/kit/wire.js `canonicalKey`). A key of another shape is sent as it is."""
    if not _HEX_KEY.fullmatch(key):
        return key
    return base64.urlsafe_b64encode(bytes.fromhex(key)).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Format2Page:
    """One pull page in format 2 (`changes`: [entity, id, version, data or null])."""

    cursor: str
    more: bool  # pull again now with `cursor`; false: caught up
    reset: bool = False  # drop the cursor and pull again without one
    snapshot: bool = False  # part of a snapshot (a fresh replica)
    photos: list[tuple[str, int, int]] = field(default_factory=list)  # [key, width, height]
    # [entity, id, version, data or null], or [entity, id, version, patch, base] (a patch)
    changes: list[tuple[Any, ...]] = field(default_factory=list)
    format: int = FORMAT


def format2_page(result: PullResult, currency: str, edits: Edits | None = None) -> Format2Page:
    """`result` (format-1 records) as a format-2 page; `currency` is the event's (items in it
    leave theirs out). With `edits` (the client merges patches), an item whose changes since the
    cursor touched only fields a patch can carry is sent as `[entity, id, version, patch, base]`."""
    table = _PhotoTable()
    changes: list[tuple[Any, ...]] = []
    for c in result.changes:
        patch = _item_patch(c, edits.get((c.entity, c.id)), table) if edits else None
        if patch is not None:
            changes.append((c.entity, short_id(c.id), c.version, patch[0], patch[1]))
        else:
            changes.append((c.entity, short_id(c.id), c.version, _record(c, currency, table)))
    return Format2Page(
        cursor=result.cursor,
        more=result.has_more,
        reset=result.reset,
        snapshot=result.snapshot,
        photos=table.rows(),
        changes=changes,
    )


class _PhotoTable:
    """The photos one page refers to, in order of first use, each once."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.photos: list[tuple[str, int, int]] = []

    def ref(self, photo: dict[str, Any]) -> int:
        """The index of a format-1 photo (its view, sizes from the `photo` table) in this page."""
        key = photo["key"]
        if key not in self.index:
            self.index[key] = len(self.photos)
            self.photos.append((short_key(key), int(photo["width"]), int(photo["height"])))
        return self.index[key]

    def rows(self) -> list[tuple[str, int, int]]:
        return self.photos


def _record(change: Change, currency: str, photos: _PhotoTable) -> dict[str, Any] | None:
    if change.op == "delete" or change.data is None:
        return None
    data = change.data
    if change.entity == "item":
        return _item(data, currency, photos)
    record = {k: v for k, v in data.items() if k not in _ENVELOPE}
    if change.entity == "stall":
        del record["url"]  # origin + "/s/" + code
        for name, default in (("hidden", False), ("default_cause", "")):
            if record.get(name) == default:
                del record[name]
    elif change.entity == "message" and record.get("photo"):
        photo = record["photo"]
        record["photo"] = {"key": short_key(photo["key"]), "width": photo["width"], "height": photo["height"]}
    for name in _ID_FIELDS.get(change.entity, ()):
        if record.get(name):  # absent ones (an item_id of null) stay null
            record[name] = short_id(record[name])
    return record


def _item(data: dict[str, Any], currency: str, photos: _PhotoTable) -> dict[str, Any]:
    created = _second(data["created_at"])
    record: dict[str, Any] = {
        "stall": short_id(data["stall_id"]),
        "title": data["title"],
        "price": data["price"],
        "qty": data["quantity"],
        "tags": data["hashtags"],
        "created": created,
    }
    # The optional keys, left out at their default (a patch spells the same values out).
    implied = {"cur": currency, "state": "available", "updated": created}
    for key in ("desc", "cur", "causes", "photos", "state", "held", "until", "updated"):
        value = _PATCH_VALUES[key](data, photos)
        if value and value != implied.get(key):
            record[key] = value
    return record


# What an item's columns are in its format-2 record, for the columns a patch can carry. A change
# naming any other column (visibility, its stall, its creation) sends the whole record.
_PATCHED_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "description": ("desc",),
    "price": ("price",),
    "currency": ("cur",),
    "quantity": ("qty",),
    "own_tags": ("tags",),
    "hashtags": ("tags",),
    "tag_keys": ("tags",),
    "causes": ("causes",),
    "photo_keys": ("photos",),
    "state": ("state",),
    "held": ("held",),
    "reserved_until": ("until",),
    "reserved_for": (),  # not in the record since per-unit holds
    "updated_at": ("updated",),
}

# Each key's value in a patch: always present, defaults included ("state": "available", "until":
# null), since a patch overwrites what the client holds.
_PATCH_VALUES: dict[str, Callable[[dict[str, Any], _PhotoTable], Any]] = {
    "title": lambda d, _: d["title"],
    "desc": lambda d, _: d["description"],
    "price": lambda d, _: d["price"],
    "cur": lambda d, _: d["currency"],
    "qty": lambda d, _: d["quantity"],
    "tags": lambda d, _: d["hashtags"],
    "causes": lambda d, _: d["causes"],
    "photos": lambda d, table: [table.ref(p) for p in d["photos"]],
    "state": lambda d, _: d["state"],
    "held": lambda d, _: d["held"],
    "until": lambda d, _: _second(d["reserved_until"]) if d["reserved_until"] else None,
    "updated": lambda d, _: _second(d["updated_at"]),
}


def _item_patch(change: Change, edit: Edit | None, photos: _PhotoTable) -> tuple[dict[str, Any], int] | None:
    """The fields of an item that changed since the cursor, with the version they apply to; None
    when only the whole record will do (not an item, a tombstone, a change not named, or one made
    after this page's last: a page cut at `limit` entries reads the item's newer state)."""
    if change.entity != "item" or change.data is None or edit is None or edit.changed is None:
        return None
    if not edit.changed <= _PATCHED_KEYS.keys() or edit.base < 1 or change.version != edit.through:
        return None
    keys = sorted({key for column in edit.changed for key in _PATCHED_KEYS[column]})
    return {key: _PATCH_VALUES[key](change.data, photos) for key in keys}, edit.base


def _second(moment: datetime) -> str:
    """An item's time to the second (truncated), in the one timestamp form."""
    return rfc3339(moment.replace(microsecond=0))
