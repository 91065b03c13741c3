"""A phone photo with GPS goes up through the API and comes back, in every size, without EXIF;
from either photo storage (SOUK_PHOTO_STORE), and, with photos in the database, from every node."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from PIL import ExifTags, Image

from server.settings import Settings
from server.tables import PhotoBlob
from tests.attacks.test_photo_bomb import app_market
from tests.conftest import PHOTO_STORAGES, World, running_app, start_server
from tests.test_photos import gps_exif

ON_SQLITE = "SOUK_PHOTO_STORE=database needs PostgreSQL (run with SOUK_TEST_DATABASE_URL)"


@pytest.fixture(params=PHOTO_STORAGES)
async def app(request: pytest.FixtureRequest, db: Settings) -> AsyncIterator[Litestar]:
    """The app with each photo storage in turn (the database one on PostgreSQL only, as in production)."""
    if request.param == "database" and db.is_sqlite:
        pytest.skip(ON_SQLITE)
    async with running_app(db.with_changes(photo_store=request.param)) as application:
        yield application


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


async def test_photos_are_cached_as_immutable_with_a_content_etag(
    client: httpx.AsyncClient, world: World, db: Settings, app: Litestar
) -> None:
    r = await client.post("/api/photos", files={"file": ("a.jpg", _phone_photo(), "image/jpeg")}, headers=world.vendor)
    assert r.status_code == 201, r.text
    key = r.json()["photo"]["key"]
    for size in ("320", "960", "original"):
        served = await client.get(f"/photos/{key}/{size}")
        assert served.status_code == 200
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert served.headers["etag"] == f'"{key}-{size}"'
        assert served.headers["content-type"] == "image/jpeg"
        assert int(served.headers["content-length"]) == len(served.content)
        again = await client.get(f"/photos/{key}/{size}", headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == served.headers["etag"]
    assert hashlib.sha256((await client.get(f"/photos/{key}/original")).content).hexdigest() == key
    # The bytes are where the setting says: files in the data dir, or rows in the database.
    in_database = sorted(
        row["size"] for row in await PhotoBlob.select(PhotoBlob.size).where(PhotoBlob.photo_key == key)
    )
    if app_market(app).settings.photo_store == "disk":
        assert in_database == [] and len(list((db.photos_dir / key[:2] / key).glob("*.jpg"))) == 3
    else:
        assert in_database == ["320", "960", "original"]


async def test_a_photo_uploaded_on_one_node_is_served_by_another(db: Settings, tmp_path: Path) -> None:
    """Two `souk serve` processes, one PostgreSQL database, separate data dirs: node B serves,
    byte for byte and in every size, what node A accepted; an upload of the same photo on B is
    the same photo; neither node's data dir holds a photo."""
    if db.is_sqlite:
        pytest.skip(ON_SQLITE)
    shared = {"SOUK_PHOTO_STORE": "database", "SOUK_SECRET_KEY": "two-nodes-one-secret"}
    a, base_a = start_server(db, SOUK_DATA_DIR=str(tmp_path / "a"), **shared)
    b, base_b = start_server(db, SOUK_DATA_DIR=str(tmp_path / "b"), **shared)
    try:
        async with httpx.AsyncClient(base_url=base_a) as node_a, httpx.AsyncClient(base_url=base_b) as node_b:
            visitor = {"Authorization": f"Bearer {(await node_a.post('/api/devices')).json()['token']}"}
            photo = _phone_photo()
            r = await node_a.post("/api/photos", files={"file": ("IMG.jpg", photo, "image/jpeg")}, headers=visitor)
            assert r.status_code == 201, r.text
            uploaded = r.json()["photo"]
            key = uploaded["key"]
            for name, long_side in {"thumb": 320, "detail": 960, "original": 1600}.items():
                from_a, from_b = await node_a.get(uploaded[name]), await node_b.get(uploaded[name])
                assert from_a.status_code == from_b.status_code == 200, name
                assert from_b.content == from_a.content, name
                assert from_b.headers["etag"] == from_a.headers["etag"]
                assert "immutable" in from_b.headers["cache-control"]
                with Image.open(io.BytesIO(from_b.content)) as image:
                    assert max(image.size) == long_side
            assert hashlib.sha256((await node_b.get(uploaded["original"])).content).hexdigest() == key
            # The same photo sent again, to the other node (a phone's retried sync): the same key.
            again = await node_b.post("/api/photos", files={"file": ("IMG.jpg", photo, "image/jpeg")}, headers=visitor)
            assert again.status_code == 201 and again.json()["photo"]["key"] == key
            assert (await node_b.get(f"/photos/{'0' * 64}/320")).status_code == 404
        for node in ("a", "b"):
            photos_dir = tmp_path / node / "photos"
            assert not photos_dir.exists() or not [p for p in photos_dir.rglob("*") if p.is_file()]
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(timeout=20)
