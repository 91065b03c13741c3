"""Issue 14, findings 8 and 11 on the organizer's and the entrance screens, in a real Chromium
against a real `souk serve`:

- the hours chart stays readable on a phone and a laptop (labels never overlap, never below
  12 px), hours on the event's clock, and a sale days after the event sits after a break with
  its own day, not in the bar next to the event's last hour;
- cause names wrap between words on a phone, never inside one;
- "Today" is today in the event's time zone; once the event is over the dashboard and the kiosk
  say so (and the kiosk is still browsable);
- a kiosk tab blocked for want of a token starts when the token link is opened in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, Page, expect

from server.tables import Event, Sale
from tests.browser_kiosk.conftest import PASSWORD, Market, seed_market

FEW_SECONDS = 8_000

# Sales of the market day (9 January 2027, Europe/London = UTC in winter), the next day, and one
# four days after the event.
SALE_TIMES = [datetime(2027, 1, 9, h, 20, tzinfo=UTC) for h in range(9, 17)] + [
    datetime(2027, 1, 10, 10, 5, tzinfo=UTC),
    datetime(2027, 1, 10, 12, 5, tzinfo=UTC),
    datetime(2027, 1, 10, 15, 5, tzinfo=UTC),
    datetime(2027, 1, 13, 11, 5, tzinfo=UTC),
]
SALES = [("Blue glazed mug", 3), ("Wildflower honey jar", 5), ("Beeswax candle", 4)]


async def _many_sales(market: Market, times: list[datetime]) -> None:
    """One sale per time (one unit each), then each sale moved to its time."""
    count = 0
    for title, units in SALES:
        for _ in range(units):
            if count < len(times):
                await market.sell(title)
                count += 1
    rows = await Sale.select(Sale.id).order_by(Sale.sold_at).order_by(Sale.id)
    for row, when in zip(rows, times, strict=False):
        await Sale.update({Sale.sold_at: when}).where(Sale.id == row["id"])


async def _dashboard(browser: Browser, base: str, width: int) -> tuple[Any, Page]:
    context = await browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/kiosk/dashboard/ripe-jan")
    await page.locator("#email").fill("org@example.org")
    await page.locator("#password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#dashboard")).to_be_visible()
    return context, page


AXIS = """() => {
  const svg = document.querySelector('#hours-chart svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const labels = [...svg.querySelectorAll('text.axis')].map((t) => {
    const r = t.getBoundingClientRect();
    return { text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
             px: parseFloat(getComputedStyle(t).fontSize) * scale, day: t.classList.contains('day') };
  });
  // What comes right before each bar: another bar, or a break.
  const order = [...svg.querySelectorAll('rect.bar, line.day-break')].map((e) =>
    e.tagName === 'line' ? 'break' : e.getAttribute('data-start'));
  return { scale, labels, order, breaks: svg.querySelectorAll('line.day-break').length };
}"""


def _overlaps(labels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart = (
                a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
            )
            if not apart:
                found.append((a["text"], b["text"]))
    return found


async def test_hours_chart_is_readable_at_any_width_and_keeps_late_sales_apart(
    live_server: str, browser: Browser
) -> None:
    market = await seed_market(live_server)
    await _many_sales(market, SALE_TIMES)
    for width in (360, 1280):
        context, page = await _dashboard(browser, live_server, width)
        try:
            await expect(page.locator("#hours-chart svg rect.bar[data-value]").first).to_be_attached()
            if width == 360:
                await page.screenshot(path="/tmp/polish-dashboard-360.png", full_page=True)
            chart = await page.evaluate(AXIS)
            assert chart["labels"], "the chart has axis labels"
            assert not _overlaps(chart["labels"]), f"axis labels overlap at {width} px: {_overlaps(chart['labels'])}"
            small = [(lab["text"], round(lab["px"], 1)) for lab in chart["labels"] if lab["px"] < 12]
            assert not small, f"labels below 12 px at {width} px: {small}"
            texts = [lab["text"] for lab in chart["labels"]]
            assert any("13 Jan" in t for t in texts), f"the late sale's day is written: {texts}"
            late = chart["order"].index("2027-01-13T11:00:00.000Z")
            assert chart["order"][late - 1] == "break", (
                f"the late sale follows a break: {chart['order'][late - 3 : late + 1]}"
            )
            assert chart["breaks"] >= 2, "a break before each later day"
            # Quiet hours inside the day are empty bars, on the event's clock: 09:00 … 16:00.
            assert "2027-01-09T09:00:00.000Z" in chart["order"] and "2027-01-09T16:00:00.000Z" in chart["order"]
        finally:
            await context.close()


async def test_cause_names_wrap_between_words_on_a_phone(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    cause = {"name": "Riverside Community Foodbank Partnership", "tag": "#RiversideFood", "goal": 1_000_000}
    async with market.http() as http:
        made = await http.post("/api/events/ripe-jan/causes", json=cause, headers=market.organizer)
        assert made.status_code == 201, made.text
    await market.sell("Wildflower honey jar")
    context, page = await _dashboard(browser, live_server, 360)
    try:
        label = page.locator("#causes-chart .bar-label", has_text="Riverside")
        await expect(label).to_be_visible()
        broken = await label.evaluate(
            """(el) => {
              const node = el.querySelector('span').firstChild;
              const text = node.textContent;
              const broken = [];
              let at = 0;
              for (const word of text.split(' ')) {
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + word.length);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (lines.size > 1) broken.push(word);
                at += word.length + 1;
              }
              return broken;
            }"""
        )
        assert broken == [], f"words broken across lines: {broken}"
    finally:
        await context.close()


async def test_today_is_the_event_zones_today_and_an_ended_market_says_so(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    await market.sell("Beeswax candle")  # £4.00 today
    await market.sell("Handmade ceramic teapot")  # £24.00, moved to three days ago
    teapot = await Sale.select(Sale.id).where(Sale.amount == 2400).first()
    assert teapot is not None
    await Sale.update({Sale.sold_at: datetime.now(UTC) - timedelta(days=3)}).where(Sale.id == teapot["id"])

    context, page = await _dashboard(browser, live_server, 390)
    try:
        await expect(page.locator("#figures-title")).to_contain_text("Today")
        await expect(page.locator("#total-amount")).to_have_text("£4.00")
        await expect(page.locator("#total-sales")).to_have_text("1")
        await expect(page.locator("#figures-whole")).to_contain_text("£28.00 from 2 sales")
        await expect(page.locator("#ended-banner")).to_have_count(0)
    finally:
        await context.close()

    # The market ended yesterday evening.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await Event.update(
        {Event.starts_at: yesterday.replace(hour=9, minute=0), Event.ends_at: yesterday.replace(hour=17, minute=0)}
    ).where(Event.slug == "ripe-jan")
    context, page = await _dashboard(browser, live_server, 390)
    try:
        banner = page.locator("#ended-banner")
        await expect(banner).to_contain_text("This market ended on", timeout=FEW_SECONDS)
        await expect(banner).to_have_attribute("role", "status")
        await expect(page.locator("#figures-title")).to_have_text("Whole market")
        await expect(page.locator("#total-amount")).to_have_text("£28.00")
        await page.screenshot(path="/tmp/polish-dashboard-ended.png", full_page=True)
    finally:
        await context.close()

    token = await market.kiosk_token()
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/kiosk/ripe-jan#token={token['token']}")
        await expect(page.locator("#ended-banner")).to_contain_text("This market ended on", timeout=FEW_SECONDS)
        await expect(page.locator("#ended-banner")).to_contain_text("still browse the stalls")
        await expect(page.locator("#totals-title")).to_have_text("Sold at the market")
        await expect(page.locator("#total-amount")).to_have_text("£28.00")
        # Still browsable after the end.
        await page.locator("#q").fill("candle")
        await page.locator("#q").press("Enter")
        await expect(page.locator("#results")).to_contain_text("Beeswax candle", timeout=FEW_SECONDS)
        await page.screenshot(path="/tmp/polish-kiosk-ended.png")
    finally:
        await context.close()


async def test_a_blocked_kiosk_tab_starts_when_the_token_link_is_opened_in_it(
    live_server: str, browser: Browser
) -> None:
    market = await seed_market(live_server)
    token = await market.kiosk_token()
    context = await browser.new_context(locale="en-GB")
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/kiosk/ripe-jan")
        await expect(page.locator("#blocked")).to_contain_text("needs a kiosk token")
        loads: list[str] = []
        page.on("load", lambda _: loads.append("load"))
        # The link opened in the same tab: only the fragment changes, the page is not reloaded.
        await page.goto(f"{live_server}/kiosk/ripe-jan#token={token['token']}")
        await expect(page.locator("#screen")).to_be_visible(timeout=FEW_SECONDS)
        await expect(page.locator("#blocked")).to_be_hidden()
        await expect(page.locator("#event-name")).to_have_text("Ripe Market — January")
        assert loads == [], "started without a reload"
        assert token["token"] not in page.url

        # A refused token, then a good link in the same tab: the screen starts too.
        await page.goto("about:blank")
        await page.goto(f"{live_server}/kiosk/ripe-jan#token=not-a-real-token")
        await expect(page.locator("body")).to_have_attribute("data-blocked", "401")
        await page.goto(f"{live_server}/kiosk/ripe-jan#token={token['token']}")
        await expect(page.locator("#screen")).to_be_visible(timeout=FEW_SECONDS)
        await expect(page.locator("body")).not_to_have_attribute("data-blocked", "401")
    finally:
        await context.close()
