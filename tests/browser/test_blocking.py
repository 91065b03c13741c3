"""A vendor harassed in their own chat blocks the visitor from the vendor app; the visitor's next
message is refused with the reason shown, and comes through again once the organizer lifts it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Market, open_controlled, sign_in_vendor, two_profiles, wait_until_sent


def test_vendor_blocks_a_visitor_from_the_thread_and_the_organizer_lifts_it(tmp_path: Path, market: Market) -> None:
    with two_profiles(tmp_path) as (phone, vendor_phone):
        _block_and_lift(_first_page(phone), _first_page(vendor_phone), market)


def _first_page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


def _block_and_lift(page: Page, vendor: Page, market: Market) -> None:
    honey = market.stalls["honey"]
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    page.get_by_role("link", name="Message the seller").click()
    page.get_by_label("Message", exact=True).fill("You are a fraud")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg.mine", has_text="fraud")).to_contain_text("Sent", timeout=15000)
    conversation = page.url.rsplit("/", 1)[-1]

    sign_in_vendor(vendor, market, "honey")
    vendor.goto(f"{market.base}/app/#/conversations/{conversation}")
    vendor.on("dialog", lambda dialog: dialog.accept())
    vendor.get_by_role("button", name="Block this visitor").click()
    expect(vendor.get_by_role("status").filter(has_text="Blocked")).to_be_visible()
    expect(vendor.get_by_role("button", name="Unblock this visitor")).to_be_visible()

    page.get_by_label("Message", exact=True).fill("I will keep writing")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".notice.rejected")).to_contain_text("blocked", timeout=20000)
    wait_until_sent(page)

    with market.http() as http:
        listed = http.get("/api/events/ripe-jan/blocked-devices", headers=market.organizer).json()
        assert [b["blocked_by"] for b in listed] == ["vendor"] and listed[0]["stall_code"] == honey["code"]
        lifted = http.post(
            "/api/events/ripe-jan/blocked-devices",
            json={"device_id": listed[0]["device_id"], "blocked": False},
            headers=market.organizer,
        )
        assert lifted.status_code == 204
    page.get_by_label("Message", exact=True).fill("Sorry, I was upset")
    page.get_by_role("button", name="Send", exact=True).click()
    # The vendor still has the thread open, so it may already read "Delivered" or "Read".
    expect(page.locator(".msg.mine", has_text="upset")).to_contain_text(
        re.compile("Sent|Delivered|Read"), timeout=15000
    )
    expect(vendor.locator(".msg.theirs", has_text="upset")).to_be_visible()
