"""The vendor's side offline: an item listed from the camera with no network arrives once,
photo included; an edit the server can no longer accept is shown with the server's reason."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Market, jpeg, open_controlled, outbox, sign_in_vendor


def test_item_listed_offline_with_a_photo_arrives_once(context: BrowserContext, page: Page, market: Market) -> None:
    code = market.stalls["honey"]["code"]
    open_controlled(page, f"{market.base}/s/{code}")
    sign_in_vendor(page, market, "honey")

    context.set_offline(True)
    page.get_by_role("link", name="List an item").click()
    camera = page.get_by_label("Photo")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    camera.set_input_files({"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg(2400, 1800)})
    expect(page.locator(".preview img")).to_have_attribute("src", re.compile(r"^blob:"))
    page.get_by_label("Title").fill("Lavender honey")
    page.get_by_label("Price (GBP)").fill("7.50")
    page.get_by_label("How many").fill("2")
    page.get_by_label("Hashtags").fill("#honey lavender")
    page.get_by_role("button", name="List this item").click()

    row = page.locator(".item-row", has_text="Lavender honey")
    expect(row).to_contain_text("Waiting to send")
    expect(row).to_contain_text("£7.50")
    expect(row.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))
    queued = outbox(page)
    assert [(e["name"], e["has_photo"]) for e in queued] == [("create_item", True)]

    context.set_offline(False)
    expect(row.locator(".mark.pending")).to_have_count(0, timeout=20000)
    expect(row.locator("img")).to_have_attribute("src", re.compile(r"^/photos/"))
    with market.http() as http:
        listed = [i for i in http.get(f"/api/stalls/{code}/items").json() if i["title"] == "Lavender honey"]
        assert len(listed) == 1, "listed exactly once"
        item = listed[0]
        assert (item["price"], item["quantity"], item["currency"]) == (750, 2, "GBP")
        assert {"#honey", "#lavender"} <= set(item["hashtags"])
        assert len(item["photos"]) == 1
        thumb = http.get(item["photos"][0]["thumb"])
        assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/")
        assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
        original = Image.open(io.BytesIO(http.get(item["photos"][0]["original"]).content))
        assert original.size == (1600, 1200), "resized in the browser before upload"
    assert outbox(page) == []


def test_offline_edit_of_an_item_sold_meanwhile_shows_the_rejection(
    context: BrowserContext, page: Page, market: Market
) -> None:
    code = market.stalls["honey"]["code"]
    slab = market.items["Honeycomb slab"]
    open_controlled(page, f"{market.base}/s/{code}")
    sign_in_vendor(page, market, "honey")

    context.set_offline(True)
    page.locator(".item-row", has_text="Honeycomb slab").locator("a.item-link").click()
    page.get_by_label("Price (GBP)").fill("9.50")
    page.get_by_role("button", name="Save changes").click()
    row = page.locator(".item-row", has_text="Honeycomb slab")
    expect(row).to_contain_text("£9.50")
    expect(row).to_contain_text("Waiting to send")

    with market.http() as http:  # meanwhile, the last one is sold from another phone
        sold = http.post(f"/api/items/{slab['id']}/sell", json={"quantity": 1}, headers=market.vendors["honey"])
        assert sold.status_code == 201, sold.text

    context.set_offline(False)
    rejection = page.locator(".notice.rejected")
    expect(rejection).to_contain_text("Honeycomb slab", timeout=20000)
    expect(rejection).to_contain_text("sold")
    expect(row).to_contain_text("Sold")
    expect(row).to_contain_text("£8.00")  # the server's state shows through
    expect(row.locator(".mark.pending")).to_have_count(0)
    with market.http() as http:
        item = http.get(f"/api/items/{slab['id']}").json()
        assert (item["state"], item["price"]) == ("sold", 800)

    page.reload()  # kept until the person has seen it
    expect(rejection).to_contain_text("sold")
    rejection.get_by_role("button").click()
    expect(rejection).to_have_count(0)
