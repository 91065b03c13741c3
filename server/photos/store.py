"""Where photos live: content-addressed files on the local disk, and the save that gets them there.

Storage is content addressed (sha256 of the stored original). The same photo used for many items, or re-sent
after a flaky offline sync, is stored once, and saving is idempotent so retries from the sync queue are harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from server.photos.decode import DECODE_BUDGET, TRIM_AFTER_BYTES, decode, release_freed_memory, sniff_format
from server.photos.errors import PhotoRejected
from server.photos.gate import MAX_DECODES, MAX_WAIT_SECONDS, MAX_WAITING, DecodeGate
from server.photos.variants import THUMB_LONG_SIDES, encode, encode_thumbs, prepare

PHOTO_SIZES: tuple[str, ...] = (*THUMB_LONG_SIDES, "original")

_KEY_RE: Final = re.compile(r"[0-9a-f]{64}")

# Pillow format name -> (mime type, file extension of the stored original).
_FORMATS: Final[dict[str, tuple[str, str]]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_MEDIA_TYPES: Final[dict[str, str]] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


@dataclass(frozen=True)
class StoredPhoto:
    """What the database needs to remember about a stored photo; the files hold the rest."""

    key: str  # sha256 hex
    mime: str  # of the original: image/jpeg, image/png or image/webp
    width: int  # of the stored original
    height: int
    byte_size: int  # of the stored original


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and ``os.replace`` it into place, so a
    crash or a concurrent save of the same photo never exposes a half-written file."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # Photos are public content; mkstemp's 0600 would stop a front proxy serving them.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


class PhotoStore:
    """Content-addressed photo storage on the local filesystem.

    Its only mutable state is the ``DecodeGate`` (thread-safe), so one instance can be
    shared by worker threads (``save`` is CPU-bound and meant for ``anyio.to_thread``).
    """

    def __init__(
        self,
        root: Path,
        max_bytes: int,
        *,
        decode_budget: int = DECODE_BUDGET,
        max_decodes: int = MAX_DECODES,
        max_waiting: int = MAX_WAITING,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        """The root is created lazily so a refused upload never leaves anything on disk."""
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.decode_budget = decode_budget
        self.gate = DecodeGate(max_decodes, max_waiting, max_wait_seconds)

    def save(self, data: bytes) -> StoredPhoto:
        """Validate, make upright, strip metadata, re-encode and store one photo.

        Everything is checked and encoded in memory before the first filesystem write,
        so a refusal leaves the store untouched.  Raises ``PhotoRejected``, or
        ``PhotoBusy`` when too many photos are being processed already.
        """
        if not data:
            raise PhotoRejected("The photo is empty.")
        if len(data) > self.max_bytes:
            raise PhotoRejected(f"The photo is too large ({len(data):,} bytes); the limit is {self.max_bytes:,} bytes.")
        fmt = sniff_format(data)
        if fmt is None:
            raise PhotoRejected("Only JPEG, PNG and WebP photos are accepted.")

        with self.gate.slot():
            original, thumbs, (width, height) = self._process(data, fmt)

        mime, ext = _FORMATS[fmt]
        key = hashlib.sha256(original).hexdigest()
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        # Thumbnails first, original last: an existing original then implies a full set,
        # and a repeat save of the same photo writes nothing at all.
        for name, blob in thumbs.items():
            target = folder / f"{name}.jpg"
            if not target.is_file():
                _write_atomic(target, blob)
        target = folder / f"original.{ext}"
        if not target.is_file():
            _write_atomic(target, original)
        return StoredPhoto(key=key, mime=mime, width=width, height=height, byte_size=len(original))

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

    def file_for(self, key: str, size: str) -> Path | None:
        """Path of a stored variant, or None.

        ``key`` and ``size`` come straight from URLs, so they are whitelisted (64 lowercase
        hex chars, a known size) before touching the filesystem: no ``..`` path traversal.
        """
        if not isinstance(key, str) or _KEY_RE.fullmatch(key) is None:
            return None
        if size not in PHOTO_SIZES:
            return None
        folder = self._folder(key)
        if size == "original":
            candidates = [folder / f"original.{ext}" for _, ext in _FORMATS.values()]
        else:
            candidates = [folder / f"{size}.jpg"]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return None

    def media_type(self, path: Path) -> str:
        """Content-Type from our own file naming, never from anything the uploader said."""
        return _MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")

    def _folder(self, key: str) -> Path:
        """Fan out by the first two hex digits so no directory grows to millions of entries."""
        return self.root / key[:2] / key
