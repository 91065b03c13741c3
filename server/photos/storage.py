"""Where a stored photo's bytes live: one small interface, two backends.

`PhotoStore` (store.py) validates, strips and encodes a photo; what it produces, the original
and its thumbnails under the sha256 of the original, goes to a `PhotoStorage`:

- `DiskPhotos` (disk.py): files under the data dir, the embedded default. One machine.
- `DatabasePhotos` (database.py): rows of the `photo_blob` table, for scale-out on PostgreSQL.
  Every node shares the database, so an upload accepted by one node is served by all of them.

Both are content addressed and write-once: storing a key that is already there changes nothing,
so concurrent and retried uploads of the same photo are harmless, and the bytes behind a URL never
change (they are served as immutable).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from server.photos.variants import THUMB_LONG_SIDES

PHOTO_SIZES: tuple[str, ...] = (*THUMB_LONG_SIDES, "original")

KEY_RE: Final = re.compile(r"[0-9a-f]{64}")

# How much of a photo a database read fetches at a time when serving it.
CHUNK_BYTES: Final = 256 * 1024


def valid_name(key: object, size: object) -> bool:
    """``key`` and ``size`` come straight from URLs: 64 lowercase hex chars and a known size only
    (no ``..`` path traversal, no odd strings in a query)."""
    return isinstance(key, str) and KEY_RE.fullmatch(key) is not None and size in PHOTO_SIZES


@dataclass(frozen=True)
class Variant:
    """One encoded size of a photo, ready to store."""

    size: str  # "320", "960" or "original"
    media_type: str  # image/jpeg, image/png or image/webp: from our own encoder, never the uploader
    data: bytes


@dataclass(frozen=True)
class StoredVariant:
    """A stored size of a photo, found for serving (the bytes are streamed separately)."""

    key: str
    size: str
    media_type: str
    byte_size: int
    path: Path | None = None  # the file, when the backend keeps files (served by a file response)

    @property
    def etag(self) -> str:
        """Content addressed, so the same on every node and forever."""
        return f'"{self.key}-{self.size}"'


class PhotoStorage(Protocol):
    """Write-once, content-addressed storage of photo variants."""

    async def has(self, key: str) -> bool:
        """Whether the photo's full set of variants is stored (the original is written last)."""
        ...

    async def put(self, key: str, variants: Sequence[Variant]) -> None:
        """Store the variants in order (thumbnails first, the original last); a variant that is
        already stored is left as it is."""
        ...

    async def find(self, key: str, size: str) -> StoredVariant | None:
        """The stored variant, or None. ``key`` and ``size`` are already validated."""
        ...

    def chunks(self, found: StoredVariant) -> AsyncIterator[bytes]:
        """The variant's bytes, a chunk at a time (at most one chunk held)."""
        ...

    def stored_keys(self) -> AsyncIterator[str]:
        """Every key with at least one stored variant, in ascending order, fetched a page at a time
        (for `souk move-photos`, server/photos/transfer.py: a store may hold many thousands)."""
        ...
