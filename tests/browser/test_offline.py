"""Offline round trip in a real browser: the stall page, search and an unvisited stall from the
cache and the replica; messages written offline are queued, shown as pending, and delivered
exactly once, in order, when the network returns (also with flushers racing and a lost answer).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Route, expect

from server.settings import Settings
from tests.browser.conftest import (
    REPLICA_TITLES,
    Market,
    chromium_profile,
    inbox_messages,
    open_controlled,
    outbox,
    sw_registration_id,
    wait_until_sent,
)


def _bodies(market: Market, key: str) -> list[str]:
    return [m["body"] for m in inbox_messages(market, key) if m["sender"] == "visitor"]


def _send(page: Page, body: str) -> None:
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg.mine", has_text=body)).to_be_visible()


def test_browse_search_and_message_offline(context: BrowserContext, page: Page, market: Market) -> None:
    honey, olive = market.stalls["honey"], market.stalls["olive"]
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    expect(page.get_by_role("heading", name="Mabel's Honey")).to_be_visible()

    # Offline, the stall still opens: the shell from the cache, the items from the replica
    # (the client formats prices as £12.99; the server page says 12.99 GBP).
    context.set_offline(True)
    page.reload()
    expect(page.locator("#net")).to_have_text("Offline · saved data")
    expect(page.get_by_role("heading", name="Mabel's Honey")).to_be_visible()
    row = page.locator(".item-row", has_text="Wildflower honey")
    expect(row).to_contain_text("£12.99")
    expect(row.locator("img")).to_have_attribute("src", re.compile(r"^/photos/"))

    # A photo never loaded before: the service worker answers with a placeholder, not an error.
    row.locator("a.item-link").click()
    detail = page.locator("img.detail").first
    expect(detail).to_have_attribute("src", re.compile(r"/photos/.+/960$"))
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=detail.element_handle())
    kind = page.evaluate("(src) => fetch(src).then((r) => r.headers.get('content-type'))", detail.get_attribute("src"))
    assert kind.startswith("image/svg+xml")
    page.go_back()

    # Search the whole event offline, with a typo, and by hashtag with or without '#'.
    page.get_by_role("link", name="Whole market").click()
    search = page.get_by_label("Search the market")
    search.fill("wildflowr")
    expect(page.locator("#search-status")).to_contain_text("Offline")
    expect(page.locator(".items .item-row")).to_have_count(1)
    expect(page.locator(".items .item-row")).to_contain_text("Wildflower honey")
    search.fill("#spices")
    expect(page.locator(".items .item-row")).to_have_text([re.compile("Za'atar blend")])
    search.fill("candel")
    expect(page.locator(".items .item-row")).to_have_text([re.compile("Beeswax candle")])

    # A stall link never opened before, opened while offline: rendered from the replica.
    page.goto(f"{market.base}/s/{olive['code']}")
    expect(page.get_by_role("heading", name="بيت الزيتون Olive House")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Cold-pressed olive oil")

    # A message written offline: prefilled introduction, queued in IndexedDB, shown as pending.
    page.get_by_role("link", name="Message the seller").click()
    compose = page.get_by_label("Message", exact=True)
    expect(compose).to_have_value(re.compile(r"^Hello بيت الزيتون Olive House! I'm at Ripe Market"))
    first = "Is the olive oil extra virgin? (sent offline)"
    _send(page, first)
    mine = page.locator(".msg.mine", has_text=first)
    expect(mine).to_contain_text("Waiting to send")
    queued = outbox(page)
    assert [(e["name"], e["args"]["body"]) for e in queued] == [("send_message", first)]
    assert queued[0]["args"]["stall_code"] == olive["code"]
    assert _bodies(market, "olive") == []

    # Back online: delivered exactly once, and the pending mark clears.
    context.set_offline(False)
    expect(mine.locator(".mark.pending")).to_have_count(0, timeout=15000)
    expect(mine).to_contain_text("Sent")
    assert _bodies(market, "olive") == [first]
    assert outbox(page) == []

    # Conversation history is there offline too.
    context.set_offline(True)
    page.reload()
    expect(page.locator(".msg.mine", has_text=first)).to_be_visible()
    context.set_offline(False)


def test_racing_flushers_deliver_once_in_order(context: BrowserContext, page: Page, market: Market) -> None:
    olive = market.stalls["olive"]
    open_controlled(page, f"{market.base}/s/{olive['code']}")
    page.get_by_role("link", name="Message the seller").click()
    _send(page, "Hello, are you open?")
    expect(page.locator(".msg.mine .mark.pending")).to_have_count(0, timeout=15000)
    conversation_url = page.url

    pushes: list[str] = []
    context.on(
        "request",
        lambda r: pushes.append(r.post_data or "") if r.url.endswith("/api/sync/push") else None,
    )

    # Two tabs and the service worker's Background Sync all try to flush the same outbox.
    context.set_offline(True)
    bodies = ["One jar please", "And a second one", "Pick-up at 3?"]
    for body in bodies:
        _send(page, body)
    assert [e["args"]["body"] for e in outbox(page)] == bodies
    other = context.new_page()
    other.goto(conversation_url)
    expect(other.locator(".msg.mine", has_text="Pick-up at 3?")).to_contain_text("Waiting to send")
    cdp = context.new_cdp_session(page)
    registration = sw_registration_id(cdp, market.base)
    context.set_offline(False)
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {"origin": market.base, "registrationId": registration, "tag": "souk-outbox", "lastChance": False},
    )
    for tab in (page, other):
        expect(tab.locator(".msg.mine .mark.pending")).to_have_count(0, timeout=15000)
    assert _bodies(market, "olive") == ["Hello, are you open?", *bodies]  # once each, in order
    carried = [p for p in pushes if "One jar please" in p]
    assert len(carried) == 1, "one flusher at a time: the batch went out once"


def test_a_lost_answer_is_retried_and_stored_once(tmp_path: Path, market: Market) -> None:
    """The server commits but its answer never reaches the browser: the entry stays queued, the
    retry is answered from the server's record, and the message exists once. (Without a service
    worker here, so the page's own flusher is the one whose answer gets lost.)"""
    olive = market.stalls["olive"]
    with chromium_profile(tmp_path / "plain", service_workers="block") as context:
        page = context.pages[0]
        page.goto(f"{market.base}/s/{olive['code']}")
        page.wait_for_selector("body[data-synced='yes']", state="attached")
        lost: list[bool] = []

        def lose_first_answer(route: Route) -> None:
            if not lost and "lost answer" in (route.request.post_data or ""):
                route.fetch()  # the server applies it...
                lost.append(True)
                route.abort()  # ...and the browser never hears back
            else:
                route.continue_()

        page.route("**/api/sync/push", lose_first_answer)
        page.get_by_role("link", name="Message the seller").click()
        _send(page, "This is the lost answer test")
        mine = page.locator(".msg.mine", has_text="lost answer")
        expect(mine.locator(".mark.pending")).to_have_count(0, timeout=20000)  # the pull may show it first
        wait_until_sent(page)  # the retry got its answer
        assert lost == [True]
        assert _bodies(market, "olive") == ["This is the lost answer test"]


def _compact_everything(db: Settings) -> None:
    """`souk compact-log --keep-days 0` until the server's log readers let it take all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    env.update(SOUK_DATA_DIR=str(db.data_dir), SOUK_DATABASE_URL=db.database_url)
    deadline = time.monotonic() + 20
    while True:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "compact-log", "--keep-days", "0"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        if ", 0 kept (none)." in done.stdout:
            return
        assert time.monotonic() < deadline, done.stdout
        time.sleep(0.2)


def test_a_phone_behind_a_compacted_log_keeps_its_replica_until_the_new_one_is_whole(
    context: BrowserContext, page: Page, market: Market, db: Settings
) -> None:
    honey = market.stalls["honey"]
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    before = page.evaluate(REPLICA_TITLES)
    assert "Honeycomb slab" in before

    # While the phone is away, the comb sells out of the listing, a candle set arrives, and the
    # organizer compacts the change log past the phone's place in it.
    context.set_offline(True)
    with market.http() as http:
        gone = http.delete(f"/api/items/{market.items['Honeycomb slab']['id']}", headers=market.vendors["honey"])
        assert gone.status_code in (200, 204), gone.text
        added = http.post(
            f"/api/stalls/{honey['code']}/items",
            json={"title": "Candle gift set", "price": 1800},
            headers=market.vendors["honey"],
        )
        assert added.status_code == 201, added.text
    _compact_everything(db)

    # Back online, the server says "start again"; the new snapshot (pages of 2 records, so it
    # takes several) breaks off half-way.
    pulls: list[str] = []

    def first_page_only(route: Route) -> None:
        pulls.append(route.request.post_data or "")
        if len(pulls) <= 2:  # the pull that gets "reset", then the snapshot's first page
            route.continue_(post_data=json.dumps({**(route.request.post_data_json or {}), "limit": 2}))
        else:
            route.abort()

    page.route("**/api/sync/pull", first_page_only)
    context.set_offline(False)
    deadline = time.monotonic() + 15
    while len(pulls) < 3:
        assert time.monotonic() < deadline, pulls
        page.wait_for_timeout(100)
    assert page.evaluate(REPLICA_TITLES) == before  # nothing half-applied, nothing emptied

    # The next pull takes the whole snapshot: the deleted item gone, the new one there.
    page.unroute("**/api/sync/pull")
    after = sorted([*(t for t in before if t != "Honeycomb slab"), "Candle gift set"])
    page.reload()
    deadline = time.monotonic() + 15
    while page.evaluate(REPLICA_TITLES) != after:
        assert time.monotonic() < deadline, page.evaluate(REPLICA_TITLES)
        page.wait_for_timeout(200)
    expect(page.locator(".item-row", has_text="Candle gift set")).to_be_visible()
    expect(page.locator(".item-row", has_text="Honeycomb slab")).to_have_count(0)
