"""Photo storage in the data dir (the embedded default): content-addressed files on one machine's disk."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Final

import anyio
import anyio.to_thread

from server.photos.storage import CHUNK_BYTES, KEY_RE, StoredVariant, Variant, valid_name

# Media type -> file extension, and back: the stored file's name says what it is.
_EXTENSIONS: Final[dict[str, str]] = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_MEDIA_TYPES: Final[dict[str, str]] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


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


def _folders(parent: Path) -> list[str]:
    """Names of the folders in ``parent``, sorted; none when it does not exist (nothing stored yet)."""
    try:
        with os.scandir(parent) as entries:
            return sorted(entry.name for entry in entries if entry.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


def media_type_of(path: Path) -> str:
    """Content-Type from our own file naming, never from anything the uploader said."""
    return _MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


class DiskPhotos:
    """Files ``<root>/<key[:2]>/<key>/<size>.<ext>``; the root is created lazily, so a refused
    upload never leaves anything on disk. Blocking file work runs in a worker thread."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    async def has(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self.path_for, key, "original") is not None

    async def put(self, key: str, variants: Sequence[Variant]) -> None:
        await anyio.to_thread.run_sync(self.write, key, variants)

    async def find(self, key: str, size: str) -> StoredVariant | None:
        path = await anyio.to_thread.run_sync(self.path_for, key, size)
        if path is None:
            return None
        try:
            byte_size = (await anyio.Path(path).stat()).st_size
        except FileNotFoundError:
            return None
        return StoredVariant(key, size, media_type_of(path), byte_size, path)

    async def chunks(self, found: StoredVariant) -> AsyncIterator[bytes]:
        assert found.path is not None
        async with await anyio.open_file(found.path, "rb") as handle:
            while chunk := await handle.read(CHUNK_BYTES):
                yield chunk

    async def stored_keys(self) -> AsyncIterator[str]:
        # One fan-out folder listed at a time (in a worker thread): at most 1/256 of the keys held.
        fan_outs = await anyio.to_thread.run_sync(_folders, self.root)
        for fan_out in fan_outs:
            for key in await anyio.to_thread.run_sync(_folders, self.root / fan_out):
                if KEY_RE.fullmatch(key) and key[:2] == fan_out:  # not a temp file or a stray folder
                    yield key

    def write(self, key: str, variants: Sequence[Variant]) -> None:
        """Thumbnails first, original last: an existing original then implies a full set,
        and a repeat save of the same photo writes nothing at all."""
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        for variant in variants:
            target = folder / f"{variant.size}.{_EXTENSIONS[variant.media_type]}"
            if not target.is_file():
                _write_atomic(target, variant.data)

    def path_for(self, key: str, size: str) -> Path | None:
        """Path of a stored variant, or None (``key`` and ``size`` whitelisted first)."""
        if not valid_name(key, size):
            return None
        folder = self._folder(key)
        if size == "original":
            candidates = [folder / f"original.{ext}" for ext in _EXTENSIONS.values()]
        else:
            candidates = [folder / f"{size}.jpg"]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return None

    def _folder(self, key: str) -> Path:
        """Fan out by the first two hex digits so no directory grows to millions of entries."""
        return self.root / key[:2] / key
