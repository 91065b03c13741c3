"""Photo pipeline for item and chat photos uploaded from phones.

Every upload is untrusted bytes from the public internet or a market-stall phone, so the
pipeline is deliberately paranoid:

* The type is sniffed from the bytes and then proven by letting Pillow actually decode
  the image.  Filenames and Content-Type headers are attacker-controlled and would let an
  SVG (script) or HTML file ride along as a "photo".
* What a decode will cost in memory is worked out from the header *before* decoding, and
  refused over a budget: a few kilobytes of PNG can declare 6300x6300 RGBA pixels, 160 MB
  once decoded (decompression bomb).  JPEGs are decoded at 1/2, 1/4 or 1/8 scale straight
  to about the size we store, so a 48 MP phone photo costs what a 12 MP one does; PNG and
  WebP cannot be decoded reduced, so they get a lower pixel limit.  After the decode, the
  pixels are converted and shrunk strip by strip: no second full-size copy is ever made.
* At most a few decodes run at once per store (``DecodeGate``), so the memory photos can
  take is bounded by (decodes at once x budget); a short queue waits, the rest are told to
  come back later (``PhotoBusy``).
* All metadata is stripped.  Phone cameras embed GPS coordinates in EXIF, and vendors often
  photograph stock at home, so a listing photo could publish a vendor's home address.
  Comments, XMP and text chunks can carry names or device serials for the same reason.
  Colour profiles are converted to sRGB and dropped, so what buyers see stays faithful.
* Images are re-encoded, never stored as uploaded, so a polyglot or exploit payload hidden
  in the original container does not survive to be served to other users' browsers.
* Storage is content addressed (sha256 of the stored original).  The same photo used for
  many items, or re-sent after a flaky offline sync, is stored once, and saving is
  idempotent so retries from the sync queue are harmless.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import math
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import ExifTags, Image, ImageCms

PHOTO_SIZES: tuple[str, ...] = ("320", "960", "original")

# Header limits, checked before any pixel memory is allocated.  Both sit under Pillow's own
# bomb threshold (~89 MP warning, ~179 MP error), so our check always fires first and
# Pillow's process-global limit never has to be touched.  JPEG may declare more because it
# is decoded reduced (see DECODE_BUDGET): 80 MP covers 48, 50 and 64 MP phone cameras.
MAX_PIXELS: Final = 40_000_000
MAX_JPEG_PIXELS: Final = 80_000_000
# What one decode may allocate, worked out from the header before decoding (see
# ``_decode_cost``).  The rest of the pipeline works in strips and at most 2048 px, so one
# upload's peak is about this plus ~40 MB.  128 MiB lets through every baseline JPEG up to
# 80 MP (they decode to at most 4096x4096), progressive JPEGs to ~33 MP (19 MP without
# chroma subsampling), RGB(A) PNGs to 33 MP (8192x4096 RGBA exactly; greyscale and palette
# PNGs to the 40 MP cap) and WebPs to 8 MP (Pillow's WebP decoder needs ~16 bytes a pixel).
DECODE_BUDGET: Final = 128 * 1024 * 1024
# Decodes at once per store, and how many more may queue for a turn before the next upload
# is told to come back later: decoding takes at most MAX_DECODES x (DECODE_BUDGET + ~40 MB),
# and the queue holds at most MAX_WAITING request bodies (each within the upload byte limit).
MAX_DECODES: Final = 2
MAX_WAITING: Final = 8
MAX_WAIT_SECONDS: Final = 30.0
BUSY_RETRY_AFTER: Final = 5

ORIGINAL_LONG_SIDE: Final = 2048
THUMB_LONG_SIDES: Final[dict[str, int]] = {"320": 320, "960": 960}

JPEG_QUALITY: Final = 88
WEBP_QUALITY: Final = 85
THUMB_QUALITY: Final = 80

# Pillow's WebP plugin keeps the decoder's canvas and previous canvas, a bytes copy of the
# frame and the image itself: four RGBA-sized buffers (measured: 15.3 bytes a pixel).
_WEBP_BYTES_PER_PIXEL: Final = 16
# Source rows are converted and shrunk about this many bytes at a time.
_STRIP_BYTES: Final = 8 * 1024 * 1024
# Pillow's Lanczos filter reaches 3 source pixels (times the scale) either side.
_LANCZOS_SUPPORT: Final = 3.0
# After a decode at least this large, hand glibc's freed arenas back to the OS.
_TRIM_AFTER_BYTES: Final = 16 * 1024 * 1024

_KEY_RE: Final = re.compile(r"[0-9a-f]{64}")

# Pillow format name -> (mime type, file extension of the stored original).
_FORMATS: Final[dict[str, tuple[str, str]]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_FORMAT_NAMES: Final[dict[str, str]] = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
_MEDIA_TYPES: Final[dict[str, str]] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
_ORIENTATIONS: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_MODES: Final = ("I;16", "I;16B", "I;16L", "I;16N", "I")
# JPEG start-of-frame markers (C4 DHT, C8 JPG and CC DAC are not frames) and the progressive ones.
_JPEG_SOF: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_PROGRESSIVE: Final = frozenset({0xC2, 0xC6, 0xCA, 0xCE})


class PhotoRejected(ValueError):
    """Carries a user-facing message; the API turns it into a 422 naming the field."""

    def __init__(self, message: str) -> None:
        """Keep the message separately so the API never has to parse ``str(exc)``."""
        super().__init__(message)
        self.message = message


class PhotoBusy(Exception):
    """Too many photos are being processed already; the same upload will work later.

    Not a ``PhotoRejected``: nothing is wrong with the photo, so the API answers 429 with
    ``Retry-After`` and the sync queue retries instead of giving up.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        """Keep the message and the suggested wait for the API's 429 answer."""
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class StoredPhoto:
    """What the database needs to remember about a stored photo; the files hold the rest."""

    key: str  # sha256 hex
    mime: str  # of the original: image/jpeg, image/png or image/webp
    width: int  # of the stored original
    height: int
    byte_size: int  # of the stored original


class DecodeGate:
    """Admission to the memory-hungry part of a save: at most ``limit`` at once.

    Up to ``max_waiting`` more queue for a turn; one more, or a wait longer than
    ``wait_seconds``, raises ``PhotoBusy`` at once, so a burst of uploads never holds more
    bodies in memory than that queue.  A finishing save hands its slot straight to a queued
    one (``threading.Condition`` wakes waiters in arrival order), so a newcomer cannot jump
    the queue.  Saves run in worker threads, hence a thread primitive, not an asyncio one.
    """

    def __init__(self, limit: int, max_waiting: int, wait_seconds: float) -> None:
        """One gate per ``PhotoStore``: nothing here is shared between stores or apps."""
        self.limit = limit
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self._condition = threading.Condition()
        self._active = 0  # slots taken, including ones handed over but not yet picked up
        self._waiting = 0
        self._handed_over = 0

    @property
    def active(self) -> int:
        """Saves holding a slot now."""
        with self._condition:
            return self._active

    @property
    def waiting(self) -> int:
        """Saves queued for a slot now."""
        with self._condition:
            return self._waiting

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``limit`` slots for the duration of the ``with`` block."""
        with self._condition:
            if self._active < self.limit and not self._waiting:
                self._active += 1
            elif self._waiting >= self.max_waiting:
                raise self._busy()
            else:
                self._waiting += 1
                try:
                    if not self._condition.wait_for(lambda: self._handed_over > 0, self.wait_seconds):
                        raise self._busy()
                    self._handed_over -= 1  # the slot, still counted in _active, is ours
                finally:
                    self._waiting -= 1
        try:
            yield
        finally:
            with self._condition:
                if self._waiting > self._handed_over:  # someone queued has no slot yet
                    self._handed_over += 1
                    self._condition.notify()
                else:
                    self._active -= 1

    @staticmethod
    def _busy() -> PhotoBusy:
        return PhotoBusy(
            f"The server is busy with other photos; try again in {BUSY_RETRY_AFTER} seconds.", BUSY_RETRY_AFTER
        )


def _sniff_format(data: bytes) -> str | None:
    """Name the container from its magic number, because client-declared types lie."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _scaled_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """Fit within ``long_side`` keeping the aspect ratio; never upscale (it only adds bytes
    and blur), and never round a very thin image down to zero pixels."""
    width, height = size
    longest = max(width, height)
    if longest <= long_side:
        return size
    factor = long_side / longest
    return max(1, round(width * factor)), max(1, round(height * factor))


def _pixel_bytes(mode: str) -> int:
    """Bytes Pillow allocates per pixel: 1 for 1/L/P, 2 for 16-bit grey, else 4 (RGB too)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def _jpeg_buffers_whole_image(data: bytes) -> bool:
    """True when libjpeg must hold every DCT coefficient of the full-size image at once.

    Progressive JPEGs, and baseline ones whose first scan carries fewer components than the
    frame, are decoded from a whole-image coefficient buffer (2 bytes a sample, at full
    resolution whatever the draft scale).  Only the marker segments before the first scan
    are read, so this is cheap; anything unparsable is assumed to need the buffer.
    """
    pos, components, progressive = 2, 0, False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return True
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # segments without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _JPEG_SOF and pos + 9 < len(data):
            components = data[pos + 9]
            progressive = marker in _JPEG_PROGRESSIVE
        elif marker == 0xDA:
            return progressive or components == 0 or data[pos + 4] < components
        pos += 2 + length
    return True


def _jpeg_coefficient_bytes(size: tuple[int, int], layers: list[tuple[int, int, int, int]]) -> int:
    """Size of libjpeg's whole-image coefficient buffer: 64 x 2 bytes per 8x8 block of each
    (subsampled) component, at the image's full size."""
    width, height = size
    if not layers:
        return width * height * 4 * 2
    h_max = max(max(layer[1] for layer in layers), 1)
    v_max = max(max(layer[2] for layer in layers), 1)
    total = 0
    for _, h, v, _ in layers:
        h, v = max(h, 1), max(v, 1)
        blocks_wide = math.ceil(math.ceil(width * h / h_max) / 8)
        blocks_high = math.ceil(math.ceil(height * v / v_max) / 8)
        total += math.ceil(blocks_wide / h) * h * math.ceil(blocks_high / v) * v * 128
    return total


def _decode_cost(image: Image.Image, fmt: str, data: bytes, full_size: tuple[int, int]) -> int:
    """Bytes the decode of ``image`` (opened, JPEG draft already chosen) will allocate."""
    width, height = image.size
    if fmt == "WEBP":
        return width * height * _WEBP_BYTES_PER_PIXEL
    cost = width * height * _pixel_bytes(image.mode)
    if fmt == "JPEG" and _jpeg_buffers_whole_image(data):
        cost += _jpeg_coefficient_bytes(full_size, list(getattr(image, "layer", [])))
    return cost


def _too_costly(fmt: str, size: tuple[int, int], cost: int, budget: int, mode: str) -> PhotoRejected:
    """Say what the limit is and what to do about it, for the format and kind of image sent."""
    width, height = size
    if fmt == "PNG":
        most = min(MAX_PIXELS, budget // _pixel_bytes(mode))
    elif fmt == "WEBP":
        most = min(MAX_PIXELS, budget // _WEBP_BYTES_PER_PIXEL)
    else:  # JPEG: cost grows about linearly with the pixel count
        most = min(MAX_JPEG_PIXELS, width * height * budget // cost)
    name = _FORMAT_NAMES[fmt]
    if fmt == "JPEG":  # over budget only when progressive (or multi-scan) and huge
        advice = "save it as a standard (baseline) JPEG or send a smaller image"
    else:
        advice = "send a JPEG or a smaller image"
    return PhotoRejected(
        f"The photo is too large to process ({width}x{height} pixels): at most "
        f"{most // 1_000_000} megapixels for a {name} like this one; {advice}."
    )


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    """Refuse from the header alone, before decoding allocates width*height pixels."""
    width, height = size
    if width < 1 or height < 1:
        raise PhotoRejected("The photo is damaged or not a valid image.")
    if width * height > limit:
        raise PhotoRejected(
            f"The photo's dimensions are too large ({width}x{height} pixels); "
            f"the limit is {limit // 1_000_000} megapixels."
        )


def _decode(data: bytes, fmt: str, budget: int) -> tuple[Image.Image, int]:
    """Decode fully, refusing bombs before any pixel memory is allocated; also return what
    the decode was reckoned to cost.

    ``verify()`` catches structural damage (PNG CRCs and the like) and ``load()`` catches
    truncation, which ``verify()`` misses for JPEG; both are needed to be sure the bytes
    really are the image the magic number claims.  Any Pillow failure, including a
    ``DecompressionBombWarning`` promoted to an error by the warnings filter, becomes a
    refusal: for hostile input, "Pillow could not cope" is exactly the signal we want.
    Warnings are deliberately not captured with ``warnings.catch_warnings`` because that
    mutates process-global state and is not thread-safe; our own caps sit below Pillow's
    warning threshold, so every image that would warn is refused here anyway.
    """
    limit = MAX_JPEG_PIXELS if fmt == "JPEG" else MAX_PIXELS
    image: Image.Image | None = None
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            _check_pixels(probe.size, limit)
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=[fmt])
        full_size = image.size
        _check_pixels(full_size, limit)
        if fmt == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result still covers
            # the stored size: big phone photos then cost a fraction of the memory/CPU.
            image.draft(None, _scaled_size(full_size, ORIGINAL_LONG_SIDE))
        cost = _decode_cost(image, fmt, data, full_size)
        if cost > budget:
            raise _too_costly(fmt, full_size, cost, budget, image.mode)
        image.load()
    except BaseException as exc:
        if image is not None:
            image.close()
        if isinstance(exc, PhotoRejected):
            raise
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise PhotoRejected("The photo's dimensions are too large.") from exc
        if isinstance(exc, Exception):  # any decoder failure on untrusted input is a refusal
            raise PhotoRejected("The photo is damaged or not a valid image.") from exc
        raise
    return image, cost


def _orientation(image: Image.Image) -> Image.Transpose | None:
    """The transpose that makes the photo upright: phones store portrait photos sideways
    plus an EXIF flag, and once the flag is stripped the photo would show rotated."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # malformed EXIF: an unrotated photo beats refusing the upload
        return None
    return _ORIENTATIONS.get(value) if isinstance(value, int) else None


def _srgb_converter(image: Image.Image) -> tuple[str, Callable[[Image.Image], Image.Image]]:
    """The mode (RGB or RGBA) and a function taking any strip of ``image`` to it, in sRGB.

    Converting through the embedded ICC profile keeps colours right (Display P3 phone
    photos, CMYK JPEGs) after the profile itself is dropped.  The transform is built once
    and applied strip by strip, so no full-size converted copy of the image is ever made.
    """
    sixteen_bit = image.mode in _SIXTEEN_BIT_MODES
    mode = "L" if sixteen_bit else image.mode
    target = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    transform: ImageCms.ImageCmsTransform | None = None
    icc = image.info.get("icc_profile")
    if icc and mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            transform = ImageCms.buildTransform(source, srgb, mode, "RGBA" if mode == "RGBA" else "RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            transform = None  # broken/mismatched profile: fall back to a plain conversion

    def convert(strip: Image.Image) -> Image.Image:
        if sixteen_bit:
            # 16-bit greyscale PNG: convert("L") would clip, so scale to 8 bits instead.
            strip = strip.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        converted: Image.Image | None = None
        if transform is not None:
            try:
                converted = transform.apply(strip)
            except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
                converted = None
        if converted is None:
            return strip.convert(target) if strip.mode != target else strip
        return converted.convert(target) if converted.mode != target else converted

    return target, convert


def _prepare(decoded: Image.Image) -> Image.Image:
    """Upright, 8-bit sRGB (RGB, or RGBA only if some pixel is see-through), at most
    ORIGINAL_LONG_SIDE: a fresh image with an empty ``info``, so no metadata rides along.

    The decoded image is read in horizontal strips; each strip is converted and
    Lanczos-resized into its rows of the result (with enough rows of margin that the
    filter sees exactly what it would over the whole image).  So the only full-size buffer
    is the decode itself: no converted copy, no premultiplied-alpha copy, no rotated copy
    (the rotation is done at the stored size, after shrinking, which gives the same size).
    """
    mode, convert = _srgb_converter(decoded)
    width, height = decoded.size
    out_width, out_height = _scaled_size(decoded.size, ORIGINAL_LONG_SIDE)
    result = Image.new(mode, (out_width, out_height))
    scale = height / out_height
    support = _LANCZOS_SUPPORT * max(scale, 1.0)
    step = max(1, int(_STRIP_BYTES // (width * 4 * scale)))
    for top in range(0, out_height, step):
        bottom = min(out_height, top + step)
        y0, y1 = top * scale, bottom * scale
        first = max(0, math.floor(y0 - support) - 1)
        last = min(height, math.ceil(y1 + support) + 1)
        if (out_width, out_height) == (width, height):
            first, last = top, bottom
        strip = convert(decoded.crop((0, first, width, last)))
        if (out_width, out_height) != (width, height):
            strip = strip.resize(
                (out_width, bottom - top), Image.Resampling.LANCZOS, box=(0, y0 - first, width, y1 - first)
            )
        result.paste(strip, (0, top))
        strip.close()
    transpose = _orientation(decoded)
    if transpose is not None:
        result = result.transpose(transpose)
    if result.mode == "RGBA" and result.getchannel("A").getextrema()[0] == 255:
        # Fully opaque alpha is discarded so it does not bloat PNG/WebP originals.
        result = result.convert("RGB")
    result.info.clear()
    return result


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no alpha; white is what a transparent PNG looks like on our list pages."""
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _resize(image: Image.Image, long_side: int) -> Image.Image:
    """Downscale with a high-quality filter; ``reducing_gap`` keeps large inputs fast."""
    size = _scaled_size(image.size, long_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Encode with explicit, metadata-free settings (no exif/icc/xmp/comment passed), so the
    output is deterministic: identical uploads yield identical bytes and thus one key."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        _flatten(image).save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif fmt == "PNG":
        image.save(buffer, "PNG", optimize=True)
    else:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def _encode_thumbs(image: Image.Image) -> dict[str, bytes]:
    """Thumbnails are always JPEG: smallest for photos on phone data plans, shown everywhere.

    Each is made from the next size up (the 960 from the stored original, the 320 from the
    960), the smallest source that still has enough pixels.
    """
    thumbs: dict[str, bytes] = {}
    source = image
    for name, long_side in sorted(THUMB_LONG_SIDES.items(), key=lambda item: -item[1]):
        source = _resize(source, long_side)
        buffer = io.BytesIO()
        _flatten(source).save(buffer, "JPEG", quality=THUMB_QUALITY, optimize=True)
        thumbs[name] = buffer.getvalue()
    return {name: thumbs[name] for name in THUMB_LONG_SIDES}


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


def _load_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    trim: Callable[[int], int] = function
    return trim


_MALLOC_TRIM: Final = _load_malloc_trim()


def release_freed_memory() -> None:
    """Hand memory freed after a big decode back to the OS.

    glibc keeps freed heap memory in its (per-thread) arenas for reuse, so after a few
    large decodes in worker threads the process's RSS stays hundreds of MB up although
    nothing uses it; ``malloc_trim`` returns those pages.  A no-op elsewhere.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


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
        fmt = _sniff_format(data)
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
        decoded, cost = _decode(data, fmt, self.decode_budget)
        try:
            try:
                image = _prepare(decoded)
            finally:
                decoded.close()
                del decoded
            try:
                return _encode(image, fmt), _encode_thumbs(image), image.size
            finally:
                image.close()
        except PhotoRejected:
            raise
        except Exception as exc:  # colour/transform failures on odd but decodable input
            raise PhotoRejected("The photo is damaged or not a valid image.") from exc
        finally:
            if cost >= _TRIM_AFTER_BYTES:
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
