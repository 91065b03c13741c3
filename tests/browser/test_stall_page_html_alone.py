"""Issue 15: the stall page a QR code opens is usable from its HTML alone, in a real Chromium.

On a slow link every file a page must fetch before painting costs a round trip, so the
server-rendered stall page carries its stylesheet inline (allowed by hash in its CSP;
`csp_guard` fails the test on any violation) and its prices written by the server in the
reader's language (Accept-Language). With every request but the page itself refused, it still
shows its items, styled, with prices in the phone's locale's form, and a "Message the seller"
link that works as a plain link before any of the app has loaded.
"""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, Route, expect, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import Market


def _only_the_document(page: Page, asked: list[str]) -> None:
    """Refuse every request but the navigation itself (stylesheets, scripts, images, API)."""

    def answer(route: Route) -> None:
        request = route.request
        asked.append(f"{request.resource_type} {request.url}")
        if request.resource_type == "document":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", answer)


def test_the_stall_page_shows_items_prices_and_the_message_link_from_its_html_alone(
    context: BrowserContext, page: Page, market: Market
) -> None:
    honey = market.stalls["honey"]
    asked: list[str] = []
    _only_the_document(page, asked)
    page.goto(f"{market.base}/s/{honey['code']}", wait_until="domcontentloaded")

    rows = page.locator("ul.items > li.item-row")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("heading", name="Items (3)")).to_be_visible()
    honey_row = rows.filter(has_text="Wildflower honey")
    expect(honey_row).to_be_visible()
    # The phone's (en-GB) form, as its Intl writes it, from the server: no script ran for it.
    expect(honey_row.locator(".price")).to_have_text("£12.99")
    intl = "() => new Intl.NumberFormat(navigator.language, {style: 'currency', currency: 'GBP'}).format(12.99)"
    local = page.evaluate(intl)
    assert honey_row.locator(".price").text_content() == local, "as the app will write it"
    expect(rows.filter(has_text="Beeswax candle").locator(".price")).to_have_text("£4.50")
    # The inline stylesheet applied: the link is the app's button, the page its column.
    link = page.get_by_role("link", name="Message the seller")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"/app/#/chat/{honey['code']}")
    styled = link.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.display, parseFloat(s.minHeight), s.backgroundColor]; }"
    )
    assert styled[0] in ("flex", "inline-flex") and styled[1] >= 44 and styled[2] != "rgba(0, 0, 0, 0)", styled
    assert page.locator("section.stall").evaluate("(el) => getComputedStyle(el).maxWidth") == "704px"
    # The thumbnail (refused here) keeps its place: 72 x 72 from the markup and the stylesheet.
    box = honey_row.locator("img.thumb").bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (72, 72), box
    assert page.locator("img.thumb:not([width='72'][height='72'])").count() == 0
    # Nothing the page asked for was a stylesheet (all of it was refused anyway).
    assert not [a for a in asked if a.startswith("stylesheet")], asked

    # A plain link: before any of the app has loaded it opens the chat with this seller.
    page.unroute("**/*")
    link.click()
    expect(page).to_have_url(re.compile(rf"/app/#/chat/{honey['code']}$"))
    expect(page.get_by_label("Message", exact=True)).to_be_visible(timeout=15000)


def test_the_stall_page_reads_with_javascript_off_and_no_stylesheet(market: Market) -> None:
    """No script at all: prices in the reader's language all the same, the items and the link."""
    olive = market.stalls["olive"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(java_script_enabled=False, locale="de-DE")
            page = context.new_page()
            _only_the_document(page, [])
            page.goto(f"{market.base}/s/{olive['code']}", wait_until="domcontentloaded")
            expect(page.locator("h1#page-title")).to_have_attribute("dir", "auto")
            expect(page.locator("h1#page-title")).to_have_text(olive["name"])
            rows = page.locator("ul.items > li.item-row")
            expect(rows).to_have_count(2)
            expect(rows.filter(has_text="Za'atar blend").locator(".price")).to_have_text(re.compile(r"^3,50\s£$"))
            expect(page.get_by_role("link", name="Message the seller")).to_be_visible()
        finally:
            browser.close()
