"""Responses that shrink are sent gzipped to browsers that ask; photos and PDFs are not touched."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.conftest import World


async def test_json_and_app_code_are_gzipped_photos_are_not(client: httpx.AsyncClient, world: World) -> None:
    gz = {"Accept-Encoding": "gzip"}
    for _ in range(20):
        made = await client.post(
            f"/api/stalls/{world.stall['code']}/items",
            json={"title": "Hand-thrown stoneware mug, speckled glaze", "price": 1800},
            headers=world.vendor,
        )
        assert made.status_code == 201, made.text
    for path in (
        f"/api/stalls/{world.stall['code']}/items",
        "/app/app.js",
        "/app/app.css",
        f"/s/{world.stall['code']}",
    ):
        response = await client.get(path, headers=gz)
        assert response.status_code == 200, path
        assert response.headers.get("content-encoding") == "gzip", path
        assert len(response.content) > 0  # httpx decoded it: the body was valid gzip

    raw = await client.get("/app/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert raw.headers["content-type"] == "text/javascript; charset=utf-8"

    photo = await client.post("/api/photos", files={"file": ("p.png", _png(), "image/png")}, headers=world.vendor)
    assert photo.status_code == 201, photo.text
    thumb = await client.get(photo.json()["photo"]["thumb"], headers=gz)
    assert thumb.status_code == 200 and "content-encoding" not in thumb.headers
    assert thumb.headers["content-type"].startswith("image/")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()
