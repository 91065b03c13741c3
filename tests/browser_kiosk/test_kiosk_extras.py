"""More kiosk behaviour in a real browser against a real server: featured items rotating on the
idle welcome screen (only available items, a sold or hidden one taken off at once), the
dashboard's cause totals CSV and all-stall sign PDFs, the dashboard and stall mode reloaded
while the venue Wi-Fi is down, and a tap made while a reloaded kiosk checks its token."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import pypdfium2 as pdfium
from playwright.async_api import Browser, Page, Route, expect

from tests.browser_kiosk.conftest import PASSWORD, Market, decode_qr, seed_market
from tests.conftest import EVENT_BODY as EVENT
from tests.pdf_qr import qr_texts_per_page

FEW_SECONDS = 8_000

# Every render of the featured box, as the visitor saw it (recorded from the first paint on).
RECORD_FEATURED = """
window.__featured = [];
new MutationObserver((records) => {
  if (!records.some((r) => r.target.id === "featured" && r.addedNodes.length)) return;
  const card = document.querySelector("#featured .featured-card");
  window.__featured.push(card ? {
    id: card.dataset.itemId,
    title: card.querySelector(".card-title").textContent,
    price: card.querySelector(".price").textContent,
    stall: card.querySelector(".card-stall").textContent,
    qr: document.querySelector("#featured img.qr").getAttribute("src"),
  } : null);
}).observe(document, { childList: true, subtree: true });
"""

# wait_for_function does not await a promise (any promise is truthy): each poll starts a cache
# look-up and answers what the previous one found.
KEPT_IN_WORKER = """
path => {
  caches.open("souk-kiosk-runtime-v1")
    .then((cache) => cache.match(path))
    .then((hit) => { window.__kept = Boolean(hit); });
  return window.__kept === true;
}
"""


async def hide_item(market: Market, title: str) -> None:
    async with market.http() as http:
        response = await http.post(
            f"/api/items/{market.items[title]['id']}/hidden", json={"hidden": True}, headers=market.organizer
        )
        assert response.status_code == 200, response.text


async def sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/kiosk/dashboard/ripe-jan")
    await page.locator("#email").fill("org@example.org")
    await page.locator("#password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def minor_units(text: str) -> int:
    """ "37.00" GBP -> 3700: exact, never through a float."""
    return int(Decimal(text) * 100)


async def test_kiosk_rotates_available_featured_items_while_idle(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Handmade ceramic teapot")  # the only one: sold
    await hide_item(market, "Beeswax candle")  # hidden by the organizer
    offered = {market.items[t]["id"]: t for t in ("Blue glazed mug", "Wildflower honey jar")}
    stalls = {s["id"]: s for s in market.stalls}
    kiosk = await market.kiosk_token()
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    await context.add_init_script(RECORD_FEATURED)
    page = await context.new_page()
    try:
        # One second per featured item instead of eight, so a few turns take seconds.
        await page.goto(kiosk["url"] + "&feature=1")
        await expect(page.locator("#view-welcome")).to_be_visible()
        await expect(page.locator("#featured .featured-card")).to_be_visible(timeout=FEW_SECONDS)
        # Left alone on the welcome screen, it shows both items in turn, round and round.
        await page.wait_for_function(
            "() => { const seen = window.__featured.filter(Boolean);"
            " return seen.length >= 5 && new Set(seen.map((f) => f.id)).size >= 2; }",
            timeout=15_000,
        )
        shown: list[dict[str, Any] | None] = await page.evaluate("window.__featured")
        featured = [f for f in shown if f is not None]
        assert {f["id"] for f in featured} == set(offered), featured
        for f in featured:
            item = market.items[offered[f["id"]]]
            stall = stalls[item["stall_id"]]
            assert f["title"] == item["title"]
            assert f["price"] == {"Blue glazed mug": "£9.00", "Wildflower honey jar": "£6.50"}[item["title"]]
            assert f["stall"] == f"Stall {stall['number']} · {stall['name']}"
            # The QR takes a phone to that item: a link of this market, rendered by the server.
            qr = urlsplit(f["qr"])
            assert qr.path == "/kiosk-qr.svg"
            assert parse_qs(qr.query)["url"] == [f"{live_server}/s/{stall['code']}?item={item['id']}"]

        # With a slow rotation, an item that sells out or is hidden leaves the screen at once,
        # not at the next turn.
        await page.goto(f"{live_server}/kiosk/ripe-jan?feature=600")  # the token is kept
        card = page.locator("#featured .featured-card")
        await expect(card).to_be_visible()
        first = await card.get_attribute("data-item-id")
        assert first in offered, first
        first_stall = stalls[market.items[offered[first]]["stall_id"]]
        assert await decode_qr(page.locator("#featured img.qr")) == [
            f"{live_server}/s/{first_stall['code']}?item={first}"
        ]
        other = next(i for i in offered if i != first)
        sold_out = market.items[offered[first]]
        await market.sell(sold_out["title"], sold_out["quantity"])
        # The kiosk has heard of the sale (£24.00 for the teapot before), ...
        pence = 2400 + sold_out["price"] * sold_out["quantity"]
        total = f"£{pence // 100}.{pence % 100:02d}"
        await expect(page.locator("#total-amount")).to_have_text(total, timeout=FEW_SECONDS)
        # ... and the sold item has made way for the other one.
        await expect(card).to_have_attribute("data-item-id", other, timeout=FEW_SECONDS)
        await hide_item(market, offered[other])
        await expect(card).to_be_hidden(timeout=FEW_SECONDS)
        await expect(page.locator("#featured")).to_contain_text("Scan a stall's sign with your phone")
    finally:
        await context.close()


async def test_dashboard_downloads_cause_totals_csv_and_all_stall_signs(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Wildflower honey jar", 2)  # £13.00 for the Food bank
    await market.sell("Handmade ceramic teapot")  # £24.00 for the Food bank
    await market.sell("Beeswax candle")  # £4.00, no cause
    context = await browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    try:
        await sign_in(page, live_server)
        await expect(page.locator("#total-amount")).to_have_text("£41.00")
        await expect(page.locator("#causes-chart")).to_contain_text("£37.00 of £500.00")

        async with page.expect_download() as info:
            await page.locator("#causes-csv").click()
        download = await info.value
        assert download.suggested_filename == "ripe-jan-cause-totals.csv"
        await expect(page.locator("#exports-status")).to_have_text("Saved ripe-jan-cause-totals.csv.")
        text = await anyio.Path(await download.path()).read_text(encoding="utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(text)))
        assert header == ["cause", "tag", "sales", "amount", "goal", "currency"]
        async with market.http() as http:
            response = await http.get("/api/events/ripe-jan/totals", headers=market.organizer)
            assert response.status_code == 200, response.text
            totals = response.json()
        assert totals["currency"] == "GBP"
        expected = [[c["name"], c["tag"], c["sales"], c["amount"], c["goal"], "GBP"] for c in totals["causes"]] + [
            ["(all sales)", "", totals["sales"], totals["amount"], None, "GBP"]
        ]
        parsed = [
            [name, tag, int(sales), minor_units(amount), minor_units(goal) if goal else None, currency]
            for name, tag, sales, amount, goal, currency in rows
        ]
        assert parsed == expected
        assert parsed == [  # and the figures themselves, in the event currency's minor units
            ["Food bank", "#FoodBank", 2, 3700, 50_000, "GBP"],
            ["(all sales)", "", 3, 4100, None, "GBP"],
        ]

        # One sign per stall, each page's QR opening that stall, in A4 and in Letter.
        stall_urls = [f"{live_server}/s/{s['code']}" for s in market.stalls]
        assert stall_urls == [s["url"] for s in market.stalls]
        for button, filename, size in [
            ("#signs-a4", "ripe-jan-signs-a4.pdf", (595, 842)),
            ("#signs-letter", "ripe-jan-signs-letter.pdf", (612, 792)),
        ]:
            async with page.expect_download() as info:
                await page.locator(button).click()
            download = await info.value
            assert download.suggested_filename == filename
            status = page.locator("#exports-status")
            await expect(status).to_contain_text(f"Saved {filename}.")
            await expect(status.get_by_role("link", name="Open it to print")).to_have_attribute(
                "href", re.compile(r"^blob:")
            )
            pdf = await anyio.Path(await download.path()).read_bytes()
            assert pdf.startswith(b"%PDF-")
            pages = qr_texts_per_page(pdf)
            assert len(pages) == len(market.stalls), pages
            assert sorted(pages) == sorted([url] for url in stall_urls), pages
            document = pdfium.PdfDocument(pdf)
            try:
                sizes = [tuple(round(v) for v in document[i].get_size()) for i in range(len(document))]
            finally:
                document.close()
            assert sizes == [size] * len(market.stalls)
    finally:
        await context.close()


async def test_dashboard_reloaded_offline_shows_saved_totals_and_catches_up(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Wildflower honey jar", 2)  # £13.00
    context = await browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    try:
        await sign_in(page, live_server)
        await expect(page.locator("#total-amount")).to_have_text("£13.00")
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live")
        # The dashboard registers the kiosk pages' service worker: wait until it runs the page.
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)

        await context.set_offline(True)
        response = await page.reload()
        assert response is not None and response.status == 200  # the cached shell, not an error page
        await expect(page.locator("#dashboard")).to_be_visible()
        await expect(page.locator("#event-name")).to_have_text("Ripe Market — January")
        await expect(page.locator("#total-amount")).to_have_text("£13.00")
        await expect(page.locator("#total-sales")).to_have_text("1")
        await expect(page.locator("#causes-chart")).to_contain_text("£13.00 of £500.00")
        await expect(page.locator("#problem")).to_be_visible()
        await expect(page.locator("#problem")).to_have_text(
            re.compile(r"^Offline: these figures may be out of date \(saved \d\d:\d\d\)\.$")
        )
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "offline")
        await expect(page.locator("#signin-panel")).to_be_hidden()

        # A sale while the dashboard is cut off; it catches up once the network is back.
        await market.sell("Handmade ceramic teapot")  # £24.00
        await expect(page.locator("#total-amount")).to_have_text("£13.00")
        await context.set_offline(False)
        await expect(page.locator("#total-amount")).to_have_text("£37.00", timeout=FEW_SECONDS)
        await expect(page.locator("#total-sales")).to_have_text("2")
        await expect(page.locator("#causes-chart")).to_contain_text("£37.00 of £500.00")
        await expect(page.locator("#problem")).to_be_hidden()
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live", timeout=FEW_SECONDS)
    finally:
        await context.close()


async def test_stall_mode_reloaded_offline_keeps_its_qr_and_items(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Blue glazed mug")
    stall = market.stalls[0]
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/kiosk/stall/{stall['code']}")
        await expect(page.locator("#stall-name")).to_have_text("Mabel's Pottery")
        teapot = page.locator("#items li", has_text="Handmade ceramic teapot")
        await expect(teapot).to_contain_text("Available")
        await expect(page.locator("#items li")).to_have_count(2)
        # The page registers the kiosk pages' service worker, then asks it to keep the stall's QR
        # code: wait until the worker runs the page and has that code in its cache.
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
        await page.wait_for_function(KEPT_IN_WORKER, arg=f"/s/{stall['code']}/qr.svg", timeout=15_000)

        await context.set_offline(True)
        response = await page.reload()
        assert response is not None and response.status == 200
        await expect(page.locator("#stall-name")).to_have_text("Mabel's Pottery")
        await expect(page.locator("#stall-meta")).to_have_text("Stall A01 · North row · #MabelsPottery")
        await expect(page.locator("#net-status")).to_have_text("Offline — showing saved items")
        await expect(page.locator("#items li")).to_have_count(2)
        await expect(teapot).to_contain_text("£24.00")
        await expect(teapot).to_contain_text("Available")
        await expect(page.locator("#items li", has_text="Blue glazed mug")).to_contain_text("£9.00")
        assert await decode_qr(page.locator("#stall-qr img.qr")) == [f"{live_server}/s/{stall['code']}"]
        await expect(page.locator("#problem")).to_be_hidden()

        # Back online, it catches up with a sale made meanwhile.
        await market.sell("Handmade ceramic teapot")
        await context.set_offline(False)
        await expect(teapot).to_contain_text("Sold", timeout=FEW_SECONDS)
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live", timeout=FEW_SECONDS)
    finally:
        await context.close()


async def test_a_tap_while_the_kiosk_checks_its_token_is_kept(live_server: str, browser: Browser) -> None:
    """A kiosk reloaded with saved data draws at once and checks its token meanwhile; a visitor
    who taps "Stalls" in that moment stays there when the check comes back."""
    market = await seed_market(live_server)
    kiosk = await market.kiosk_token()
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    try:
        await page.goto(kiosk["url"])
        await expect(page.locator("body")).to_have_attribute("data-offline-ready", "yes", timeout=15_000)

        held: list[Route] = []
        asked = anyio.Event()

        async def hold(route: Route) -> None:
            held.append(route)
            asked.set()

        await context.route("**/api/kiosk/ripe-jan", hold)
        await page.reload()
        await expect(page.locator("#event-name")).to_have_text(EVENT["name"])  # from the saved replica
        await page.locator("#nav-stalls").click()
        await expect(page.locator("#view-stalls")).to_be_visible()
        with anyio.fail_after(FEW_SECONDS / 1000):
            await asked.wait()
        for route in held:
            await route.continue_()
        await context.unroute("**/api/kiosk/ripe-jan")

        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live", timeout=FEW_SECONDS)
        await expect(page.locator("#view-stalls")).to_be_visible()
        await expect(page.locator("#view-welcome")).to_be_hidden()
        await expect(page.locator("#stall-list .stall-row", has_text="Hive & Honey")).to_be_visible()
    finally:
        await context.close()
