"""Photo uploads: the pipeline (server/photos.py) plus the database row that lets items and
messages refer to a photo by its content key."""

from __future__ import annotations

import anyio.to_thread

from server.domain.context import Market
from server.domain.errors import Invalid
from server.photos import PhotoRejected, StoredPhoto
from server.tables import Photo


async def store_photo(market: Market, data: bytes) -> StoredPhoto:
    """Validate, strip and store (in a worker thread: it is CPU work), then register the key."""
    try:
        stored = await anyio.to_thread.run_sync(market.photos.save, data)
    except PhotoRejected as exc:
        raise Invalid(exc.message, field="file") from None
    if not await Photo.exists().where(Photo.key == stored.key):
        await Photo.raw(
            "INSERT INTO photo (key, mime, width, height, byte_size, created_at) "
            "VALUES ({}, {}, {}, {}, {}, CURRENT_TIMESTAMP) ON CONFLICT (key) DO NOTHING",
            stored.key,
            stored.mime,
            stored.width,
            stored.height,
            stored.byte_size,
        )
    return stored
