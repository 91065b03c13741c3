"""Width and height of stored photos, read back from their stored originals.

Uploads record a photo's size in the `photo` table; photos stored before that was done (or
whose row says 0 x 0 for any other reason) get it here, from the original in whichever photo
storage holds it. Only the image header is parsed (PIL's lazy open): no pixel is decoded, so
even a large original costs one read.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from PIL import Image, UnidentifiedImageError

from server.photos.storage import PhotoStorage
from server.tables import Photo

log = logging.getLogger(__name__)


async def backfill_sizes(storages: Sequence[PhotoStorage]) -> int:
    """Set width and height of every `photo` row that has 0 for either, from the first of
    `storages` holding its original; returns how many rows were set. A photo no storage holds
    (or whose original cannot be read) keeps 0 x 0 and is logged: views show it unsized."""
    rows = await Photo.select(Photo.key).where((Photo.width == 0) | (Photo.height == 0))
    fixed = 0
    for row in rows:
        size = await _stored_size(row["key"], storages)
        if size is None:
            log.warning("photo %s: no readable original in any photo storage; its size stays 0 x 0", row["key"])
            continue
        await Photo.update({Photo.width: size[0], Photo.height: size[1]}).where(Photo.key == row["key"])
        fixed += 1
    return fixed


async def _stored_size(key: str, storages: Sequence[PhotoStorage]) -> tuple[int, int] | None:
    for storage in storages:
        found = await storage.find(key, "original")
        if found is None:
            continue
        data = b"".join([chunk async for chunk in storage.chunks(found)])
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.size
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            continue
    return None
