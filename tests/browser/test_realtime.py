"""Chat in the browser with the seller on the other end: "the seller is away", typing…,
the read mark and the reply all arrive over the realtime socket, without a reload."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import BrowserContext, Page, expect
from websockets.sync.client import connect

from tests.browser.conftest import Market, open_controlled


def test_reply_typing_and_read_mark_arrive_live(context: BrowserContext, page: Page, market: Market) -> None:
    olive = market.stalls["olive"]
    open_controlled(page, f"{market.base}/s/{olive['code']}")
    page.get_by_role("link", name="Message the seller").click()
    page.get_by_label("Message", exact=True).fill("Do you have small bottles?")
    page.get_by_role("button", name="Send", exact=True).click()
    mine = page.locator(".msg.mine", has_text="small bottles")
    expect(mine).to_contain_text("Sent", timeout=15000)
    expect(page.get_by_text("The seller is away; your message will wait for them.")).to_be_visible()
    conversation = page.url.rsplit("/", 1)[-1]
    vendor = market.vendors["olive"]

    with connect(market.base.replace("http", "ws", 1) + "/api/live") as socket:
        socket.send(json.dumps({"type": "auth", "token": vendor["Authorization"].split()[1], "event": "ripe-jan"}))
        while json.loads(socket.recv(timeout=5))["type"] != "ready":
            pass
        socket.send(json.dumps({"type": "typing", "conversation_id": conversation}))
        expect(page.get_by_text("The seller is typing…")).to_be_visible()

        with market.http() as http:
            read = http.post(f"/api/conversations/{conversation}/read", json={"up_to_seq": 1}, headers=vendor)
            assert read.status_code == 200, read.text
            expect(mine).to_contain_text("Read")
            reply = {"message_id": str(uuid.uuid4()), "body": "Yes: 250 ml bottles, £6."}
            sent = http.post(f"/api/conversations/{conversation}/messages", json=reply, headers=vendor)
            assert sent.status_code == 201, sent.text
        expect(page.locator(".msg.theirs", has_text="250 ml bottles")).to_be_visible()
