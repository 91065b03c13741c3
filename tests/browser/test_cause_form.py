"""Issue 14, finding 4, on the vendor's phone: the listing form offers the event's causes as
checkboxes (ticking one adds its hashtag), warns when #SocialCause names no cause and asks once
before saving such an item, and a charity stall sets one cause for all its items."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Market, open_controlled, sign_in_vendor, wait_until_sent

WARNING = "#SocialCause on its own credits no cause"


def _causes(market: Market) -> None:
    with market.http() as http:
        for name, tag in (("River Rescue", "#RiverRescue"), ("Food Bank", "#FoodBank")):
            made = http.post("/api/events/ripe-jan/causes", json={"name": name, "tag": tag}, headers=market.organizer)
            assert made.status_code == 201, made.text


def _item(market: Market, title: str) -> dict[str, Any]:
    with market.http() as http:
        code = market.stalls["honey"]["code"]
        found = [i for i in http.get(f"/api/stalls/{code}/items").json() if i["title"] == title]
        assert len(found) == 1, found
        item: dict[str, Any] = found[0]
        return item


def test_the_listing_form_offers_the_causes_and_warns(context: BrowserContext, page: Page, market: Market) -> None:
    _causes(market)
    page.set_viewport_size({"width": 360, "height": 800})
    code = market.stalls["honey"]["code"]
    open_controlled(page, f"{market.base}/s/{code}")
    sign_in_vendor(page, market, "honey")

    page.get_by_role("link", name="List an item").click()
    causes = page.get_by_role("group", name="Raises money for")
    expect(causes.get_by_role("checkbox")).to_have_count(2)
    expect(causes.get_by_role("checkbox").first).to_have_accessible_name("Food Bank #FoodBank")
    river = causes.get_by_role("checkbox", name="River Rescue #RiverRescue")
    page.get_by_label("Title").fill("Knitted scarf")
    page.get_by_label("Price (GBP)").fill("12")
    page.get_by_label("Hashtags").fill("#wool #SocialCause")
    warning = causes.get_by_role("status")
    expect(warning).to_contain_text(WARNING)
    page.screenshot(path="/tmp/organizer-cause-form-warning.png", full_page=True)

    # Saving asks once: the cause boxes get the focus, the button now says what it would do.
    page.get_by_role("button", name="List this item").click()
    expect(page.get_by_role("button", name="List without a cause")).to_be_visible()
    expect(causes.get_by_role("checkbox").first).to_be_focused()  # the causes, by name: Food Bank first
    expect(page.get_by_role("alert")).to_contain_text("Which cause does this item raise money for?")
    river.check()
    expect(warning).to_be_hidden()
    page.get_by_role("button", name="List this item").click()
    page.get_by_role("link", name="List an item").wait_for()
    wait_until_sent(page)
    scarf = _item(market, "Knitted scarf")
    assert scarf["causes"] == ["riverrescue"]
    assert {"#wool", "#RiverRescue", "#SocialCause"} <= set(scarf["hashtags"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Editing shows the cause ticked, not as typed text; unticking it and ticking another moves it.
    page.locator(".item-row", has_text="Knitted scarf").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Edit item")).to_be_visible()
    expect(river).to_be_checked()
    assert "#RiverRescue" not in page.get_by_label("Hashtags").input_value()
    river.uncheck()
    page.get_by_role("group", name="Raises money for").get_by_role("checkbox", name="Food Bank #FoodBank").check()
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("link", name="List an item").wait_for()
    wait_until_sent(page)
    assert _item(market, "Knitted scarf")["causes"] == ["foodbank"]


def test_a_charity_stall_sets_one_cause_for_all_its_items(context: BrowserContext, page: Page, market: Market) -> None:
    _causes(market)
    page.set_viewport_size({"width": 360, "height": 800})
    code = market.stalls["honey"]["code"]
    open_controlled(page, f"{market.base}/s/{code}")
    sign_in_vendor(page, market, "honey")

    page.goto(f"{market.base}/app/#/vendor/stall")
    chooser = page.get_by_label("Cause for all my items")
    expect(chooser).to_have_value("")
    chooser.select_option(label="River Rescue (#RiverRescue)")
    page.screenshot(path="/tmp/organizer-stall-default-cause.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="List an item").wait_for()
    wait_until_sent(page)
    with market.http() as http:
        assert http.get(f"/api/stalls/{code}").json()["default_cause"] == "riverrescue"
    assert _item(market, "Beeswax candle")["causes"] == ["riverrescue"], "items already listed count too"

    # The form says so, and #SocialCause alone needs no warning here: the stall's cause gets it.
    page.get_by_role("link", name="List an item").click()
    causes = page.get_by_role("group", name="Raises money for")
    expect(causes).to_contain_text("Counts for River Rescue (#RiverRescue), your stall's cause")
    page.get_by_label("Title").fill("Charity honey")
    page.get_by_label("Price (GBP)").fill("5")
    page.get_by_label("Hashtags").fill("#SocialCause")
    expect(causes.get_by_role("status")).to_be_hidden()
    page.get_by_role("button", name="List this item").click()
    page.get_by_role("link", name="List an item").wait_for()
    wait_until_sent(page)
    assert _item(market, "Charity honey")["causes"] == ["riverrescue"]
