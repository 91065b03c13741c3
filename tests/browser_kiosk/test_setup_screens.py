"""Issue 14, findings 4 and 5, in the organizer's dashboard on a phone (360 px): set the market
up without the API (invites shared as link and QR code, revoked, who joined with which stall;
causes added and edited; stalls numbered, placed and hidden), see the event's charity total, and
credit an item tagged #SocialCause that named no cause, its sale included. The kiosk shows the
charity total too."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from tests.browser_kiosk.conftest import PASSWORD, Market, decode_qr, seed_market


async def _sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/kiosk/dashboard/ripe-jan")
    await page.locator("#email").fill("org@example.org")
    await page.locator("#password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#dashboard")).to_be_visible()


async def _uncredited_sale(market: Market) -> None:
    """A scarf tagged only #SocialCause, sold (money meant for charity that no cause gets), and a
    honey jar sold for the food bank."""
    async with market.http() as http:
        made = await http.post(
            f"/api/stalls/{market.stalls[0]['code']}/items",
            json={"title": "Knitted scarf", "price": 1200, "quantity": 2, "hashtags": ["#SocialCause"]},
            headers=market.vendors[0],
        )
        assert made.status_code == 201, made.text
        market.items["Knitted scarf"] = made.json()
    await market.sell("Knitted scarf")
    await market.sell("Wildflower honey jar")


async def _no_sideways_scroll(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def test_organizer_sets_up_the_market_from_the_dashboard(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await _uncredited_sale(market)
    context = await browser.new_context(locale="en-GB", viewport={"width": 360, "height": 800})
    try:
        page = await context.new_page()
        await _sign_in(page, live_server)

        # The charity total (all causes) and the money that no cause has yet.
        await expect(page.locator("#charity-amount")).to_have_text("£6.50")
        note = page.locator("#charity-uncredited")
        await expect(note).to_contain_text("£12.00 sold for a cause (#SocialCause) that names none")
        await page.screenshot(path="/tmp/organizer-dashboard-charity.png", full_page=False)
        await page.get_by_role("link", name=re.compile("Set up the market")).click()
        setup = page.get_by_role("region", name="Set up the market")
        await expect(setup).to_be_visible()

        # Invites: who joined with which stall; a new one shared as a link and a QR code, then revoked.
        invites = setup.get_by_role("list", name="Invites and who joined")
        await expect(invites.get_by_role("listitem")).to_have_count(2)
        await expect(invites).to_contain_text("Joined: Vendor 1 — Mabel's Pottery (No. A01)")
        await expect(invites).to_contain_text("Joined: Vendor 2 — Hive & Honey (No. B07)")
        await setup.get_by_label("How many invites").fill("1")
        await setup.get_by_role("button", name="Create invites").click()
        await expect(invites.get_by_role("listitem")).to_have_count(3)
        fresh = invites.get_by_role("listitem").first
        await expect(fresh).to_contain_text("Not used yet")
        code = (await fresh.get_attribute("data-invite")) or ""
        link = f"{live_server}/app/#/vendor?invite={code}"
        await expect(fresh.locator(".kiosk-link")).to_have_text(link)
        assert await decode_qr(fresh.get_by_role("img", name=f"QR code to join with invite {code}")) == [link]
        await page.screenshot(path="/tmp/organizer-setup-invite.png", full_page=False)
        await _no_sideways_scroll(page)

        revoke = fresh.get_by_role("button", name=f"Revoke invite {code}")
        box = await revoke.bounding_box()
        assert box is not None and box["height"] >= 44, box
        await revoke.click()
        await expect(fresh.get_by_role("button", name="Keep it")).to_be_focused()
        await fresh.get_by_role("button", name="Yes, revoke").click()
        await expect(page.locator("#invites-status")).to_have_text(f"Revoked invite {code}.")
        await expect(invites.locator(f'[data-invite="{code}"]')).to_contain_text("Revoked")
        async with market.http() as http:
            joined = await http.post(
                "/api/vendors/join",
                json={
                    "invite_code": code,
                    "email": "late@example.org",
                    "password": "vendor-pass-1",
                    "display_name": "Late",
                    "stall": {"name": "Late stall", "store_tag": "#Late"},
                },
            )
            assert joined.status_code == 409, joined.text

        # Causes: one added with a goal, then renamed.
        causes = setup.get_by_role("list", name="The event's causes")
        await setup.get_by_label("Name", exact=True).fill("River Rescue")
        await setup.get_by_label("Hashtag", exact=True).fill("#RiverRescue")
        await setup.get_by_label("Goal (optional)").fill("500")
        await setup.get_by_role("button", name="Add cause").click()
        await expect(causes.get_by_role("listitem")).to_have_count(2)
        await expect(causes.get_by_role("listitem").nth(1)).to_contain_text("River Rescue #RiverRescue · goal £500.00")
        await causes.get_by_role("button", name="Edit River Rescue").click()
        edit = causes.get_by_role("form", name="Edit River Rescue")
        await expect(edit.get_by_label("Name")).to_be_focused()
        await edit.get_by_label("Name").fill("River Rescue Trust")
        await edit.get_by_label("Goal (empty for none)").fill("750")
        await edit.get_by_role("button", name="Save cause").click()
        await expect(causes.get_by_role("listitem").nth(1)).to_contain_text(
            "River Rescue Trust #RiverRescue · goal £750.00"
        )

        # The scarf that named no cause: credited here, its sale counts, the note goes.
        uncredited = setup.get_by_role("list", name="Items for a cause that name none")
        row = uncredited.get_by_role("listitem").filter(has_text="Knitted scarf")
        await expect(row).to_contain_text("Mabel's Pottery (No. A01) · £12.00 sold, credited to no cause")
        await page.screenshot(path="/tmp/organizer-setup-uncredited.png", full_page=False)
        await row.get_by_label("Cause for Knitted scarf").select_option(label="River Rescue Trust (#RiverRescue)")
        await row.get_by_role("button", name="Credit").click()
        await expect(page.locator("#uncredited-status")).to_contain_text(
            "now counts for #RiverRescue, with £12.00 already sold"
        )
        await expect(uncredited).to_contain_text("None: every item for a cause names it.")
        await expect(page.locator("#charity-amount")).to_have_text("£18.50")
        await expect(note).to_be_hidden()

        # Stalls: a number and a place, then hidden from visitors (and shown in the list still).
        stalls = setup.get_by_role("list", name="Stalls")
        honey = stalls.get_by_role("listitem").filter(has_text="Hive & Honey")
        await honey.get_by_label("Number of Hive & Honey").fill("C3")
        await honey.get_by_label("Place of Hive & Honey").fill("By the south gate")
        await honey.get_by_role("button", name="Save").click()
        await expect(page.locator("#setup-stalls-status")).to_have_text(
            "Saved Hive & Honey: No. C3, By the south gate."
        )
        await honey.get_by_role("button", name="Hide").click()
        await expect(honey).to_contain_text("hidden from visitors")
        await expect(honey.get_by_role("button", name="Show again")).to_be_visible()
        await page.screenshot(path="/tmp/organizer-setup-stalls.png", full_page=False)
        await _no_sideways_scroll(page)
        async with market.http() as http:
            public = (await http.get("/api/events/ripe-jan/stalls")).json()
            assert [s["name"] for s in public] == ["Mabel's Pottery"]
            stall = (await http.get(f"/api/stalls/{market.stalls[1]['code']}", headers=market.organizer)).json()
            assert (stall["number"], stall["location"], stall["hidden"]) == ("C3", "By the south gate", True)
        # (Chromium's form filler leaves an empty style="" on inputs; nothing of ours sets one.)
        assert await setup.locator('[style]:not([style=""])').count() == 0, "no inline styles (strict CSP)"
    finally:
        await context.close()

    # The shared link opens the app's join form with the code filled in.
    phone = await browser.new_context(locale="en-GB", viewport={"width": 360, "height": 800})
    try:
        vendor_page = await phone.new_page()
        await vendor_page.goto(link)
        await expect(vendor_page.get_by_role("textbox", name="Invite code")).to_have_value(code)
    finally:
        await phone.close()

    # The entrance kiosk shows the causes combined.
    entrance = await market.kiosk_token()
    screen = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    try:
        kiosk = await screen.new_page()
        await kiosk.goto(entrance["url"])
        await expect(kiosk.locator("#charity-total")).to_have_text("£18.50 raised for good causes in all")
    finally:
        await screen.close()
