"""Shared set-up for the kiosk browser tests: one Chromium per session (Debian's, never a
downloaded one), a fresh context per test, and a small market seeded through the HTTP API of a
real `souk serve` process (the `live_server` fixture).

Every test fails if a page it opened broke the server's Content-Security-Policy (`csp_guard`, the
same watch as the web app's browser tests)."""

from __future__ import annotations

import datetime
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import (
    Browser,
    BrowserContext,
    BrowserType,
    ConsoleMessage,
    Error,
    Frame,
    JSHandle,
    Locator,
    Page,
    TimeoutError,
    async_playwright,
)

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import CSP_WATCH, RETRY_ERRORS, is_policy_message, poll_timeout_ms
from tests.conftest import EVENT_BODY

PASSWORD = "correct horse"
VENDOR_PASSWORD = "vendor-pass"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class CspWatch:
    """CSP violations seen in the contexts it watches, as 'url: message' lines."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def heard(self, message: ConsoleMessage) -> None:
        if is_policy_message(message.text):
            where = message.page.url if message.page else message.location.get("url", "?")
            self.found.append(f"{where}: {message.text}")

    async def watch(self, context: BrowserContext) -> BrowserContext:
        await context.add_init_script(script=CSP_WATCH)
        context.on("console", self.heard)
        return context


async def wait_for_function(
    self: Page | Frame,
    expression: str,
    *,
    arg: Any = None,
    polling: float | Literal["raf"] | None = None,
    timeout: float | datetime.timedelta | None = None,  # noqa: ASYNC109  (Playwright's own signature)
) -> JSHandle:
    """`wait_for_function` that works under the CSP (see tests/browser/conftest.py): polls through
    the DevTools protocol instead of Playwright's in-page `eval`, which the policy refuses."""
    budget = poll_timeout_ms(timeout)
    interval = polling if isinstance(polling, int | float) else 50
    deadline = time.monotonic() + budget / 1000
    while True:
        try:
            handle = await self.evaluate_handle(expression, arg)
            if await self.evaluate("(value) => Boolean(value)", handle):
                return handle
            await handle.dispose()
        except Error as error:
            if not any(part in error.message for part in RETRY_ERRORS):
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_for_function: {expression!r} not truthy within {budget:.0f} ms")
        await self.wait_for_timeout(interval)


@pytest.fixture(autouse=True)
def csp_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[CspWatch]:
    """Watch every context a test opens on the shared browser (or launches itself) and fail the
    test at teardown if any page reported a CSP violation. (Also swaps in the CSP-proof
    `wait_for_function`.)"""
    guard = CspWatch()
    launch: Callable[..., Awaitable[BrowserContext]] = BrowserType.launch_persistent_context
    new_context: Callable[..., Awaitable[BrowserContext]] = Browser.new_context
    new_page: Callable[..., Awaitable[Page]] = Browser.new_page

    async def watched_launch(self: BrowserType, *args: Any, **kwargs: Any) -> BrowserContext:
        return await guard.watch(await launch(self, *args, **kwargs))

    async def watched_context(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        return await guard.watch(await new_context(self, *args, **kwargs))

    async def watched_page(self: Browser, *args: Any, **kwargs: Any) -> Page:
        opened = await new_page(self, *args, **kwargs)
        await guard.watch(opened.context)
        return opened

    monkeypatch.setattr(BrowserType, "launch_persistent_context", watched_launch)
    monkeypatch.setattr(Browser, "new_context", watched_context)
    monkeypatch.setattr(Browser, "new_page", watched_page)
    monkeypatch.setattr(Page, "wait_for_function", wait_for_function)
    monkeypatch.setattr(Frame, "wait_for_function", wait_for_function)
    yield guard
    if guard.found:
        pytest.fail(
            "Content-Security-Policy violations (or unreadable policy headers):\n" + "\n".join(guard.found),
            pytrace=False,
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Market:
    base: str
    organizer: dict[str, str]
    vendors: list[dict[str, str]]  # Authorization headers
    stalls: list[dict[str, Any]]
    items: dict[str, dict[str, Any]]  # title -> ItemView

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=15, trust_env=False)

    async def sell(self, title: str, quantity: int = 1) -> None:
        item = self.items[title]
        vendor = self.vendors[[s["id"] for s in self.stalls].index(item["stall_id"])]
        async with self.http() as http:
            response = await http.post(f"/api/items/{item['id']}/sell", json={"quantity": quantity}, headers=vendor)
            assert response.status_code == 201, response.text

    async def kiosk_token(self, slug: str = "ripe-jan") -> dict[str, str]:
        async with self.http() as http:
            response = await http.post(
                f"/api/events/{slug}/kiosk-tokens", json={"label": "Entrance"}, headers=self.organizer
            )
            assert response.status_code == 201, response.text
            out: dict[str, str] = response.json()
            return out


STALLS = [
    {"name": "Mabel's Pottery", "store_tag": "#MabelsPottery", "number": "A01", "location": "North row"},
    {"name": "Hive & Honey", "store_tag": "#HiveHoney", "number": "B07", "location": "By the clock"},
]
ITEMS = [
    (0, {"title": "Handmade ceramic teapot", "price": 2400, "hashtags": ["#Pottery", "#FoodBank"]}),
    (0, {"title": "Blue glazed mug", "price": 900, "quantity": 3, "hashtags": ["#Pottery"]}),
    (1, {"title": "Wildflower honey jar", "price": 650, "quantity": 5, "hashtags": ["#FoodBank"]}),
    (1, {"title": "Beeswax candle", "price": 400, "quantity": 4}),
]


async def seed_market(base: str) -> Market:
    """An organizer, an event with a cause, two vendors with a stall each, four items."""
    from server.domain.accounts import NewAccount, create_account

    await create_account(NewAccount("org@example.org", PASSWORD, "Org"), "organizer")
    async with httpx.AsyncClient(base_url=base, timeout=15, trust_env=False) as http:
        login = await http.post("/api/auth/login", json={"email": "org@example.org", "password": PASSWORD})
        assert login.status_code == 201, login.text
        organizer = bearer(login.json()["token"])
        assert (await http.post("/api/events", json=EVENT_BODY, headers=organizer)).status_code == 201
        cause = {"name": "Food bank", "tag": "#FoodBank", "goal": 50_000}
        assert (await http.post("/api/events/ripe-jan/causes", json=cause, headers=organizer)).status_code == 201
        codes = (await http.post("/api/events/ripe-jan/invites", json={"count": 2}, headers=organizer)).json()["codes"]
        vendors, stalls = [], []
        for n, (code, stall) in enumerate(zip(codes, STALLS, strict=True), start=1):
            joined = await http.post(
                "/api/vendors/join",
                json={
                    "invite_code": code,
                    "email": f"vendor{n}@example.org",
                    "password": VENDOR_PASSWORD,
                    "display_name": f"Vendor {n}",
                    "stall": stall,
                },
            )
            assert joined.status_code == 201, joined.text
            vendors.append(bearer(joined.json()["token"]))
            stalls.append(joined.json()["stall"])
        items: dict[str, dict[str, Any]] = {}
        for index, body in ITEMS:
            made = await http.post(f"/api/stalls/{stalls[index]['code']}/items", json=body, headers=vendors[index])
            assert made.status_code == 201, made.text
            items[str(body["title"])] = made.json()
    return Market(base, organizer, vendors, stalls, items)


async def decode_qr(image: Locator) -> list[str]:
    """Wait until the QR image has loaded, screenshot it and read it with zxing."""
    await image.wait_for(state="visible")
    await image.evaluate(
        "img => img.complete && img.naturalWidth > 0 ? true : new Promise((ok, fail) => {"
        " img.addEventListener('load', () => ok(true)); img.addEventListener('error', fail); })"
    )
    png = await image.screenshot()
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
