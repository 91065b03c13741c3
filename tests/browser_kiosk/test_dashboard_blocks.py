"""Blocked visitors in the organizer dashboard: a vendor's block shows with its stall, and "Lift"
lets the visitor chat again."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Browser, expect

from tests.browser_kiosk.conftest import seed_market
from tests.browser_kiosk.test_dashboard_tokens import _sign_in


async def test_organizer_sees_a_vendors_block_and_lifts_it(live_server: str, browser: Browser) -> None:
    market = await seed_market(live_server)
    stall = market.stalls[0]
    async with httpx.AsyncClient(base_url=live_server, timeout=15, trust_env=False) as http:
        visitor = {"Authorization": "Bearer " + (await http.post("/api/devices")).json()["token"]}

        async def send(body: str) -> int:
            r = await http.post(
                f"/api/conversations/{uuid.uuid4()}/messages",
                json={"message_id": str(uuid.uuid4()), "body": body, "stall_code": stall["code"]},
                headers=visitor,
            )
            return r.status_code

        first = await http.post(
            f"/api/conversations/{uuid.uuid4()}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "rude words", "stall_code": stall["code"]},
            headers=visitor,
        )
        conversation = first.json()["conversation_id"]
        blocked = await http.post(f"/api/conversations/{conversation}/block", json={}, headers=market.vendors[0])
        assert blocked.status_code == 204, blocked.text
        assert await send("again") == 403

        context = await browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
        try:
            dashboard = await context.new_page()
            await _sign_in(dashboard, live_server)
            rows = dashboard.locator("#blocks li[data-device]")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text(f"at {stall['name']}")
            await expect(rows.first).to_contain_text("by the vendor")
            await rows.first.get_by_role("button", name="Lift").click()
            await expect(dashboard.locator("#blocks-status")).to_contain_text("can chat again")
            await expect(dashboard.locator("#blocks")).to_contain_text("Nobody is blocked.")
        finally:
            await context.close()
        assert await send("sorry") == 201
