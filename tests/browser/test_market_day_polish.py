"""Issue 14, findings 7, 8, 9 and 11 on the phone app, in a real Chromium (phone viewport)
against a real `souk serve`:

- the visitor sees the name the seller sees ("You are Visitor A64B"), chooses a first name —
  offline too, checked like any name — and the seller's inbox shows it live;
- "Notify me about replies" in a browser with no push service ends in a clear message and a
  way to try again, not "Asking…" forever;
- the header at 360 px offline keeps "Souk" and "Install app" whole;
- prices paint as "£12.99" from the first frame, never "12.99 GBP" first;
- thumbnails of stalls never opened online are fetched in the background and show offline;
- an ended market says so and is still browsable and chat-able; times are on the event's clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import Market, open_controlled, sign_in_vendor, two_profiles

VISITOR = re.compile(r"Visitor [0-9A-F]{4}")


def test_visitor_and_vendor_call_the_visitor_the_same(tmp_path: Path, market: Market) -> None:
    olive = market.stalls["olive"]
    with two_profiles(tmp_path) as (phone, seller):
        visitor = phone.pages[0] if phone.pages else phone.new_page()
        open_controlled(visitor, f"{market.base}/s/{olive['code']}")
        visitor.get_by_role("link", name="Message the seller").click()
        visitor.get_by_label("Message", exact=True).fill("Is the oil from this year's harvest?")
        visitor.get_by_role("button", name="Send", exact=True).click()
        expect(visitor.locator(".msg.mine", has_text="harvest")).to_contain_text("Sent", timeout=15000)
        you_are = visitor.locator(".you-are")
        expect(you_are).to_contain_text(VISITOR)
        default = VISITOR.search(you_are.inner_text())
        assert default is not None
        expect(you_are).to_contain_text(f"You are {default.group(0)} to the seller")

        vendor = seller.pages[0] if seller.pages else seller.new_page()
        sign_in_vendor(vendor, market, "olive")
        vendor.goto(f"{market.base}/app/#/conversations")
        expect(vendor.locator(".conv-link .title")).to_have_text(default.group(0), timeout=15000)

        # Offline, the visitor chooses a first name; a name with a hidden direction trick is refused.
        phone.set_offline(True)
        visitor.get_by_role("button", name="Change name").click()
        field = visitor.get_by_label("Your first name, as the seller will see it")
        expect(field).to_be_focused()
        field.fill("Sam\u202eevil")
        visitor.get_by_role("button", name="Save name").click()
        expect(visitor.locator("#first-name-problem")).to_contain_text("no links or hidden characters")
        expect(field).to_have_attribute("aria-invalid", "true")
        field.fill("Amélie")
        visitor.get_by_role("button", name="Save name").click()
        expect(you_are).to_contain_text("You are Amélie to the seller")
        visitor.screenshot(path="/tmp/polish-visitor-name.png")

        # Back online: the seller's open inbox shows the name without a reload.
        phone.set_offline(False)
        expect(vendor.locator(".conv-link .title")).to_have_text("Amélie", timeout=20000)
        vendor.locator(".conv-link").click()
        expect(vendor.locator("#page-title")).to_have_text("Amélie")
        vendor.screenshot(path="/tmp/polish-vendor-sees-name.png")


# A browser without a push service never settles pushManager.subscribe() (Chromium builds without
# a push service behave so): stand that in before any page script runs.
NO_PUSH_SERVICE = """
if (globalThis.PushManager) {
  PushManager.prototype.subscribe = () => new Promise(() => {});
  PushManager.prototype.getSubscription = () => Promise.resolve(null);
}
"""


def test_notify_me_without_a_push_service_ends_with_a_message_and_a_retry(
    context: BrowserContext, page: Page, market: Market
) -> None:
    context.grant_permissions(["notifications"], origin=market.base)
    context.add_init_script(script=NO_PUSH_SERVICE)
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    page.goto(f"{market.base}/app/#/conversations")
    button = page.get_by_role("button", name="Notify me about replies")
    button.click()
    status = page.locator(".notify [role=status]")
    expect(status).to_have_text("Asking…")
    expect(status).to_contain_text("Your browser did not answer", timeout=20000)
    retry = page.get_by_role("button", name="Try again: notify me about replies")
    expect(retry).to_be_enabled()
    page.screenshot(path="/tmp/polish-push-timeout.png")
    retry.click()
    expect(status).to_have_text("Asking…")


ONE_LINE = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
}"""


def test_header_keeps_its_words_whole_at_360_px_offline(context: BrowserContext, page: Page, market: Market) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("Offline · saved data")
    page.evaluate("document.getElementById('install').hidden = false")  # the install offer showing
    for selector in (".brand", "#install", "#net"):
        assert page.locator(selector).evaluate(ONE_LINE) == 1, f"{selector} wraps at 360 px"
    row = page.locator(".top-row").evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert row[0] <= row[1], f"the header overflows: {row}"
    page.screenshot(path="/tmp/polish-header-360-offline.png")


# Every frame, before it is painted, the prices as they stand.
PRICES_SEEN = """
window.__pricesSeen = [];
const look = () => {
  for (const el of document.querySelectorAll('.price')) window.__pricesSeen.push(el.textContent);
  requestAnimationFrame(look);
};
requestAnimationFrame(look);
"""


def test_prices_paint_in_the_locales_form_from_the_first_frame(
    context: BrowserContext, page: Page, market: Market
) -> None:
    context.add_init_script(script=PRICES_SEEN)
    page.goto(f"{market.base}/s/{market.stalls['honey']['code']}")
    expect(page.locator(".item-row", has_text="Wildflower honey").locator(".price")).to_have_text("£12.99")
    page.wait_for_timeout(300)  # a few more frames
    seen = page.evaluate("window.__pricesSeen")
    assert seen, "prices were painted"
    assert not [t for t in seen if re.search(r"\d [A-Z]{3}$", t)], f"server-form prices were painted: {set(seen)}"
    assert "£12.99" in seen


def test_thumbnails_of_unopened_stalls_are_warmed_and_shown_offline(
    context: BrowserContext, page: Page, market: Market
) -> None:
    honey = market.items["Wildflower honey"]
    thumb = honey["photos"][0]["thumb"]
    open_controlled(page, f"{market.base}/s/{market.stalls['olive']['code']}")  # not the honey stall
    page.wait_for_function(
        f"caches.open('souk-photos-v1').then((c) => c.match({thumb!r})).then(Boolean)", polling=250, timeout=20000
    )
    context.set_offline(True)
    page.goto(f"{market.base}/s/{market.stalls['honey']['code']}")
    image = page.locator(".item-row", has_text="Wildflower honey").locator("img")
    expect(image).to_have_attribute("src", re.compile(re.escape(thumb)))
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 50", arg=image.element_handle(), timeout=10000)
    page.screenshot(path="/tmp/polish-offline-thumbnails.png")


def test_an_ended_market_says_so_stays_usable_and_times_follow_the_event_clock(tmp_path: Path, market: Market) -> None:
    import anyio

    from server.tables import Event

    ended = datetime.now(UTC) - timedelta(hours=2)

    async def end_it() -> None:
        await Event.update({Event.starts_at: ended - timedelta(hours=8), Event.ends_at: ended}).where(
            Event.slug == "ripe-jan"
        )

    anyio.run(end_it)
    # A phone whose own clock is in New York, at a London market: times are London's.
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "ny-phone"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 390, "height": 844},
            locale="en-GB",
            timezone_id="America/New_York",
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            open_controlled(page, f"{market.base}/s/{market.stalls['olive']['code']}")
            banner = page.locator("#ended-banner")
            expect(banner).to_contain_text("This market ended on")
            expect(banner).to_contain_text("still browse the stalls and message the sellers")
            london_end = ended.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")
            expect(banner).to_contain_text(f"at {london_end}")
            page.screenshot(path="/tmp/polish-app-ended.png")

            # Still chat-able, and the message's time is London's, written the locale's way.
            page.get_by_role("link", name="Message the seller").click()
            page.get_by_label("Message", exact=True).fill("Are you selling after the market?")
            before = datetime.now(ZoneInfo("Europe/London"))
            page.get_by_role("button", name="Send", exact=True).click()
            bubble = page.locator(".msg.mine", has_text="after the market")
            expect(bubble).to_contain_text("Sent", timeout=15000)
            after = datetime.now(ZoneInfo("Europe/London"))
            shown = bubble.locator(".meta").inner_text()
            assert any(t.strftime("%H:%M") in shown for t in (before, after)), f"{shown!r} is not London time"
            assert "AM" not in shown and "PM" not in shown, "en-GB writes a 24-hour clock"
        finally:
            context.close()
