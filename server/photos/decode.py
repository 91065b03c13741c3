"""Decoding an untrusted upload without letting it take the server's memory.

The type is sniffed from the bytes and then proven by letting Pillow actually decode the image: filenames and
Content-Type headers are attacker-controlled and would let an SVG (script) or HTML file ride along as a "photo".
What a decode will cost in memory is worked out from the header *before* decoding, and refused over a budget: a
few kilobytes of PNG can declare 6300x6300 RGBA pixels, 160 MB once decoded (decompression bomb). JPEGs are
decoded at 1/2, 1/4 or 1/8 scale straight to about the size we store, so a 48 MP phone photo costs what a 12 MP
one does; PNG and WebP cannot be decoded reduced, so they get a lower pixel limit.
"""

from __future__ import annotations

import ctypes
import io
import math
import sys
from collections.abc import Callable
from typing import Final

from PIL import Image

from server.photos.errors import PhotoRejected
from server.photos.variants import ORIGINAL_LONG_SIDE, scaled_size

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
# Pillow's WebP plugin keeps the decoder's canvas and previous canvas, a bytes copy of the
# frame and the image itself: four RGBA-sized buffers (measured: 15.3 bytes a pixel).
_WEBP_BYTES_PER_PIXEL: Final = 16
# After a decode at least this large, hand glibc's freed arenas back to the OS.
TRIM_AFTER_BYTES: Final = 16 * 1024 * 1024

_FORMAT_NAMES: Final[dict[str, str]] = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# JPEG start-of-frame markers (C4 DHT, C8 JPG and CC DAC are not frames) and the progressive ones.
_JPEG_SOF: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_PROGRESSIVE: Final = frozenset({0xC2, 0xC6, 0xCA, 0xCE})


def sniff_format(data: bytes) -> str | None:
    """Name the container from its magic number, because client-declared types lie."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


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


def decode(data: bytes, fmt: str, budget: int) -> tuple[Image.Image, int]:
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
            image.draft(None, scaled_size(full_size, ORIGINAL_LONG_SIDE))
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
