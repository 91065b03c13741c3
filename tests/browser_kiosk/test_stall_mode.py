"""Stall mode in a real browser: the stall's QR decodes to the stall's link, items follow sales
live, only this stall's vendor can sign in, and they get a big cue (without the message text) when
a visitor writes."""

from __future__ import annotations

from uuid import uuid4

from playwright.async_api import Browser, expect

from tests.browser_kiosk.conftest import VENDOR_PASSWORD, bearer, decode_qr, seed_market


async def test_stall_mode_shows_qr_items_and_new_message_cue(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    stall = market.stalls[0]
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/kiosk/stall/{stall['code']}")
        await expect(page.locator("#stall-name")).to_have_text("Mabel's Pottery")
        qr = page.locator("#stall-qr img.qr")
        box = await qr.bounding_box()
        assert box is not None and box["width"] >= 300, box
        assert await decode_qr(qr) == [f"{live_server}/s/{stall['code']}"]
        teapot = page.locator("#items li", has_text="Handmade ceramic teapot")
        await expect(teapot).to_contain_text("Available")

        # The vendor of another stall cannot take this screen's message alerts.
        await page.get_by_role("button", name="Vendor sign-in").click()
        await page.locator("#email").fill("vendor2@example.org")
        await page.locator("#password").fill(VENDOR_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#signin-error")).to_contain_text("does not run this stall")
        await expect(page.locator("#net-status")).not_to_contain_text("message alerts on")

        await page.locator("#email").fill("vendor1@example.org")
        await page.locator("#password").fill(VENDOR_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#net-status")).to_contain_text("message alerts on", timeout=8_000)

        # Item changes arrive by poke.
        await market.sell("Handmade ceramic teapot")
        await expect(teapot).to_contain_text("Sold", timeout=8_000)

        # A visitor scans the stall and writes: the tablet shows a big cue, not the text.
        async with market.http() as http:
            visitor = bearer((await http.post("/api/devices")).json()["token"])
            conversation = await http.post("/api/conversations", json={"stall_code": stall["code"]}, headers=visitor)
            assert conversation.status_code == 201, conversation.text
            sent = await http.post(
                f"/api/conversations/{conversation.json()['id']}/messages",
                json={"message_id": str(uuid4()), "body": "Do you have a matching milk jug?"},
                headers=visitor,
            )
            assert sent.status_code == 201, sent.text
        cue = page.locator("#cue")
        await expect(cue).to_be_visible(timeout=8_000)
        await expect(cue).to_contain_text("New message")
        assert "milk jug" not in await page.locator("body").inner_text()
        await cue.get_by_role("button", name="OK, seen").click()
        await expect(cue).to_be_hidden()
    finally:
        await context.close()
