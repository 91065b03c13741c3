"""Photo storage in the database (scale-out): every node serves every photo.

Rows of `photo_blob`, one per variant, named ``<key>/<size>``. Inserting a name that is already
there does nothing (``ON CONFLICT DO NOTHING``), so two nodes storing the same photo at once, or
an upload retried by a phone's sync queue, are harmless. Serving reads the bytes a chunk at a
time (``substr`` of the column, ``CHUNK_BYTES`` a query), so a request never holds more than a
chunk; on PostgreSQL the column is stored uncompressed (``STORAGE EXTERNAL``: photos do not
compress), which lets such a slice be read without de-toasting the whole value.

The class works on any engine the tables are bound to; the settings only allow it on PostgreSQL
(on SQLite there is one machine, and its data dir is the better place, see server/settings.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from server.photos.storage import CHUNK_BYTES, StoredVariant, Variant
from server.tables import PhotoBlob

_INSERT = (
    "INSERT INTO photo_blob (id, photo_key, size, media_type, byte_size, data, created_at) "
    "VALUES ({}, {}, {}, {}, {}, {}, CURRENT_TIMESTAMP) ON CONFLICT (id) DO NOTHING"
)
_FIND = "SELECT media_type, byte_size FROM photo_blob WHERE id = {}"
_SLICE = "SELECT substr(data, {}, {}) AS part FROM photo_blob WHERE id = {}"
_KEYS = "SELECT DISTINCT photo_key FROM photo_blob WHERE photo_key > {} ORDER BY photo_key LIMIT {}"

# Keys a listing query fetches at a time (keyset paging on the indexed photo_key column).
KEYS_PAGE = 1000


def _name(key: str, size: str) -> str:
    return f"{key}/{size}"


class DatabasePhotos:
    """Photo variants as rows of the `photo_blob` table (see the module doc)."""

    async def has(self, key: str) -> bool:
        return bool(await PhotoBlob.exists().where(PhotoBlob.id == _name(key, "original")))

    async def put(self, key: str, variants: Sequence[Variant]) -> None:
        # One statement a variant, in order: the original, last, is there only after every thumbnail.
        for variant in variants:
            await PhotoBlob.raw(
                _INSERT,
                _name(key, variant.size),
                key,
                variant.size,
                variant.media_type,
                len(variant.data),
                variant.data,
            )

    async def find(self, key: str, size: str) -> StoredVariant | None:
        rows: list[dict[str, Any]] = await PhotoBlob.raw(_FIND, _name(key, size))
        if not rows:
            return None
        return StoredVariant(key, size, str(rows[0]["media_type"]), int(rows[0]["byte_size"]))

    async def chunks(self, found: StoredVariant) -> AsyncIterator[bytes]:
        name = _name(found.key, found.size)
        for start in range(0, found.byte_size, CHUNK_BYTES):
            rows: list[dict[str, Any]] = await PhotoBlob.raw(_SLICE, start + 1, CHUNK_BYTES, name)
            if not rows or rows[0]["part"] is None:
                return
            yield bytes(rows[0]["part"])

    async def stored_keys(self) -> AsyncIterator[str]:
        after = ""
        while True:
            rows: list[dict[str, Any]] = await PhotoBlob.raw(_KEYS, after, KEYS_PAGE)
            for row in rows:
                yield str(row["photo_key"])
            if len(rows) < KEYS_PAGE:
                return
            after = str(rows[-1]["photo_key"])
