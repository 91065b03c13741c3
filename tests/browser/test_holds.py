"""Holds per unit and a way back from a mistake, on a phone (issue 14, findings 1 and 10).

The vendor holds one of five candles for as long as they choose; the other four stay on sale,
live on a visitor's phone and in the default search; "Mark sold" asks first and says whom it was
sold to (the held one uses up the hold); the sale can be undone; the hold released, offline too.
In a conversation, "Hold one for this visitor…" becomes "Release the hold for this visitor".
Each step is checked against the server over HTTP.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Page, expect

from tests.browser.conftest import Market, open_controlled, sign_in_vendor, two_profiles, wait_until_sent
from tests.conftest import bearer

T = TypeVar("T")
SHOTS = Path("/tmp")


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout:.0f} s")
        time.sleep(0.2)  # the polling interval, not a synchronisation guess


def item(market: Market, title: str) -> dict[str, Any]:
    with market.http() as http:
        found: dict[str, Any] = http.get(f"/api/items/{market.items[title]['id']}").json()
        return found


def found_by_default_search(market: Market, query: str) -> set[str]:
    with market.http() as http:
        answer = http.get(f"/api/events/{market.event['slug']}/search", params={"q": query}).json()
        return {hit["title"] for hit in answer["hits"]}


def total_amount(market: Market) -> int:
    with market.http() as http:
        amount: int = http.get(f"/api/events/{market.event['slug']}/totals", headers=market.organizer).json()["amount"]
        return amount


def phone(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 780})


def test_hold_one_of_five_sell_it_with_a_confirmation_undo_and_release(tmp_path: Path, market: Market) -> None:
    stall_url = f"{market.base}/s/{market.stalls['honey']['code']}"
    with two_profiles(tmp_path) as (vendor_phone, visitor_phone):
        vendor = vendor_phone.pages[0] if vendor_phone.pages else vendor_phone.new_page()
        visitor = visitor_phone.pages[0] if visitor_phone.pages else visitor_phone.new_page()
        phone(vendor)
        phone(visitor)
        open_controlled(visitor, stall_url)
        seen = visitor.locator(".item-row", has_text="Beeswax candle").locator(".state")
        expect(seen).to_have_text("Available · 5 left")

        open_controlled(vendor, stall_url)
        sign_in_vendor(vendor, market, "honey")
        row = vendor.locator(".item-row", has_text="Beeswax candle")

        # Finding 1: hold ONE candle, for as long as the vendor chooses.
        hold = row.get_by_role("button", name="Hold one Beeswax candle")
        hold.click()
        dialog = vendor.get_by_role("dialog", name="Hold one Beeswax candle")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("button")).to_have_text(["15 minutes", "1 hour", "Until the market ends", "Cancel"])
        vendor.screenshot(path=str(SHOTS / "holds-1-hold-length.png"))
        dialog.get_by_role("button", name="1 hour").click()
        expect(dialog).to_have_count(0)
        expect(row.locator(".state")).to_have_text("4 available · 1 on hold")
        expect(row.get_by_role("button", name="Release hold on Beeswax candle")).to_be_visible()
        expect(row.get_by_role("button", name="Hold one Beeswax candle")).to_be_visible()  # 4 more to hold
        vendor.screenshot(path=str(SHOTS / "holds-2-dashboard-held.png"))
        wait_until_sent(vendor)
        candle = item(market, "Beeswax candle")
        assert (candle["state"], candle["quantity"], candle["held"]) == ("available", 5, 1)
        left = datetime.fromisoformat(candle["reserved_until"]) - datetime.now(UTC)
        assert timedelta(minutes=58) < left <= timedelta(minutes=60)
        # The rest stay on sale: live on the visitor's phone, and in the default search.
        expect(seen).to_have_text("4 available · 1 on hold", timeout=15000)
        visitor.screenshot(path=str(SHOTS / "holds-3-visitor-stall.png"))
        eventually(lambda: found_by_default_search(market, "candle"), lambda t: "Beeswax candle" in t, "search")

        # Finding 10: "Mark sold" asks first; "No, go back" records nothing.
        row.get_by_role("link", name="Sell Beeswax candle").click()
        vendor.get_by_role("button", name="Mark sold").click()
        confirm = vendor.get_by_role("dialog", name="Mark 1 × Beeswax candle sold?")
        expect(confirm).to_be_visible()
        expect(confirm).to_contain_text("1 is on hold for visitors; 4 not held.")
        expect(confirm.get_by_role("button", name="Yes, to the visitor it is held for")).to_be_visible()
        expect(confirm.get_by_role("button", name="Yes, to someone else")).to_be_focused()
        vendor.screenshot(path=str(SHOTS / "holds-4-confirm-sale.png"))
        confirm.get_by_role("button", name="No, go back").click()
        expect(confirm).to_have_count(0)
        expect(vendor.get_by_role("button", name="Mark sold")).to_be_focused()
        assert item(market, "Beeswax candle")["quantity"] == 5
        vendor.get_by_role("button", name="Mark sold").click()
        confirm.get_by_role("button", name="Yes, to the visitor it is held for").click()

        # Sold to the visitor it was held for: the hold is used up; the sale can be undone.
        undo = vendor.get_by_role("button", name="Undo sale")
        expect(undo).to_be_visible()
        expect(vendor.locator(".undo-sale")).to_contain_text("Sold 1 × Beeswax candle.")
        expect(row.locator(".state")).to_have_text("Available · 4 left")
        vendor.screenshot(path=str(SHOTS / "holds-5-sold-undo.png"))
        wait_until_sent(vendor)
        candle = item(market, "Beeswax candle")
        assert (candle["state"], candle["quantity"], candle["held"]) == ("available", 4, 0)
        assert total_amount(market) == 450
        undo.click()
        expect(vendor.locator(".undo-sale")).to_contain_text("Sale undone: Beeswax candle is back on sale.")
        wait_until_sent(vendor)
        candle = item(market, "Beeswax candle")
        assert (candle["quantity"], candle["held"]) == (5, 1), "the undo gives the hold back too"
        assert total_amount(market) == 0
        expect(row.locator(".state")).to_have_text("4 available · 1 on hold")

        # Releasing works offline: it waits in the outbox and shows at once.
        vendor_phone.set_offline(True)
        row.get_by_role("button", name="Release hold on Beeswax candle").click()
        expect(row.locator(".state")).to_have_text("Available · 5 left")
        expect(row.get_by_role("button", name="Release hold on Beeswax candle")).to_have_count(0)
        expect(row.get_by_role("button", name="Hold one Beeswax candle")).to_be_focused()
        assert item(market, "Beeswax candle")["held"] == 1
        vendor_phone.set_offline(False)
        wait_until_sent(vendor)
        candle = item(market, "Beeswax candle")
        assert (candle["state"], candle["quantity"], candle["held"]) == ("available", 5, 0)
        expect(seen).to_have_text("Available · 5 left", timeout=15000)


def test_hold_for_the_visitor_in_the_chat_then_release(tmp_path: Path, market: Market) -> None:
    with market.http() as http:
        visitor = bearer(http.post("/api/devices").json()["token"])
        honey = market.items["Wildflower honey"]
        opened = http.post(
            "/api/conversations",
            json={"stall_code": market.stalls["honey"]["code"], "item_id": honey["id"]},
            headers=visitor,
        )
        conversation = opened.json()["id"]
        http.post(
            f"/api/conversations/{conversation}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "Could you keep a jar for me until 3pm?"},
            headers=visitor,
        )

    def told() -> list[str]:
        with market.http() as http:
            messages = http.get(f"/api/conversations/{conversation}/messages", headers=visitor).json()
            return [m["body"] for m in messages if m["sender"] == "system"]

    with two_profiles(tmp_path) as (vendor_phone, _):
        page = vendor_phone.pages[0] if vendor_phone.pages else vendor_phone.new_page()
        phone(page)
        open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
        sign_in_vendor(page, market, "honey")
        page.goto(f"{market.base}/app/#/conversations")
        page.locator(".conv-link", has_text="Could you keep a jar").click()
        hold = page.get_by_role("button", name="Hold one for this visitor…")
        hold.click()
        dialog = page.get_by_role("dialog", name="Hold one Wildflower honey for this visitor")
        dialog.get_by_role("button", name="Until the market ends").click()
        release = page.get_by_role("button", name="Release the hold for this visitor")
        expect(release).to_be_focused()
        expect(page.get_by_text("On hold for this visitor (until the market ends); they are told.")).to_be_visible()
        page.screenshot(path=str(SHOTS / "holds-6-thread-held.png"))
        wait_until_sent(page)
        jar = item(market, "Wildflower honey")
        assert (jar["state"], jar["quantity"], jar["held"]) == ("available", 3, 1)
        ends = datetime.fromisoformat(market.event["ends_at"].replace("Z", "+00:00"))
        until = datetime.fromisoformat(jar["reserved_until"])
        assert until <= ends and until - datetime.now(UTC) > timedelta(hours=23)  # the event's end, or a day
        assert any(re.fullmatch(r"Reserved for you until \d\d:\d\d: Wildflower honey\.", b) for b in told())

        # Opened again, the button knows the visitor holds it (from the server).
        page.reload()
        expect(release).to_be_visible(timeout=15000)
        release.click()
        expect(page.get_by_role("button", name="Hold one for this visitor…")).to_be_focused()
        wait_until_sent(page)
        assert item(market, "Wildflower honey")["held"] == 0
        eventually(told, lambda bodies: "The seller released the hold on Wildflower honey." in bodies, "told")
