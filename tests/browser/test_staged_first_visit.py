"""A first visit in stages: a visitor who scanned a stall's QR code pulls with that stall named,
the first page of the snapshot holds it and its items, and the app draws the stall from its
replica as soon as that page is applied, while the rest of the market is still on its way.

Later pages are held back by Playwright routing (they go on only when the test lets them), and
every page is made small (`limit`), so "the rest" is really still missing when the stall shows.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from tests.browser.conftest import REPLICA_TITLES, Market


def test_the_scanned_stall_shows_before_the_rest_of_the_market_arrives(
    context: BrowserContext, page: Page, market: Market
) -> None:
    honey = market.stalls["honey"]
    asked: list[dict[str, Any]] = []
    held: list[tuple[Route, str]] = []

    released: list[bool] = []

    def stage(route: Route) -> None:
        body: dict[str, Any] = route.request.post_data_json or {}
        asked.append(body)
        small = json.dumps({**body, "limit": 4})  # the stall and its three items fill a page
        if body.get("cursor") is None or released:
            route.continue_(post_data=small)
        else:
            held.append((route, small))

    page.route("**/api/sync/pull", stage)
    page.goto(f"{market.base}/s/{honey['code']}")

    # The app's own drawing of the stall (the server-rendered one carries data-event).
    drawn = page.locator("main section.stall:not([data-event]) .item-row")
    expect(drawn).to_have_count(3)
    for title in ("Wildflower honey", "Beeswax candle", "Honeycomb slab"):
        expect(drawn.filter(has_text=title)).to_be_visible()
    expect(page.get_by_role("link", name="Message the seller")).to_be_visible()
    while not held:
        page.wait_for_timeout(50)  # the next page is asked for, and held back
    assert asked[0]["stall"] == honey["code"] and asked[0]["format"] == 2 and asked[0]["cursor"] is None
    assert "stall" not in asked[1]
    titles = page.evaluate(REPLICA_TITLES)
    assert titles == ["Beeswax candle", "Honeycomb slab", "Wildflower honey"]  # the rest is still to come
    assert page.evaluate("document.body.dataset.synced") is None

    # The rest streams in behind it.
    released.append(True)
    for route, small in held:
        route.continue_(post_data=small)
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)
    assert "Cold-pressed olive oil" in page.evaluate(REPLICA_TITLES)
    expect(drawn).to_have_count(3)
    page.goto(f"{market.base}/s/{market.stalls['olive']['code']}")
    expect(page.locator("main section.stall .item-row")).to_have_count(2)


def test_a_first_visit_installs_the_worker_once_the_stall_is_in(
    context: BrowserContext, page: Page, market: Market
) -> None:
    """The worker's install downloads the shell into its cache; on a weak link that would compete
    with the scanned stall's page of the pull, so a first visit registers it only once that page
    is applied. Its precache revalidates what the page already downloaded (ETag: no body again)."""
    honey = market.stalls["honey"]
    first: list[Route] = []
    shell: dict[str, Request] = {}

    def watch(request: Request) -> None:
        if request.service_worker is not None and "/app/" in request.url:
            shell[request.url.split("/app/", 1)[1]] = request

    def hold_first(route: Route) -> None:
        if not first:
            first.append(route)
        else:
            route.continue_()

    context.on("requestfinished", watch)
    page.route("**/api/sync/pull", hold_first)
    page.goto(f"{market.base}/s/{honey['code']}")
    while not first:
        page.wait_for_timeout(50)
    page.wait_for_timeout(1500)  # long enough for a registration made at start-up to exist
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r === undefined)")

    first[0].continue_()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)
    for name in ("app.js", "kit/wire.js"):  # modules the stall page loaded: asked by ETag, no body again
        assert shell[name].all_headers().get("if-none-match"), name
        assert shell[name].sizes()["responseBodySize"] == 0, (name, shell[name].sizes())
