"""Kiosk mode in a real browser against a real server: token checks, search with typos, a large
item QR that decodes, the stall directory, offline reload and search from the local replica,
catching up on a sale once back online, live item state, and the idle reset."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

from server.api.kiosk_pages import is_own_url
from tests.browser_kiosk.conftest import decode_qr, seed_market
from tests.conftest import EVENT_BODY as EVENT

FEW_SECONDS = 8_000


async def test_kiosk_refuses_missing_unknown_and_foreign_tokens(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    other = {**EVENT, "slug": "other-feb", "name": "Other Fair", "hashtag": "#OtherFair"}
    async with market.http() as http:
        assert (await http.post("/api/events", json=other, headers=market.organizer)).status_code == 201
    foreign = await market.kiosk_token("other-feb")

    context = await browser.new_context(locale="en-GB")
    page = await context.new_page()
    try:
        response = await page.goto(f"{live_server}/kiosk/ripe-jan")
        assert response is not None and response.ok
        blocked = page.locator("#blocked")
        await expect(blocked).to_be_visible()
        await expect(blocked).to_contain_text("This screen needs a kiosk token from the organizer")
        await expect(page.locator("#screen")).to_be_hidden()

        await page.goto("about:blank")
        await page.goto(f"{live_server}/kiosk/ripe-jan#token=not-a-real-token")
        await expect(blocked).to_contain_text("needs a kiosk token from the organizer")
        await expect(page.locator("body")).to_have_attribute("data-blocked", "401")

        await page.goto("about:blank")
        await page.goto(f"{live_server}/kiosk/ripe-jan#token={foreign['token']}")
        await expect(blocked).to_contain_text("This kiosk token belongs to another event")
        await expect(page.locator("body")).to_have_attribute("data-blocked", "403")
        await expect(page.locator("#screen")).to_be_hidden()
        assert foreign["token"] not in page.url  # taken off the address bar either way
    finally:
        await context.close()


async def test_kiosk_qr_route_renders_only_links_of_this_market(client: httpx.AsyncClient) -> None:
    base = "http://127.0.0.1:8000"  # the test settings' base URL
    own = await client.get("/kiosk-qr.svg", params={"url": f"{base}/s/ABC?item=1"})
    assert own.status_code == 200
    assert own.headers["content-type"].startswith("image/svg+xml")
    for url in ["https://evil.example/s/ABC", f"{base}.evil.example/s/x", "javascript:alert(1)", "", "x" * 3000]:
        refused = await client.get("/kiosk-qr.svg", params={"url": url})
        assert refused.status_code == 422, url
        assert refused.json()["field"] == "url"
    assert (await client.get("/kiosk-qr.svg")).status_code == 422
    worker = await client.get("/kiosk-assets/sw.js")
    assert worker.headers["service-worker-allowed"] == "/kiosk/"
    assert "const BUILD = {" in worker.text and '"version": "dev"' not in worker.text
    assert (await client.get("/kiosk-assets/signs.py")).status_code == 404
    shell = await client.get("/kiosk/ripe-jan")
    assert shell.status_code == 200 and "/kiosk-assets/kiosk.js" in shell.text
    again = await client.get("/kiosk/ripe-jan", headers={"If-None-Match": shell.headers["etag"]})
    assert again.status_code == 304


def test_own_url_rule() -> None:
    base = "https://souk.example/market"
    assert is_own_url("https://souk.example/market/s/abc?item=1", base)
    assert is_own_url("https://SOUK.example/market", base + "/")
    assert not is_own_url("https://souk.example/marketplace/s/abc", base)
    assert not is_own_url("http://souk.example/market/s/abc", base)
    assert not is_own_url("https://souk.example.evil/market/s/abc", base)
    assert not is_own_url("https://user@souk.example/market/s/abc", base)
    assert not is_own_url("https://souk.example/market/s/a b", base)
    assert not is_own_url("https://souk.example:99999/market", base)


async def test_kiosk_searches_shows_item_qr_works_offline_and_catches_up(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Beeswax candle")  # £4.00 before the kiosk opens
    kiosk = await market.kiosk_token()
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    try:
        await page.goto(kiosk["url"])
        await expect(page.locator("#event-name")).to_have_text(EVENT["name"])
        assert "token=" not in page.url
        await expect(page.locator("#total-amount")).to_have_text("£4.00")
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live", timeout=FEW_SECONDS)

        # Search as you type, with a typo: "ceramik" finds the ceramic teapot.
        await page.locator("#q").press_sequentially("ceramik", delay=30)
        teapot = page.locator("#results .card", has_text="Handmade ceramic teapot")
        await expect(teapot).to_be_visible()
        await expect(teapot.locator("mark")).to_have_text("ceramic")

        # A large QR code takes the item to the visitor's phone.
        await teapot.click()
        qr = page.locator("#item-qr img.qr")
        box = await qr.bounding_box()
        assert box is not None and box["width"] >= 300, box
        stall = market.stalls[0]
        item = market.items["Handmade ceramic teapot"]
        assert await decode_qr(qr) == [f"{live_server}/s/{stall['code']}?item={item['id']}"]
        await expect(page.locator("#item-state")).to_have_text("Available")

        # Browse: the stall directory with numbers and locations, then a stall with its QR.
        await page.locator("#nav-stalls").click()
        row = page.locator("#stall-list .stall-row", has_text="Hive & Honey")
        await expect(row).to_contain_text("B07")
        await expect(row).to_contain_text("By the clock")
        await row.click()
        assert await decode_qr(page.locator("#stall-qr img.qr")) == [market.stalls[1]["url"]]
        await expect(page.locator("#stall-items")).to_contain_text("Wildflower honey jar")

        # Browse by hashtag.
        await page.locator("#nav-tags").click()
        await page.locator("#all-tags .chip", has_text="#Pottery").click()
        await expect(page.locator("#results .card")).to_have_count(2)

        # The venue Wi-Fi goes away: a reload still shows the kiosk, and search uses the replica.
        await expect(page.locator("body")).to_have_attribute("data-offline-ready", "yes", timeout=15_000)
        await context.set_offline(True)
        await page.reload()
        await expect(page.locator("#event-name")).to_have_text(EVENT["name"])
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "offline")
        await page.locator("#q").press_sequentially("wildflowr hon", delay=30)
        honey = page.locator("#results .card", has_text="Wildflower honey jar")
        await expect(honey).to_be_visible()
        await expect(page.locator("#search-note")).to_contain_text("saved copy")

        # A vendor sells while the kiosk is offline; it catches up once the network is back.
        await page.locator("#nav-home").click()
        await market.sell("Wildflower honey jar", 2)  # £13.00
        await expect(page.locator("#total-amount")).to_have_text("£4.00")
        await context.set_offline(False)
        await expect(page.locator("#total-amount")).to_have_text("£17.00", timeout=FEW_SECONDS)
        await expect(page.locator("#total-sales")).to_have_text("2 sales")
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live", timeout=FEW_SECONDS)

        # Live while online: the item shown changes state the moment the vendor sells it.
        await page.locator("#q").fill("teapot")
        await page.locator("#results .card", has_text="Handmade ceramic teapot").click()
        await expect(page.locator("#item-state")).to_have_text("Available")
        await market.sell("Handmade ceramic teapot")
        await expect(page.locator("#item-state")).to_have_text("Sold", timeout=FEW_SECONDS)
        await page.locator("#nav-home").click()
        await expect(page.locator("#total-amount")).to_have_text("£41.00")
        await expect(page.locator("#cause-totals")).to_contain_text("Food bank")
        await expect(page.locator("#cause-totals")).to_contain_text(re.compile(r"£37\.00 of £500\.00"))

        # Idle: back to the welcome screen on its own.
        await page.goto(f"{live_server}/kiosk/ripe-jan?idle=3")
        await page.locator("#nav-stalls").click()
        await expect(page.locator("#view-stalls")).to_be_visible()
        await expect(page.locator("#view-welcome")).to_be_visible(timeout=FEW_SECONDS)
        await expect(page.locator("#view-stalls")).to_be_hidden()
    finally:
        await context.close()
