"""Stall links: the page a QR opens, and QR images that decode (with zxing-cpp, an independent
decoder) to the stall's absolute URL."""

from __future__ import annotations

import io

import httpx
import zxingcpp
from PIL import Image
from playwright.async_api import async_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import World


def _decode(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image)]


async def test_png_qr_decodes_to_the_stall_url(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    r = await client.get(f"/s/{code}/qr.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert _decode(Image.open(io.BytesIO(r.content))) == [f"http://127.0.0.1:8000/s/{code}"]
    assert world.stall["url"] == f"http://127.0.0.1:8000/s/{code}"


async def test_svg_qr_decodes_to_the_stall_url(client: httpx.AsyncClient, world: World) -> None:
    """Rasterised by a real browser engine, then decoded: what a printed sign would show."""
    code = world.stall["code"]
    r = await client.get(f"/s/{code}/qr.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 600, "height": 600})
        svg = r.text.split("?>", 1)[-1]
        await page.set_content(f"<body style='margin:0;background:#fff'><div style='width:500px'>{svg}</div></body>")
        await page.eval_on_selector("svg", "s => { s.setAttribute('width', '500'); s.setAttribute('height', '500') }")
        shot = await page.screenshot()
        await browser.close()
    assert _decode(Image.open(io.BytesIO(shot))) == [f"http://127.0.0.1:8000/s/{code}"]


async def test_stall_page_lists_items_escaped(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    for title, price in (("<script>alert(1)</script> jam", 450), ("Olive oil", 1299)):
        r = await client.post(f"/api/stalls/{code}/items", json={"title": title, "price": price}, headers=world.vendor)
        assert r.status_code == 201
    r = await client.get(f"/s/{code}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Stall 1" in r.text and "£12.99" in r.text and "£4.50" in r.text  # no Accept-Language: English
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    assert "Ripe Market" in r.text


async def test_unknown_stall_qr_is_404(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get("/s/zzzzzzzz/qr.png")).status_code == 404
    assert (await client.get("/s/zzzzzzzz/qr.svg")).status_code == 404


async def test_openapi_schema_is_served(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/api/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/items/{item_id}/sell" in paths and "/api/photos" in paths
