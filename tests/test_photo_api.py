"""A phone photo with GPS goes up through the API and comes back, in every size, without EXIF."""

from __future__ import annotations

import io

import httpx
from PIL import ExifTags, Image

from tests.conftest import World
from tests.test_photos import gps_exif


def _phone_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (200, 120, 40)).save(buffer, "JPEG", exif=gps_exif())
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo), "input must carry GPS"
    return data


async def test_uploaded_photo_has_no_exif_in_any_size(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        "/api/photos", files={"file": ("IMG_0001.jpg", _phone_photo(), "image/jpeg")}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    photo = r.json()["photo"]
    sizes = {"thumb": 320, "detail": 960, "original": 1600}
    for name, long_side in sizes.items():
        served = await client.get(photo[name])
        assert served.status_code == 200
        assert "immutable" in served.headers["cache-control"]
        image = Image.open(io.BytesIO(served.content))
        assert max(image.size) == long_side
        assert not image.getexif() and "exif" not in image.info
        assert b"Exif\x00\x00" not in served.content
    # The photo can be put on an item, and shows up with the item.
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": "Copper pan", "price": 2500, "photo_keys": [photo["key"]]},
        headers=world.vendor,
    )
    assert r.status_code == 201 and r.json()["photos"][0]["thumb"] == photo["thumb"]


async def test_unknown_photo_paths_are_404(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get("/photos/" + "a" * 64 + "/320")).status_code == 404
    assert (await client.get("/photos/..%2F..%2Fetc%2Fpasswd/320")).status_code == 404
    assert (await client.get("/photos/" + "a" * 64 + "/9999")).status_code == 404
