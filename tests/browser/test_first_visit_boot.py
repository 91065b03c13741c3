"""A visitor who scanned a stall's QR code: the stall page's small boot module (pwa/boot.js) asks
for the visitor's device and starts the staged pull before the rest of the app has downloaded,
and the app joins that pull instead of starting a second one. A phone that already has an
identity never asks for another, and keeps the one it has even when the note that says so
(localStorage) was cleared.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, Route

from tests.browser.conftest import Market

DEVICE_IDENTITY = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const get = open.result.transaction("kv").objectStore("kv").get("identity:device");
        get.onsuccess = () => { open.result.close(); resolve(get.result ?? null); };
        get.onerror = () => reject(get.error);
    };
})"""


class Watch:
    """The device requests and pulls a page makes (what each pull asked, with which token)."""

    def __init__(self, page: Page) -> None:
        self.devices: list[str] = []
        self.pulls: list[tuple[dict[str, Any], str]] = []
        page.on("request", self._request)
        page.route("**/api/sync/pull", self._pull)

    def _request(self, request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/devices"):
            self.devices.append(request.url)

    def _pull(self, route: Route) -> None:
        self.pulls.append((route.request.post_data_json or {}, route.request.headers.get("authorization", "")))
        route.continue_()

    def clear(self) -> None:
        self.devices.clear()
        self.pulls.clear()


def _visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)


def test_a_first_visit_asks_for_one_device_and_pulls_once(context: BrowserContext, page: Page, market: Market) -> None:
    honey = market.stalls["honey"]
    watch = Watch(page)
    _visit(page, f"{market.base}/s/{honey['code']}")

    assert len(watch.devices) == 1
    starts = [asked for asked, _ in watch.pulls if asked.get("cursor") is None]
    assert len(starts) == 1, watch.pulls
    assert len(watch.pulls) == 1, watch.pulls  # one page holds this market; the app joined that pull
    assert starts[0]["stall"] == honey["code"] and starts[0]["format"] == 2
    identity = page.evaluate(DEVICE_IDENTITY)
    assert identity and {token for _, token in watch.pulls} == {f"Bearer {identity['token']}"}
    assert page.evaluate("localStorage.getItem('souk:identity')") == "yes"

    # The next visit (to another stall) has its identity: no device is asked for.
    watch.clear()
    _visit(page, f"{market.base}/s/{market.stalls['olive']['code']}")
    assert watch.devices == []
    assert page.evaluate(DEVICE_IDENTITY) == identity


def test_a_phone_whose_note_was_cleared_keeps_its_identity(context: BrowserContext, page: Page, market: Market) -> None:
    honey = market.stalls["honey"]
    watch = Watch(page)
    _visit(page, f"{market.base}/s/{honey['code']}")
    identity = page.evaluate(DEVICE_IDENTITY)
    page.evaluate("localStorage.clear()")

    watch.clear()
    _visit(page, f"{market.base}/s/{honey['code']}")
    assert len(watch.devices) <= 1  # an early device may be asked for, and then goes unused
    assert page.evaluate(DEVICE_IDENTITY) == identity
    assert {token for _, token in watch.pulls} <= {f"Bearer {identity['token']}"}
    assert page.evaluate("localStorage.getItem('souk:identity')") == "yes"  # noted again
