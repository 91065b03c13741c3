"""Saving a photo: the pipeline that makes it safe, then its storage (server/photos/storage.py).

Storage is content addressed (sha256 of the stored original). The same photo used for many items, or re-sent
after a flaky offline sync, is stored once, and saving is idempotent so retries from the sync queue are harmless.
Where the bytes go (the data dir, or the database for scale-out) is the `PhotoStorage` the store is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import anyio.to_thread

from server.photos.decode import DECODE_BUDGET, TRIM_AFTER_BYTES, decode, release_freed_memory, sniff_format
from server.photos.disk import DiskPhotos
from server.photos.errors import PhotoRejected
from server.photos.gate import MAX_DECODES, MAX_WAIT_SECONDS, MAX_WAITING, DecodeGate
from server.photos.storage import PHOTO_SIZES, PhotoStorage, StoredVariant, Variant, valid_name
from server.photos.variants import encode, encode_thumbs, prepare

__all__ = ["PHOTO_SIZES", "PhotoStore", "PreparedPhoto", "StoredPhoto"]

# Pillow format name -> mime type of the stored original.
_FORMATS: Final[dict[str, str]] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class StoredPhoto:
    """What the database needs to remember about a stored photo; the storage holds the rest."""

    key: str  # sha256 hex
    mime: str  # of the original: image/jpeg, image/png or image/webp
    width: int  # of the stored original
    height: int
    byte_size: int  # of the stored original


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo checked and encoded in memory, not stored yet: thumbnails first, the original last."""

    photo: StoredPhoto
    variants: tuple[Variant, ...]


class PhotoStore:
    """The photo pipeline in front of a `PhotoStorage` (a folder ``Path`` means `DiskPhotos`).

    Its only mutable state is the ``DecodeGate`` (thread-safe), so one instance can be shared
    by every request; ``prepare`` is the CPU-bound part and ``save`` runs it in a worker thread.
    """

    def __init__(
        self,
        storage: PhotoStorage | Path,
        max_bytes: int,
        *,
        decode_budget: int = DECODE_BUDGET,
        max_decodes: int = MAX_DECODES,
        max_waiting: int = MAX_WAITING,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.storage: PhotoStorage = DiskPhotos(storage) if isinstance(storage, Path) else storage
        self.max_bytes = max_bytes
        self.decode_budget = decode_budget
        self.gate = DecodeGate(max_decodes, max_waiting, max_wait_seconds)

    async def save(self, data: bytes) -> StoredPhoto:
        """Validate, make upright, strip metadata, re-encode and store one photo.

        Everything is checked and encoded in memory (in a worker thread) before the first write,
        so a refusal leaves the storage untouched. Raises ``PhotoRejected``, or ``PhotoBusy``
        when too many photos are being processed already.
        """
        prepared = await anyio.to_thread.run_sync(self.prepare, data)
        key = prepared.photo.key
        # A repeat save of the same photo writes nothing at all.
        if not await self.storage.has(key):
            await self.storage.put(key, prepared.variants)
        return prepared.photo

    def prepare(self, data: bytes) -> PreparedPhoto:
        """The pipeline without the storage: checks, decode (through the gate) and encodes."""
        if not data:
            raise PhotoRejected("The photo is empty.")
        if len(data) > self.max_bytes:
            raise PhotoRejected(f"The photo is too large ({len(data):,} bytes); the limit is {self.max_bytes:,} bytes.")
        fmt = sniff_format(data)
        if fmt is None:
            raise PhotoRejected("Only JPEG, PNG and WebP photos are accepted.")

        with self.gate.slot():
            original, thumbs, (width, height) = self._process(data, fmt)

        mime = _FORMATS[fmt]
        key = hashlib.sha256(original).hexdigest()
        variants = (
            *(Variant(name, "image/jpeg", blob) for name, blob in thumbs.items()),
            Variant("original", mime, original),
        )
        photo = StoredPhoto(key=key, mime=mime, width=width, height=height, byte_size=len(original))
        return PreparedPhoto(photo, variants)

    async def find(self, key: str, size: str) -> StoredVariant | None:
        """A stored size of a photo, for serving; None for an unknown or malformed name
        (``key`` and ``size`` come straight from URLs and are whitelisted first)."""
        if not valid_name(key, size):
            return None
        return await self.storage.find(key, size)

    def chunks(self, found: StoredVariant) -> AsyncIterator[bytes]:
        return self.storage.chunks(found)

    async def read(self, key: str, size: str) -> bytes | None:
        """A stored variant's bytes in one piece (tools and tests; serving streams them)."""
        found = await self.find(key, size)
        if found is None:
            return None
        return b"".join([chunk async for chunk in self.chunks(found)])

    def _process(self, data: bytes, fmt: str) -> tuple[bytes, dict[str, bytes], tuple[int, int]]:
        """Decode, prepare and encode: the encoded original, thumbnails and stored size.

        Each image is closed as soon as the next, smaller one exists, so the decode's big
        buffer is gone before encoding starts.
        """
        decoded, cost = decode(data, fmt, self.decode_budget)
        try:
            try:
                image = prepare(decoded)
            finally:
                decoded.close()
                del decoded
            try:
                return encode(image, fmt), encode_thumbs(image), image.size
            finally:
                image.close()
        except PhotoRejected:
            raise
        except Exception as exc:  # colour/transform failures on odd but decodable input
            raise PhotoRejected("The photo is damaged or not a valid image.") from exc
        finally:
            if cost >= TRIM_AFTER_BYTES:
                release_freed_memory()
