"""Shared set-up for the kiosk browser tests: one Chromium per session (Debian's, never a
downloaded one), a fresh context per test, and a small market seeded through the HTTP API of a
real `souk serve` process (the `live_server` fixture)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Locator, async_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import EVENT_BODY

PASSWORD = "correct horse"
VENDOR_PASSWORD = "vendor-pass"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Market:
    base: str
    organizer: dict[str, str]
    vendors: list[dict[str, str]]  # Authorization headers
    stalls: list[dict[str, Any]]
    items: dict[str, dict[str, Any]]  # title -> ItemView

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=15, trust_env=False)

    async def sell(self, title: str, quantity: int = 1) -> None:
        item = self.items[title]
        vendor = self.vendors[[s["id"] for s in self.stalls].index(item["stall_id"])]
        async with self.http() as http:
            response = await http.post(f"/api/items/{item['id']}/sell", json={"quantity": quantity}, headers=vendor)
            assert response.status_code == 201, response.text

    async def kiosk_token(self, slug: str = "ripe-jan") -> dict[str, str]:
        async with self.http() as http:
            response = await http.post(
                f"/api/events/{slug}/kiosk-tokens", json={"label": "Entrance"}, headers=self.organizer
            )
            assert response.status_code == 201, response.text
            out: dict[str, str] = response.json()
            return out


STALLS = [
    {"name": "Mabel's Pottery", "store_tag": "#MabelsPottery", "number": "A01", "location": "North row"},
    {"name": "Hive & Honey", "store_tag": "#HiveHoney", "number": "B07", "location": "By the clock"},
]
ITEMS = [
    (0, {"title": "Handmade ceramic teapot", "price": 2400, "hashtags": ["#Pottery", "#FoodBank"]}),
    (0, {"title": "Blue glazed mug", "price": 900, "quantity": 3, "hashtags": ["#Pottery"]}),
    (1, {"title": "Wildflower honey jar", "price": 650, "quantity": 5, "hashtags": ["#FoodBank"]}),
    (1, {"title": "Beeswax candle", "price": 400, "quantity": 4}),
]


async def seed_market(base: str) -> Market:
    """An organizer, an event with a cause, two vendors with a stall each, four items."""
    from server.domain.accounts import NewAccount, create_account

    await create_account(NewAccount("org@example.org", PASSWORD, "Org"), "organizer")
    async with httpx.AsyncClient(base_url=base, timeout=15, trust_env=False) as http:
        login = await http.post("/api/auth/login", json={"email": "org@example.org", "password": PASSWORD})
        assert login.status_code == 201, login.text
        organizer = bearer(login.json()["token"])
        assert (await http.post("/api/events", json=EVENT_BODY, headers=organizer)).status_code == 201
        cause = {"name": "Food bank", "tag": "#FoodBank", "goal": 50_000}
        assert (await http.post("/api/events/ripe-jan/causes", json=cause, headers=organizer)).status_code == 201
        codes = (await http.post("/api/events/ripe-jan/invites", json={"count": 2}, headers=organizer)).json()["codes"]
        vendors, stalls = [], []
        for n, (code, stall) in enumerate(zip(codes, STALLS, strict=True), start=1):
            joined = await http.post(
                "/api/vendors/join",
                json={
                    "invite_code": code,
                    "email": f"vendor{n}@example.org",
                    "password": VENDOR_PASSWORD,
                    "display_name": f"Vendor {n}",
                    "stall": stall,
                },
            )
            assert joined.status_code == 201, joined.text
            vendors.append(bearer(joined.json()["token"]))
            stalls.append(joined.json()["stall"])
        items: dict[str, dict[str, Any]] = {}
        for index, body in ITEMS:
            made = await http.post(f"/api/stalls/{stalls[index]['code']}/items", json=body, headers=vendors[index])
            assert made.status_code == 201, made.text
            items[str(body["title"])] = made.json()
    return Market(base, organizer, vendors, stalls, items)


async def decode_qr(image: Locator) -> list[str]:
    """Wait until the QR image has loaded, screenshot it and read it with zxing."""
    await image.wait_for(state="visible")
    await image.evaluate(
        "img => img.complete && img.naturalWidth > 0 ? true : new Promise((ok, fail) => {"
        " img.addEventListener('load', () => ok(true)); img.addEventListener('error', fail); })"
    )
    png = await image.screenshot()
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
