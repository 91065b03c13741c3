"""Tests for the photo pipeline: real Pillow-made files, stored by each storage backend in turn
(files in tmp_path, rows in the test database: the `photo_storage` fixture of tests/conftest.py)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from server.photos.disk import DiskPhotos, media_type_of
from server.photos.errors import PhotoRejected
from server.photos.storage import PhotoStorage
from server.photos.store import PHOTO_SIZES, PhotoStore, StoredPhoto
from tests.conftest import stored_photo_names

MAX_BYTES = 5_000_000
SECRET = b"Vendor home 12 Secret Lane"


@pytest.fixture
def store(photo_storage: PhotoStorage) -> PhotoStore:
    return PhotoStore(photo_storage, MAX_BYTES)


@pytest.fixture
def disk(tmp_path: Path) -> PhotoStore:
    """For what only the files show (their names, layout, no rewrites, no temp files)."""
    return PhotoStore(DiskPhotos(tmp_path / "photos"), MAX_BYTES)


def root_of(store: PhotoStore) -> Path:
    assert isinstance(store.storage, DiskPhotos)
    return store.storage.root


# --- helpers -----------------------------------------------------------------------------


def noisy_image(size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Image.Image:
    """Random pixels, so encoders cannot squeeze the file to nothing (truncation tests)."""
    bands = len(mode)
    data = random.Random(seed).randbytes(size[0] * size[1] * bands)
    return Image.frombytes(mode, size, data)


def split_image(size: tuple[int, int]) -> Image.Image:
    """Left half red, right half blue: makes rotation visible."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return image


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.ImageDescription] = SECRET.decode()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 3.25)
    return exif


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def bilevel_png(width: int, height: int) -> bytes:
    """A genuine all-black 1-bit PNG built row by row, never holding the pixels in memory:
    huge dimensions, tiny file - the shape of a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    idat = b"".join(parts)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def sizes_stored(names: list[str]) -> list[tuple[str, str]]:
    """(key, size) of each stored name: "ab/<key>/320.jpg" on disk, "<key>/320" in the database."""
    return [(name.split("/")[-2], name.split("/")[-1].split(".")[0]) for name in names]


async def open_variant(store: PhotoStore, key: str, size: str) -> tuple[Image.Image, bytes]:
    raw = await store.read(key, size)
    assert raw is not None, f"missing variant {size}"
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image, raw


def assert_no_metadata(image: Image.Image, raw: bytes) -> None:
    assert len(image.getexif()) == 0
    assert "exif" not in image.info
    assert b"Exif\x00\x00" not in raw
    assert "icc_profile" not in image.info
    assert "comment" not in image.info
    assert "xmp" not in image.info
    assert SECRET not in raw
    assert b"PhoneCo" not in raw
    assert b"xmpmeta" not in raw


# --- metadata stripping ------------------------------------------------------------------


async def test_jpeg_gps_exif_is_stripped_from_every_variant(store: PhotoStore) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"
    data = encode(
        noisy_image((1200, 900)),
        "JPEG",
        exif=gps_exif(),
        comment=SECRET,
        xmp=xmp,
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    # The input really carries GPS and the other leaks, or this test proves nothing.
    with Image.open(io.BytesIO(data)) as uploaded:
        gps = uploaded.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
        assert ExifTags.GPS.GPSLongitude in gps
        assert "icc_profile" in uploaded.info
    assert b"Exif\x00\x00" in data
    assert SECRET in data

    photo = await store.save(data)

    assert photo.mime == "image/jpeg"
    for size in PHOTO_SIZES:
        image, raw = await open_variant(store, photo.key, size)
        assert image.format == "JPEG"
        assert_no_metadata(image, raw)


async def test_jpeg_comment_without_icc_is_stripped(store: PhotoStore) -> None:
    # No colour profile, so no colour conversion that might happen to drop metadata.
    data = encode(noisy_image((300, 200)), "JPEG", exif=gps_exif(), comment=SECRET)
    with Image.open(io.BytesIO(data)) as uploaded:
        assert uploaded.info["comment"] == SECRET
        assert "icc_profile" not in uploaded.info

    photo = await store.save(data)

    for size in PHOTO_SIZES:
        image, raw = await open_variant(store, photo.key, size)
        assert_no_metadata(image, raw)


async def test_png_icc_profile_is_dropped(store: PhotoStore) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(noisy_image((120, 80), "RGBA"), "PNG", icc_profile=icc)
    with Image.open(io.BytesIO(data)) as uploaded:
        assert "icc_profile" in uploaded.info

    photo = await store.save(data)

    image, raw = await open_variant(store, photo.key, "original")
    assert image.mode == "RGBA"  # alpha survives the colour conversion
    assert_no_metadata(image, raw)
    assert b"iCCP" not in raw


async def test_png_text_chunks_and_exif_are_stripped(store: PhotoStore) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET.decode())
    info.add_itxt("Author", SECRET.decode())
    data = encode(noisy_image((300, 200)), "PNG", pnginfo=info, exif=gps_exif())
    with Image.open(io.BytesIO(data)) as uploaded:
        assert uploaded.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert SECRET in data

    photo = await store.save(data)

    image, raw = await open_variant(store, photo.key, "original")
    assert image.format == "PNG"
    assert_no_metadata(image, raw)
    assert not getattr(image, "text", {})
    for marker in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
        assert marker not in raw


async def test_webp_exif_is_stripped(store: PhotoStore) -> None:
    data = encode(noisy_image((400, 300)), "WEBP", exif=gps_exif(), quality=90)
    with Image.open(io.BytesIO(data)) as uploaded:
        assert uploaded.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    photo = await store.save(data)

    image, raw = await open_variant(store, photo.key, "original")
    assert image.format == "WEBP"
    assert_no_metadata(image, raw)
    assert b"EXIF" not in raw


# --- orientation -------------------------------------------------------------------------


async def test_exif_orientation_6_is_applied_before_stripping(store: PhotoStore) -> None:
    # Stored 400x200 landscape, flagged "rotate 90 degrees clockwise to display".
    data = encode(split_image((400, 200)), "JPEG", exif=gps_exif(orientation=6), quality=95)

    photo = await store.save(data)

    assert (photo.width, photo.height) == (200, 400)
    for size in PHOTO_SIZES:
        image, _ = await open_variant(store, photo.key, size)
        width, height = image.size
        assert height > width, size
        assert ExifTags.Base.Orientation not in image.getexif()
        rgb = image.convert("RGB")
        # Rotating clockwise moves the red left half to the top.
        top = rgb.getpixel((width // 2, height // 4))
        bottom = rgb.getpixel((width // 2, 3 * height // 4))
        assert isinstance(top, tuple) and isinstance(bottom, tuple)
        assert top[0] > 200 and top[2] < 60, (size, top)
        assert bottom[2] > 200 and bottom[0] < 60, (size, bottom)


# --- formats -----------------------------------------------------------------------------


async def test_png_is_accepted_and_stays_png(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((300, 200)), "PNG"))

    assert photo.mime == "image/png"
    assert (photo.width, photo.height) == (300, 200)
    found = await store.find(photo.key, "original")
    assert found is not None and found.media_type == "image/png"
    assert photo.byte_size == found.byte_size == len(await store.read(photo.key, "original") or b"")
    if found.path is not None:
        assert found.path.name == "original.png"


async def test_webp_is_accepted_and_stays_webp(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((300, 200)), "WEBP"))

    assert photo.mime == "image/webp"
    found = await store.find(photo.key, "original")
    assert found is not None and found.media_type == "image/webp"
    assert found.path is None or found.path.name == "original.webp"
    image, _ = await open_variant(store, photo.key, "original")
    assert image.format == "WEBP"


async def test_png_with_alpha_keeps_alpha_and_gets_white_flattened_jpeg_thumbs(
    store: PhotoStore,
) -> None:
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))  # transparent
    image.paste((0, 128, 0, 255), (100, 100, 300, 300))  # opaque green square
    photo = await store.save(encode(image, "PNG"))

    original, _ = await open_variant(store, photo.key, "original")
    assert original.mode == "RGBA"
    assert original.getpixel((5, 5)) == (0, 0, 0, 0)

    for size in ("320", "960"):
        found = await store.find(photo.key, size)
        assert found is not None and found.media_type == "image/jpeg"
        assert found.path is None or found.path.suffix == ".jpg"
        thumb, _ = await open_variant(store, photo.key, size)
        assert thumb.format == "JPEG" and thumb.mode == "RGB"
        corner = thumb.getpixel((2, 2))
        centre = thumb.getpixel((thumb.width // 2, thumb.height // 2))
        assert isinstance(corner, tuple) and isinstance(centre, tuple)
        assert min(corner) > 240, corner  # transparent became white, not black
        assert centre[1] > 100 and centre[0] < 40, centre


@pytest.mark.parametrize(
    ("image", "fmt", "params", "pixel"),
    [
        pytest.param(Image.new("L", (50, 40), 128), "PNG", {}, (128, 128, 128), id="grey-png"),
        pytest.param(Image.new("I;16", (50, 40), 32768), "PNG", {}, (128, 128, 128), id="16bit"),
        pytest.param(Image.new("1", (50, 40), 1), "PNG", {}, (255, 255, 255), id="1bit-png"),
        pytest.param(Image.new("P", (50, 40), 0), "PNG", {"transparency": 0}, (255, 255, 255), id="p-trns"),
        pytest.param(Image.new("CMYK", (50, 40), (0, 255, 255, 0)), "JPEG", {}, (254, 0, 0), id="cmyk-jpeg"),
    ],
)
async def test_unusual_modes_become_srgb(
    store: PhotoStore,
    image: Image.Image,
    fmt: str,
    params: dict[str, object],
    pixel: tuple[int, int, int],
) -> None:
    photo = await store.save(encode(image, fmt, **params))

    thumb, _ = await open_variant(store, photo.key, "320")
    assert thumb.mode == "RGB"
    actual = thumb.getpixel((10, 10))
    assert isinstance(actual, tuple)
    assert all(abs(a - b) <= 3 for a, b in zip(actual, pixel, strict=True)), actual


# --- sizes -------------------------------------------------------------------------------


async def test_large_photo_is_capped_and_thumbnailed_to_long_sides(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((3000, 2000)), "JPEG", quality=70))

    assert (photo.width, photo.height) == (2048, 1365)
    expected = {"320": (320, 213), "960": (960, 640), "original": (2048, 1365)}
    for size, dims in expected.items():
        image, _ = await open_variant(store, photo.key, size)
        assert image.size == dims, size


async def test_portrait_long_side_is_the_height(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((1000, 1500)), "JPEG"))

    assert (photo.width, photo.height) == (1000, 1500)
    assert (await open_variant(store, photo.key, "320"))[0].size == (213, 320)
    assert (await open_variant(store, photo.key, "960"))[0].size == (640, 960)


async def test_small_photo_is_never_upscaled(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((200, 100)), "PNG"))

    assert (photo.width, photo.height) == (200, 100)
    for size in PHOTO_SIZES:
        assert (await open_variant(store, photo.key, size))[0].size == (200, 100), size


async def test_between_sizes_only_the_smaller_thumb_shrinks(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((640, 480)), "WEBP"))

    assert (await open_variant(store, photo.key, "320"))[0].size == (320, 240)
    assert (await open_variant(store, photo.key, "960"))[0].size == (640, 480)
    assert (await open_variant(store, photo.key, "original"))[0].size == (640, 480)


# --- refusals ----------------------------------------------------------------------------


def _gif() -> bytes:
    return encode(Image.new("P", (10, 10)), "GIF")


def _svg() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>'
    )


def _text_named_like_jpeg() -> bytes:
    return b"holiday.jpg\nContent-Type: image/jpeg\nthis is not an image at all\n"


def _jpeg_magic_then_garbage() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"definitely not JPEG data " * 40


def _truncated_jpeg() -> bytes:
    data = encode(noisy_image((400, 300)), "JPEG", quality=90)
    return data[: len(data) // 2]


def _corrupt_png() -> bytes:
    data = bytearray(encode(noisy_image((64, 64)), "PNG"))
    data[len(data) // 2] ^= 0xFF  # inside IDAT: CRC no longer matches
    return bytes(data)


def _truncated_webp() -> bytes:
    data = encode(noisy_image((300, 200)), "WEBP")
    return data[: len(data) // 2]


def _bomb_png() -> bytes:
    # 20000x20000 = 400 megapixels, well beyond even Pillow's own hard limit.
    return bilevel_png(20000, 20000)


def _over_cap_png() -> bytes:
    # 7000x7000 = 49 MP: under Pillow's default warning level but over our 40 MP cap.
    return bilevel_png(7000, 7000)


@pytest.mark.parametrize(
    ("make", "message_part"),
    [
        pytest.param(_gif, "JPEG, PNG and WebP", id="gif"),
        pytest.param(_svg, "JPEG, PNG and WebP", id="svg"),
        pytest.param(_text_named_like_jpeg, "JPEG, PNG and WebP", id="text"),
        pytest.param(_jpeg_magic_then_garbage, "damaged", id="jpeg-magic-garbage"),
        pytest.param(_truncated_jpeg, "damaged", id="truncated-jpeg"),
        pytest.param(_corrupt_png, "damaged", id="corrupt-png"),
        pytest.param(_truncated_webp, "damaged", id="truncated-webp"),
        pytest.param(lambda: b"", "empty", id="zero-bytes"),
        pytest.param(_bomb_png, "too large", id="bomb-400mp"),
        pytest.param(_over_cap_png, "too large", id="over-cap-49mp"),
    ],
)
async def test_refusals_write_nothing(store: PhotoStore, make: object, message_part: str) -> None:
    assert callable(make)
    data = make()
    assert isinstance(data, bytes)
    assert len(data) <= MAX_BYTES  # the byte limit is not what catches these

    with pytest.raises(PhotoRejected) as caught:
        await store.save(data)

    assert isinstance(caught.value, ValueError)
    assert message_part in caught.value.message
    assert str(caught.value) == caught.value.message
    assert await stored_photo_names(store.storage) == []


async def test_bomb_png_is_tiny_on_the_wire() -> None:
    assert len(_bomb_png()) < 100_000


async def test_over_the_byte_limit_is_refused(photo_storage: PhotoStorage) -> None:
    data = encode(noisy_image((300, 300)), "PNG")
    small_store = PhotoStore(photo_storage, max_bytes=len(data) - 1)

    with pytest.raises(PhotoRejected) as caught:
        await small_store.save(data)

    assert "too large" in caught.value.message
    assert await stored_photo_names(photo_storage) == []
    # Exactly at the limit is fine.
    assert (await PhotoStore(photo_storage, max_bytes=len(data)).save(data)).key


async def test_byte_limit_applies_before_sniffing(tmp_path: Path) -> None:
    small_store = PhotoStore(tmp_path / "photos", max_bytes=10)
    with pytest.raises(PhotoRejected, match="too large"):
        await small_store.save(b"x" * 11)


# --- content addressing ------------------------------------------------------------------


async def test_same_bytes_twice_give_same_key_and_one_set(store: PhotoStore) -> None:
    data = encode(noisy_image((500, 400)), "JPEG", exif=gps_exif())

    first = await store.save(data)
    second = await store.save(data)

    assert isinstance(first, StoredPhoto)
    assert first == second
    assert len(first.key) == 64
    assert sizes_stored(await stored_photo_names(store.storage)) == [(first.key, s) for s in PHOTO_SIZES]


async def test_same_bytes_twice_write_the_files_once(disk: PhotoStore) -> None:
    data = encode(noisy_image((500, 400)), "JPEG", exif=gps_exif())
    root = root_of(disk)

    first = await disk.save(data)
    stored = {p: p.stat().st_mtime_ns for p in files_under(root)}
    await disk.save(data)

    folders = [p for p in root.glob("*/*") if p.is_dir()]
    assert folders == [root / first.key[:2] / first.key]
    assert sorted(p.name for p in folders[0].iterdir()) == ["320.jpg", "960.jpg", "original.jpg"]
    # The repeat save is a no-op: nothing rewritten.
    assert {p: p.stat().st_mtime_ns for p in files_under(root)} == stored


async def test_key_is_sha256_of_stored_original(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((300, 300)), "WEBP"))

    original = await store.read(photo.key, "original")
    assert original is not None
    assert hashlib.sha256(original).hexdigest() == photo.key


async def test_files_are_fanned_out_by_key(disk: PhotoStore) -> None:
    photo = await disk.save(encode(noisy_image((300, 300)), "WEBP"))

    found = await disk.find(photo.key, "original")
    assert found is not None
    assert found.path == root_of(disk) / photo.key[:2] / photo.key / "original.webp"


async def test_different_photos_get_different_keys(store: PhotoStore) -> None:
    one = await store.save(encode(noisy_image((100, 100), seed=1), "PNG"))
    two = await store.save(encode(noisy_image((100, 100), seed=2), "PNG"))
    assert one.key != two.key


async def test_concurrent_saves_of_same_photo_agree_and_leave_no_temp_files(store: PhotoStore) -> None:
    data = encode(noisy_image((800, 600)), "JPEG")

    results = await asyncio.gather(*(store.save(data) for _ in range(8)))

    assert len({r.key for r in results}) == 1
    names = await stored_photo_names(store.storage)
    assert sizes_stored(names) == [(results[0].key, s) for s in PHOTO_SIZES]
    assert not [name for name in names if name.endswith(".tmp")]


# --- find / path_for / media types ------------------------------------------------------


BAD_KEYS = [
    "../etc/passwd",
    "../../../../etc/passwd",
    "ab/../../etc/passwd",
    "A" * 64,  # uppercase hex is not how we store keys
    "a" * 63,
    "a" * 65,
    "g" * 64,
    "a" * 64 + "\n",
    "/" + "a" * 63,
    "",
]
BAD_SIZES = ["1000", "original.png", "../320", "", "320.jpg", "ORIGINAL"]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_find_rejects_bad_keys(store: PhotoStore, key: str) -> None:
    await store.save(encode(noisy_image((50, 50)), "PNG"))
    for size in PHOTO_SIZES:
        assert await store.find(key, size) is None
        assert await store.read(key, size) is None


@pytest.mark.parametrize("size", BAD_SIZES)
async def test_find_rejects_unknown_sizes(store: PhotoStore, size: str) -> None:
    photo = await store.save(encode(noisy_image((50, 50)), "PNG"))
    assert await store.find(photo.key, size) is None


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_disk_path_for_rejects_bad_keys_and_sizes(disk: PhotoStore, key: str) -> None:
    photo = await disk.save(encode(noisy_image((50, 50)), "PNG"))
    assert isinstance(disk.storage, DiskPhotos)
    for size in PHOTO_SIZES:
        assert disk.storage.path_for(key, size) is None
    for size in BAD_SIZES:
        assert disk.storage.path_for(photo.key, size) is None


async def test_find_unknown_key_is_none(store: PhotoStore) -> None:
    assert await store.find("0" * 64, "original") is None
    assert await store.find("0" * 64, "320") is None


async def test_find_finds_every_variant(store: PhotoStore) -> None:
    photo = await store.save(encode(noisy_image((50, 50)), "JPEG"))
    for size in PHOTO_SIZES:
        found = await store.find(photo.key, size)
        assert found is not None and found.media_type == "image/jpeg"
        assert (found.key, found.size, found.etag) == (photo.key, size, f'"{photo.key}-{size}"')
        assert found.byte_size == len(await store.read(photo.key, size) or b"")
        if found.path is not None:
            assert found.path.is_file() and found.path.is_relative_to(root_of(store))


async def test_a_big_original_is_read_in_chunks(store: PhotoStore) -> None:
    from server.photos.storage import CHUNK_BYTES

    photo = await store.save(encode(noisy_image((900, 700)), "PNG"))
    assert photo.byte_size > 2 * CHUNK_BYTES  # noise does not compress: several chunks
    found = await store.find(photo.key, "original")
    assert found is not None
    chunks = [chunk async for chunk in store.chunks(found)]
    assert len(chunks) > 2 and all(len(chunk) == CHUNK_BYTES for chunk in chunks[:-1])
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == photo.key


def test_media_type_of_unknown_suffix_is_generic(tmp_path: Path) -> None:
    assert media_type_of(tmp_path / "x.svg") == "application/octet-stream"
