"""From a decoded upload to what is stored: upright, sRGB, metadata-free, re-encoded, with thumbnails.

All metadata is stripped: phone cameras embed GPS coordinates in EXIF, and vendors often photograph stock at home,
so a listing photo could publish a vendor's home address. Colour profiles are converted to sRGB and dropped, so
what buyers see stays faithful. Images are re-encoded, never stored as uploaded, so a polyglot or exploit payload
hidden in the original container does not survive. The big decode is read in strips: no second full-size copy.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Final

from PIL import ExifTags, Image, ImageCms

ORIGINAL_LONG_SIDE: Final = 2048
THUMB_LONG_SIDES: Final[dict[str, int]] = {"320": 320, "960": 960}

JPEG_QUALITY: Final = 88
WEBP_QUALITY: Final = 85
THUMB_QUALITY: Final = 80

# Source rows are converted and shrunk about this many bytes at a time.
_STRIP_BYTES: Final = 8 * 1024 * 1024
# Pillow's Lanczos filter reaches 3 source pixels (times the scale) either side.
_LANCZOS_SUPPORT: Final = 3.0
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


def scaled_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """Fit within ``long_side`` keeping the aspect ratio; never upscale (it only adds bytes
    and blur), and never round a very thin image down to zero pixels."""
    width, height = size
    longest = max(width, height)
    if longest <= long_side:
        return size
    factor = long_side / longest
    return max(1, round(width * factor)), max(1, round(height * factor))


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


def prepare(decoded: Image.Image) -> Image.Image:
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
    out_width, out_height = scaled_size(decoded.size, ORIGINAL_LONG_SIDE)
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
    size = scaled_size(image.size, long_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def encode(image: Image.Image, fmt: str) -> bytes:
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


def encode_thumbs(image: Image.Image) -> dict[str, bytes]:
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
