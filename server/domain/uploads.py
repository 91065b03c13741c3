"""Photo uploads: the pipeline (server/photos/) plus the database row that lets items and
messages refer to a photo by its content key."""

from __future__ import annotations

from server.domain.context import Services
from server.domain.errors import Invalid, TooManyRequests
from server.photos.errors import PhotoBusy, PhotoRejected
from server.photos.store import StoredPhoto
from server.tables import Photo


async def store_photo(services: Services, data: bytes) -> StoredPhoto:
    """Validate, strip and store (the CPU work in a worker thread), then register the key.

    A photo the pipeline refuses is a 422 naming the field; when the store's few decode slots
    and their short queue are all taken, a 429 with Retry-After (waiting helps, so the sync
    queue retries it) rather than one more body held in memory.
    """
    try:
        stored = await services.photos.save(data)
    except PhotoRejected as exc:
        raise Invalid(exc.message, field="file") from None
    except PhotoBusy as exc:
        raise TooManyRequests(exc.message, retry_after=exc.retry_after) from None
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
