"""Photo pipeline for item and chat photos uploaded from phones.

Every upload is untrusted bytes from the public internet or a market-stall phone, so the
pipeline is deliberately paranoid:

* The type is sniffed from the bytes and then proven by letting Pillow actually decode
  the image.  Filenames and Content-Type headers are attacker-controlled and would let an
  SVG (script) or HTML file ride along as a "photo".
* Pixel dimensions are capped *before* decoding: a few kilobytes of PNG can declare
  20000x20000 pixels and exhaust the server's memory when decoded (decompression bomb).
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
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageCms, ImageOps

PHOTO_SIZES: tuple[str, ...] = ("320", "960", "original")

# Well under Pillow's own bomb threshold (~89 MP warning, ~179 MP error), so our check
# always fires first and Pillow's process-global limit never has to be touched.
MAX_PIXELS: Final = 40_000_000
ORIGINAL_LONG_SIDE: Final = 2048
THUMB_LONG_SIDES: Final[dict[str, int]] = {"320": 320, "960": 960}

JPEG_QUALITY: Final = 88
WEBP_QUALITY: Final = 85
THUMB_QUALITY: Final = 80

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


class PhotoRejected(ValueError):
    """Carries a user-facing message; the API turns it into a 422 naming the field."""

    def __init__(self, message: str) -> None:
        """Keep the message separately so the API never has to parse ``str(exc)``."""
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredPhoto:
    """What the database needs to remember about a stored photo; the files hold the rest."""

    key: str  # sha256 hex
    mime: str  # of the original: image/jpeg, image/png or image/webp
    width: int  # of the stored original
    height: int
    byte_size: int  # of the stored original


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


def _decode(data: bytes, fmt: str) -> Image.Image:
    """Decode fully, refusing bombs before any pixel memory is allocated.

    ``verify()`` catches structural damage (PNG CRCs and the like) and ``load()`` catches
    truncation, which ``verify()`` misses for JPEG; both are needed to be sure the bytes
    really are the image the magic number claims.  Any Pillow failure, including a
    ``DecompressionBombWarning`` promoted to an error by the warnings filter, becomes a
    refusal: for hostile input, "Pillow could not cope" is exactly the signal we want.
    Warnings are deliberately not captured with ``warnings.catch_warnings`` because that
    mutates process-global state and is not thread-safe; our own cap sits below Pillow's
    warning threshold, so every image that would warn is refused here anyway.
    """
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            _check_pixels(probe.size)
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=[fmt])
        _check_pixels(image.size)
        if fmt == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result still covers
            # the stored size: big phone photos then cost a fraction of the memory/CPU.
            target = _scaled_size(image.size, ORIGINAL_LONG_SIDE)
            image.draft(None, target)
        image.load()
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("The photo's dimensions are too large.") from exc
    except Exception as exc:  # any decoder failure on untrusted input is a refusal
        raise PhotoRejected("The photo is damaged or not a valid image.") from exc
    return image


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse from the header alone, before decoding allocates width*height pixels."""
    width, height = size
    if width < 1 or height < 1:
        raise PhotoRejected("The photo is damaged or not a valid image.")
    if width * height > MAX_PIXELS:
        raise PhotoRejected(
            f"The photo's dimensions are too large ({width}x{height} pixels); "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels."
        )


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation before stripping it: phones store portrait photos
    sideways plus a flag, and once the flag is gone the photo would show rotated."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # malformed EXIF: an unrotated photo beats refusing the upload
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Normalise to 8-bit sRGB (RGB or RGBA).

    Converting through the embedded ICC profile keeps colours right (Display P3 phone
    photos, CMYK JPEGs) after the profile itself is dropped.  Fully opaque alpha is
    discarded so it does not bloat PNG/WebP originals.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale PNG: convert("L") would clip, so scale to 8 bits instead.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    icc = image.info.get("icc_profile")
    converted: Image.Image | None = None
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(image, source, srgb, outputMode=out_mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # broken/mismatched profile: fall back to a plain conversion
    if converted is None:
        converted = image.convert(target) if image.mode != target else image
    elif converted.mode != target:
        converted = converted.convert(target)
    if converted.mode == "RGBA":
        alpha_min, _ = converted.getchannel("A").getextrema()
        if alpha_min == 255:
            converted = converted.convert("RGB")
    return converted


def _clean_copy(image: Image.Image) -> Image.Image:
    """Return pixels only: a fresh image with an empty ``info`` dict.

    Pillow encoders fall back to ``image.info`` for some metadata (PNG ICC profiles, JPEG
    comments), so building a new image is the one way to be sure nothing rides along.
    """
    return Image.frombytes(image.mode, image.size, image.tobytes())


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


def _encode_thumb(image: Image.Image, long_side: int) -> bytes:
    """Thumbnails are always JPEG: smallest for photos on phone data plans, shown everywhere."""
    thumb = _flatten(_resize(image, long_side))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return buffer.getvalue()


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

    Holds no mutable state beyond its configuration, so one instance can be shared by
    worker threads (``save`` is CPU-bound and meant for ``anyio.to_thread``).
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        """The root is created lazily so a refused upload never leaves anything on disk."""
        self.root = Path(root)
        self.max_bytes = max_bytes

    def save(self, data: bytes) -> StoredPhoto:
        """Validate, make upright, strip metadata, re-encode and store one photo.

        Everything is checked and encoded in memory before the first filesystem write,
        so a refusal leaves the store untouched.  Raises ``PhotoRejected``.
        """
        if not data:
            raise PhotoRejected("The photo is empty.")
        if len(data) > self.max_bytes:
            raise PhotoRejected(f"The photo is too large ({len(data):,} bytes); the limit is {self.max_bytes:,} bytes.")
        fmt = _sniff_format(data)
        if fmt is None:
            raise PhotoRejected("Only JPEG, PNG and WebP photos are accepted.")

        decoded = _decode(data, fmt)
        try:
            image = _clean_copy(_resize(_to_srgb(_upright(decoded)), ORIGINAL_LONG_SIDE))
        except PhotoRejected:
            raise
        except Exception as exc:  # colour/transform failures on odd but decodable input
            raise PhotoRejected("The photo is damaged or not a valid image.") from exc
        finally:
            decoded.close()

        mime, ext = _FORMATS[fmt]
        original = _encode(image, fmt)
        thumbs = {name: _encode_thumb(image, side) for name, side in THUMB_LONG_SIDES.items()}
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

        width, height = image.size
        return StoredPhoto(key=key, mime=mime, width=width, height=height, byte_size=len(original))

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
