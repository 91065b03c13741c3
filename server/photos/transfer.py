"""Copying every stored photo from one `PhotoStorage` to the other (`souk move-photos`).

A market that ran with its photos in one machine's data dir (``SOUK_PHOTO_STORE=disk``) and then
switches to the database (scale-out), or back, would serve a 404 for every photo it already had.
This copies them across first. Why it is safe:

- Both stores are content addressed and write-once (server/photos/storage.py): a variant that is
  already in the target is left as it is, so a copy can be re-run, or interrupted and resumed,
  and it can run while `souk serve` is uploading to either store.
- A photo's sizes are copied thumbnails first and the original last, as `PhotoStore.save` writes
  them: the target's ``has`` (an original is there) still means "the full set is there".
- One variant at a time: it is read from the source a chunk at a time into one buffer (an
  original can be ~10 MB; both backends store a variant with a single write, which is what
  keeps a half-written variant from ever being served), then read back from the target a chunk
  at a time and compared (size, media type and sha256) before the next one starts.
- The source is only ever read. Nothing is deleted: going back is running the copy the other way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from server.photos.storage import PHOTO_SIZES, PhotoStorage, StoredVariant, Variant

# The order `PhotoStore.save` writes a photo in: thumbnails first, the original last.
_COPY_ORDER: tuple[str, ...] = (*(size for size in PHOTO_SIZES if size != "original"), "original")

# How many failed variants a report names (the count is always complete).
MAX_NAMED = 20

Progress = Callable[[int, int], None]  # (photos done, photos in all)


class TransferFailed(Exception):
    """Reading or writing a store failed outright (disk full, database gone): the copy stops.

    The message names the variant being copied; what was copied before it stays copied, and a
    re-run continues from there."""


@dataclass
class MoveReport:
    """What a copy did, variant by variant."""

    photos: int = 0  # keys looked at
    copied: int = 0  # variants written to the target and verified there
    copied_bytes: int = 0
    already_there: int = 0  # variants the target had before (write-once: left as they were)
    already_bytes: int = 0
    differing: list[str] = field(default_factory=list)  # already there, but not the same size / type
    failed: list[str] = field(default_factory=list)  # "<key>/<size>: why", at most MAX_NAMED
    failures: int = 0

    @property
    def total_bytes(self) -> int:
        """Bytes of every variant the source holds (the target now holds them all, or a copy of the same name)."""
        return self.copied_bytes + self.already_bytes

    def fail(self, name: str, why: str) -> None:
        self.failures += 1
        if len(self.failed) < MAX_NAMED:
            self.failed.append(f"{name}: {why}")


async def list_keys(storage: PhotoStorage) -> list[str]:
    """Every key the store holds, listed once up front so progress can show a total
    (64 characters a photo: a hundred thousand photos are a few MB). Photos stored after
    this listing are not copied by this run; the next run copies them."""
    return [key async for key in storage.stored_keys()]


async def move_photos(
    source: PhotoStorage, target: PhotoStorage, keys: list[str], progress: Progress | None = None
) -> MoveReport:
    """Copy every stored size of each of ``keys`` from ``source`` to ``target`` (see the module doc).

    A variant whose copy does not read back identically, or whose source is inconsistent (an
    original whose sha256 is not its key), is counted in ``failed`` and the copy goes on; an
    exception from a store stops it as `TransferFailed`.
    """
    report = MoveReport()
    for done, key in enumerate(keys, start=1):
        for size in _COPY_ORDER:
            try:
                await _copy_variant(source, target, key, size, report)
            except TransferFailed:
                raise
            except Exception as exc:  # whatever a backend raises, said with the variant's name
                raise TransferFailed(f"copying photo {key}/{size} failed: {exc!r}") from exc
        report.photos = done
        if progress is not None:
            progress(done, len(keys))
    return report


async def _copy_variant(source: PhotoStorage, target: PhotoStorage, key: str, size: str, report: MoveReport) -> None:
    found = await source.find(key, size)
    if found is None:  # a size this photo does not have (an upload interrupted before its original)
        return
    name = f"{key}/{size}"
    there = await target.find(key, size)
    if there is not None:
        report.already_there += 1
        report.already_bytes += found.byte_size
        if (there.byte_size, there.media_type) != (found.byte_size, found.media_type):
            # Write-once: the target's copy stays (its URL may be cached as immutable already).
            report.differing.append(name)
        return

    data, digest = await _read(source, found)
    if len(data) != found.byte_size:
        report.fail(name, f"the source gave {len(data)} bytes, it lists {found.byte_size}")
        return
    if size == "original" and digest != key:
        report.fail(name, "the source's original does not hash to its key (damaged file?); not copied")
        return
    await target.put(key, [Variant(size, found.media_type, data)])
    del data  # one variant in memory at a time: this one is gone before the read-back

    copied = await target.find(key, size)
    if copied is None:
        report.fail(name, "not found in the target after writing it")
        return
    copied_bytes, copied_digest = await _measure(target, copied)
    if (copied_bytes, copied_digest, copied.media_type) != (found.byte_size, digest, found.media_type):
        report.fail(name, "the target's copy reads back different from the source")
        return
    report.copied += 1
    report.copied_bytes += found.byte_size


async def _read(storage: PhotoStorage, found: StoredVariant) -> tuple[bytes, str]:
    """The variant's bytes and their sha256, read a chunk at a time."""
    hasher = hashlib.sha256()
    parts: list[bytes] = []
    async for chunk in storage.chunks(found):
        hasher.update(chunk)
        parts.append(chunk)
    return b"".join(parts), hasher.hexdigest()


async def _measure(storage: PhotoStorage, found: StoredVariant) -> tuple[int, str]:
    """Length and sha256 of a stored variant, holding one chunk at a time."""
    hasher = hashlib.sha256()
    length = 0
    async for chunk in storage.chunks(found):
        hasher.update(chunk)
        length += len(chunk)
    return length, hasher.hexdigest()
