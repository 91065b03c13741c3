"""Kiosk screens in the organizer dashboard: the screens' tokens listed, one revoked after a
confirm step, and that entrance screen then showing its token gate instead of the market."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from tests.browser_kiosk.conftest import PASSWORD, seed_market

GATE = "This screen needs a kiosk token from the organizer"


async def _sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/kiosk/dashboard/ripe-jan")
    await page.locator("#email").fill("org@example.org")
    await page.locator("#password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#dashboard")).to_be_visible()


async def test_organizer_revokes_a_kiosk_screen_which_then_shows_its_gate(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    entrance = await market.kiosk_token()  # labelled "Entrance"
    screen_context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    organizer_context = await browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    try:
        screen = await screen_context.new_page()
        await screen.goto(entrance["url"])
        await expect(screen.locator("#event-name")).to_have_text("Ripe Market — January")
        await expect(screen.locator("#blocked")).to_be_hidden()

        dashboard = await organizer_context.new_page()
        await _sign_in(dashboard, live_server)
        section = dashboard.get_by_role("region", name="Kiosk screens")
        screens = section.get_by_role("list", name="Screens with a link")
        await expect(screens.get_by_role("listitem")).to_have_count(1)
        row = screens.get_by_role("listitem").filter(has_text="Entrance")
        await expect(row).to_contain_text(re.compile(r"created \d"))
        assert entrance["token"] not in await section.inner_text()

        # A second screen made here shows its link once and joins the list.
        await section.get_by_label("Screen name").fill("North gate")
        await section.get_by_role("button", name="Create kiosk link").click()
        await expect(dashboard.locator("#kiosk-url")).to_contain_text(f"{live_server}/kiosk/ripe-jan#token=")
        await expect(screens.get_by_role("listitem")).to_have_count(2)
        await expect(screens.get_by_role("listitem").nth(1)).to_contain_text("North gate")

        # Revoke asks first; "Keep it" (focused, so a double tap revokes nothing) changes nothing.
        revoke = row.get_by_role("button", name="Revoke Entrance")
        box = await revoke.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, box
        await revoke.click()
        await expect(row).to_contain_text("Revoke “Entrance”?")
        keep = row.get_by_role("button", name="Keep it")
        await expect(keep).to_be_focused()
        await keep.click()
        await expect(row.get_by_role("button", name="Revoke Entrance")).to_be_focused()
        await expect(screen.locator("#blocked")).to_be_hidden()

        await row.get_by_role("button", name="Revoke Entrance").click()
        confirm = row.get_by_role("button", name="Yes, revoke")
        box = await confirm.bounding_box()
        assert box is not None and box["height"] >= 44, box
        await confirm.click()
        await expect(section.get_by_role("status")).to_contain_text("Revoked “Entrance”")
        await expect(screens.get_by_role("listitem")).to_have_count(1)
        await expect(screens.get_by_role("listitem")).to_contain_text("North gate")
        assert await section.locator("[style]").count() == 0, "no inline styles (strict CSP)"

        # The running screen's next check (it rechecks on reconnecting, and every few minutes) is
        # refused: it shows its token gate; so does a reload.
        await screen.evaluate("dispatchEvent(new Event('online'))")
        await expect(screen.locator("#blocked")).to_be_visible()
        await expect(screen.locator("#blocked-title")).to_have_text(GATE)
        await expect(screen.locator("#screen")).to_be_hidden()
        await screen.reload()
        await expect(screen.locator("#blocked-title")).to_have_text(GATE)
        await expect(screen.locator("body")).to_have_attribute("data-blocked", "401")

        # The list is the server's: a fresh dashboard shows only the remaining screen.
        await dashboard.reload()
        await expect(screens.get_by_role("listitem")).to_have_count(1)
        await expect(screens.get_by_role("listitem")).to_contain_text("North gate")
    finally:
        await screen_context.close()
        await organizer_context.close()
