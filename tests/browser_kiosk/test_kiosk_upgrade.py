"""A kiosk screen from before sync format 2 starts the new kiosk: its saved replica (database
version 1: records in the REST shape, URLs, `event_id` and `tag_keys` inside) is converted in
place, shows the event at once without the network, and then follows the server from there.

The old state is written the way the old kiosk wrote it (kiosk/replica.js before format 2: the
records of a format-1 pull as the kit's `toRecord` made them, the cursor in `meta`), from a page
of the origin that runs none of the kiosk (the health check), so nothing new touches it first.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import OLD_RECORD
from tests.browser_kiosk.conftest import Market, bearer, seed_market
from tests.conftest import EVENT_BODY as EVENT

FEW_SECONDS = 8_000
UNREACHABLE = re.compile(r"/api/(sync/pull|kiosk/)")
KIOSK_ENTITIES = {"event", "stall", "cause", "item", "totals"}

# The old kiosk's database and its records (pwa/kit/replica.js toRecord before format 2).
SEED_OLD_KIOSK = """async ({ slug, changes, state, device, token }) => {
  localStorage.setItem("souk.kiosk.device", device);
  localStorage.setItem(`souk.kiosk.token:${slug}`, token);  // a screen that ran before, its token checked
  localStorage.setItem(`souk.kiosk.verified:${slug}`, token);
  const open = indexedDB.open(`souk-kiosk-${slug}`, 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore("records", { keyPath: "key" });
    open.result.createObjectStore("meta");
  };
  const db = await new Promise((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = db.transaction(["records", "meta"], "readwrite");
  for (const change of changes) tx.objectStore("records").put(OLD_RECORD(change));
  tx.objectStore("meta").put(state, "state");
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
  db.close();
}""".replace("OLD_RECORD", OLD_RECORD)

READ_KIOSK = """(slug) => new Promise((resolve, reject) => {
  const open = indexedDB.open(`souk-kiosk-${slug}`);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const all = db.transaction("records").objectStore("records").getAll();
    all.onsuccess = () => { const out = { version: db.version, records: all.result }; db.close(); resolve(out); };
    all.onerror = () => reject(all.error);
  };
})"""


async def _format1_pull(market: Market, token: str) -> tuple[list[dict[str, Any]], str]:
    """The event as the old kiosk pulled it (no `format`: format 1), and its last cursor."""
    changes: list[dict[str, Any]] = []
    cursor = None
    async with market.http() as http:
        for _ in range(20):
            response = await http.post(
                "/api/sync/pull", json={"event": "ripe-jan", "cursor": cursor, "limit": 500}, headers=bearer(token)
            )
            assert response.status_code == 200, response.text
            page = response.json()
            assert page.get("format", 1) == 1, page
            changes += [c for c in page["changes"] if c["entity"] in KIOSK_ENTITIES]
            cursor = page["cursor"]
            if not page["has_more"]:
                return changes, cursor
    raise AssertionError("the format-1 pull never caught up")


async def _seed_old_kiosk(page: Page, market: Market, token: str) -> list[dict[str, Any]]:
    async with market.http() as http:
        device = (await http.post("/api/devices")).json()
    changes, cursor = await _format1_pull(market, device["token"])
    honey = next(c for c in changes if c["entity"] == "item" and c["data"]["title"] == "Wildflower honey jar")
    assert honey["data"]["tag_keys"] and honey["data"]["event_id"]  # really the old shape
    await page.goto(f"{market.base}/api/health")
    state = {"cursor": cursor, "complete": True, "syncedAt": "2027-01-09T09:00:00.000Z"}
    await page.evaluate(
        SEED_OLD_KIOSK,
        {"slug": "ripe-jan", "changes": changes, "state": state, "device": device["token"], "token": token},
    )
    assert (await page.evaluate(READ_KIOSK, "ripe-jan"))["version"] == 1
    return changes


async def test_an_old_kiosk_converts_its_replica_shows_it_offline_and_catches_up(
    live_server: str, browser: Browser
) -> None:
    market = await seed_market(live_server)
    kiosk = await market.kiosk_token()
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    try:
        old = await _seed_old_kiosk(page, market, kiosk["token"])
        await market.sell("Wildflower honey jar", 2)  # £13.00, after the old kiosk's last pull

        # The new kiosk starts with the server unreachable (its token check and pulls fail): what it
        # shows is the converted replica.
        await page.route(UNREACHABLE, lambda route: route.abort())
        await page.goto(f"{live_server}/kiosk/ripe-jan")
        await expect(page.locator("#event-name")).to_have_text(EVENT["name"])
        await expect(page.locator("#total-amount")).to_have_text("£0.00")
        await page.locator("#q").press_sequentially("wildflowr", delay=30)  # offline search on the tag keys it derives
        await expect(page.locator("#results .card", has_text="Wildflower honey jar")).to_be_visible()
        stored = await page.evaluate(READ_KIOSK, "ripe-jan")
        assert stored["version"] == 2
        assert {r["key"] for r in stored["records"]} == {f"{c['entity']}:{c['id']}" for c in old}
        honey = next(r for r in stored["records"] if r["data"].get("title") == "Wildflower honey jar")
        assert "tag_keys" not in honey["data"] and "event_id" not in honey["data"], honey
        assert "#FoodBank" in honey["data"]["tags"]

        # With the network back it follows the server: the sale made meanwhile arrives.
        await page.unroute(UNREACHABLE)
        await page.locator("#nav-home").click()
        await page.reload()
        await expect(page.locator("#total-amount")).to_have_text("£13.00", timeout=FEW_SECONDS)
        await expect(page.locator("#total-sales")).to_have_text("1 sale")
        after = await page.evaluate(READ_KIOSK, "ripe-jan")
        assert after["version"] == 2
        assert not any("tag_keys" in str(r.get("data")) for r in after["records"])
    finally:
        await context.close()
