"""Accessibility and outdoor use, checked on every main view at 360 px wide: labelled inputs,
named buttons, 44 px touch targets, no sideways scrolling, sunlight contrast (7:1), visible
focus, dir="auto" on what people typed, and images with a reserved size."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Market, open_controlled, sign_in_vendor

AUDIT = """() => {
  const problems = [];
  const describe = (el) => el.outerHTML.slice(0, 120);
  const small = (el, r) => {
    const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
    if (r.width < 44 || r.height < 44) problems.push(`target ${size}: ${describe(el)}`);
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (!(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby"))) {
      problems.push(`no label: ${describe(el)}`);
    }
  }
  for (const el of document.querySelectorAll("button, a[href], summary")) {
    if (!shown(el)) continue;
    const name = (el.getAttribute("aria-label") || el.innerText || "").trim();
    if (!name) problems.push(`no accessible name: ${describe(el)}`);
    small(el, el.getBoundingClientRect());
  }
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (!shown(el)) continue;
    const target = el.type === "checkbox" && el.labels?.[0]?.contains(el) ? el.labels[0] : el;
    small(el, target.getBoundingClientRect());
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.getAttribute("width") || !img.getAttribute("height")) problems.push(`image unsized: ${describe(img)}`);
  }
  // Contrast of every piece of visible text against the background it sits on.
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !shown(el) || el.closest("[aria-hidden=true]")) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 7) problems.push(`contrast ${ratio.toFixed(2)}: ${describe(el)}`);
  }
  return problems;
}"""

USER_TEXT = """(selector) => [...document.querySelectorAll(selector)]
    .filter((el) => el.getAttribute("dir") !== "auto")
    .map((el) => el.outerHTML.slice(0, 120))"""


def _audit(page: Page, view: str, problems: dict[str, list[str]]) -> None:
    found: list[str] = page.evaluate(AUDIT)
    if found:
        problems[view] = found


def _user_text_is_auto(page: Page, selector: str) -> None:
    assert page.locator(selector).count() > 0, selector
    assert page.evaluate(USER_TEXT, selector) == [], f"{selector} needs dir=auto"


def test_main_views_at_360px(context: BrowserContext, page: Page, market: Market) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    problems: dict[str, Any] = {}
    honey, olive = market.stalls["honey"]["code"], market.stalls["olive"]["code"]

    open_controlled(page, f"{market.base}/s/{honey}")
    expect(page.locator(".item-row .price").first).to_contain_text("£")  # the app has taken over
    _audit(page, "stall", problems)
    _user_text_is_auto(page, ".item-row .title, #page-title")

    # Keyboard focus is visible.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert outline[0] != "none" and float(outline[1].rstrip("px")) >= 2, outline

    page.get_by_role("link", name="Whole market").click()
    page.locator("summary", has_text="Filters and sort").click()
    page.get_by_label("Search the market").fill("honey")
    expect(page.locator(".items .item-row").first).to_be_visible()
    _audit(page, "search", problems)

    page.locator(".item-row", has_text="Wildflower honey").locator("a.item-link").click()
    expect(page.get_by_role("heading", name="Wildflower honey")).to_be_visible()
    page.get_by_role("button", name="Save Wildflower honey").click()
    _audit(page, "item", problems)
    _user_text_is_auto(page, "#page-title")

    page.get_by_role("link", name="Saved", exact=True).click()
    expect(page.locator(".item-row")).to_have_count(1)
    _audit(page, "favourites", problems)

    page.goto(f"{market.base}/s/{olive}")
    page.get_by_role("link", name="Message the seller").click()
    _audit(page, "new conversation", problems)
    page.get_by_label("Message", exact=True).fill("مرحبا، هل الزيت متوفر؟")
    page.get_by_role("button", name="Send", exact=True).click()
    mine = page.locator(".msg.mine", has_text="مرحبا")
    expect(mine).to_be_visible()
    expect(mine.locator(".mark.pending")).to_have_count(0, timeout=15000)
    _audit(page, "conversation", problems)
    _user_text_is_auto(page, ".msg .body")

    page.get_by_role("link", name="Messages").click()
    expect(page.locator(".conv-link")).to_have_count(1)
    _audit(page, "conversations", problems)

    page.get_by_role("link", name="Sell", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _audit(page, "vendor sign-in", problems)

    sign_in_vendor(page, market, "honey")
    expect(page.locator(".item-row")).to_have_count(3)
    _audit(page, "vendor dashboard", problems)
    for link, heading in (
        ("List an item", "List an item"),
        ("Edit stall profile", "Stall profile"),
        ("Quick replies", "Quick replies"),
    ):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        _audit(page, heading, problems)
        page.get_by_role("link", name="Back to my stall").click()
    page.get_by_role("link", name="Sell Beeswax candle").click()
    expect(page.get_by_role("heading", name="Mark sold")).to_be_visible()
    _audit(page, "sell", problems)

    assert problems == {}
