"""The organizer dashboard in a real browser: sign in, totals and SVG charts, a sale updating the
figures live, CSV export, a kiosk link, hiding an item."""

from __future__ import annotations

import anyio
from playwright.async_api import Browser, expect

from tests.browser_kiosk.conftest import PASSWORD, seed_market


async def test_dashboard_shows_live_totals_charts_and_exports(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Wildflower honey jar", 2)  # £13.00, for the Food bank
    context = await browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/kiosk/dashboard/ripe-jan")
        await page.locator("#email").fill("org@example.org")
        await page.locator("#password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()

        await expect(page.locator("#total-amount")).to_have_text("£13.00")
        await expect(page.locator("#total-sales")).to_have_text("1")
        await expect(page.locator("#event-name")).to_have_text("Ripe Market — January")
        await expect(page.locator("#hours-chart svg rect.bar")).to_have_count(1)
        await expect(page.locator("#causes-chart svg rect.bar")).to_have_count(1)
        await expect(page.locator("#causes-chart")).to_contain_text("£13.00 of £500.00")
        await expect(page.locator("#stalls-chart")).to_contain_text("Hive & Honey")
        await expect(page.locator("#net-status")).to_have_attribute("data-net", "live")

        # A vendor sells: the figures and charts follow without a reload.
        await market.sell("Handmade ceramic teapot")  # £24.00, also for the Food bank
        await expect(page.locator("#total-amount")).to_have_text("£37.00", timeout=8_000)
        await expect(page.locator("#total-sales")).to_have_text("2")
        await expect(page.locator("#causes-chart")).to_contain_text("£37.00 of £500.00")
        await expect(page.locator("#stalls-chart .bar-list li")).to_have_count(2)
        await expect(page.locator("#stalls-chart li").first).to_contain_text("Mabel's Pottery")

        # CSV export, fetched with the organizer's token and saved as a file.
        async with page.expect_download() as info:
            await page.locator("#sales-csv").click()
        download = await info.value
        assert download.suggested_filename == "ripe-jan-sales.csv"
        text = await anyio.Path(await download.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("sale_id,")
        assert "Wildflower honey jar" in text and "Handmade ceramic teapot" in text

        # A kiosk link for an entrance screen.
        await page.locator("#kiosk-label").fill("North gate")
        await page.get_by_role("button", name="Create kiosk link").click()
        await expect(page.locator("#kiosk-url")).to_contain_text(f"{live_server}/kiosk/ripe-jan#token=")

        # Moderation: hide an item; search no longer finds it.
        await page.locator("#item-q").fill("candle")
        await page.locator("#item-search").get_by_role("button", name="Search").click()
        row = page.locator("#item-results li", has_text="Beeswax candle")
        await row.get_by_role("button", name="Hide item").click()
        await expect(row.get_by_role("button", name="Show again")).to_be_visible()
        # Search follows the change log through the indexer, after the commit: wait for it.
        async with market.http() as http:
            totals = []
            for _ in range(100):
                found = (await http.get("/api/events/ripe-jan/search", params={"q": "candle"})).json()
                totals.append(found["total"])
                if found["total"] == 0:
                    break
                await anyio.sleep(0.1)
        assert totals[-1] == 0, f"the hidden item stayed searchable: totals seen {totals}"
    finally:
        await context.close()
