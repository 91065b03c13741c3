"""Real-browser fixtures: a real `souk serve` process with a small market seeded through the
HTTP API, and Debian's Chromium driven by Playwright's synchronous API.

Each test gets a persistent browser profile in a fresh folder: an ordinary Playwright context
is incognito, where Chromium refuses installation and Background Sync.

Every test fails if a page it opened broke the server's Content-Security-Policy (see
`csp_guard`): whatever a test checks, no page may need an inline script or style.
"""

from __future__ import annotations

import datetime
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    ConsoleMessage,
    Error,
    Frame,
    JSHandle,
    Page,
    TimeoutError,
    sync_playwright,
)

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import EVENT_BODY, bearer

ORGANIZER = ("org@example.org", "correct horse")


# Runs first in every document of a watched context: each CSP violation event is kept in
# window.__cspViolations and echoed to the console, where the test's listener hears it even if
# the page has navigated away since.
CSP_WATCH = """(() => {
  if (window.__cspViolations) return;
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    const seen = { directive: event.effectiveDirective, blocked: event.blockedURI, source: event.sourceFile,
                   line: event.lineNumber, sample: event.sample };
    window.__cspViolations.push(seen);
    console.error(`Content Security Policy violation: ${seen.directive} blocked ${seen.blocked || "inline"}`
      + ` at ${seen.source}:${seen.line} ${seen.sample}`);
  });
})();"""


def is_policy_message(text: str) -> bool:
    """Chromium's own report ("Executing inline script violates the following Content Security
    Policy directive ...", "Refused to load ..."), the echo of CSP_WATCH, or a header the browser
    could not read ("Error with Permissions-Policy header: Unrecognized feature ...")."""
    return any(
        part in text for part in ("Content Security Policy", "Content-Security-Policy", "Refused to", "-Policy header")
    )


class CspWatch:
    """CSP violations seen in the contexts it watches, as 'url: message' lines."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def heard(self, message: ConsoleMessage) -> None:
        if is_policy_message(message.text):
            where = message.page.url if message.page else message.location.get("url", "?")
            self.found.append(f"{where}: {message.text}")

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.add_init_script(script=CSP_WATCH)
        context.on("console", self.heard)
        return context

    def take(self) -> list[str]:
        """The violations so far, forgotten (a test that provokes one on purpose takes it)."""
        found, self.found = self.found, []
        return found


# Navigations while polling: the expression is asked again in the new document.
RETRY_ERRORS = ("Execution context was destroyed", "Cannot find context")


def poll_timeout_ms(timeout: float | datetime.timedelta | None) -> float:
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds() * 1000
    return 30_000 if timeout is None else timeout


def wait_for_function(
    self: Page | Frame,
    expression: str,
    *,
    arg: Any = None,
    polling: float | Literal["raf"] | None = None,
    timeout: float | datetime.timedelta | None = None,
) -> JSHandle:
    """`wait_for_function` that works under the CSP: Playwright's own evaluates the expression
    with `eval` inside the page, which a policy without 'unsafe-eval' refuses (and reports).
    This asks through the DevTools protocol (`evaluate_handle`, not subject to the page's CSP)
    until the answer is truthy; a Promise is awaited first. Returns the answer's handle."""
    budget = poll_timeout_ms(timeout)
    interval = polling if isinstance(polling, int | float) else 50
    deadline = time.monotonic() + budget / 1000
    while True:
        try:
            handle = self.evaluate_handle(expression, arg)
            if self.evaluate("(value) => Boolean(value)", handle):
                return handle
            handle.dispose()
        except Error as error:
            if not any(part in error.message for part in RETRY_ERRORS):
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_for_function: {expression!r} not truthy within {budget:.0f} ms")
        self.wait_for_timeout(interval)


@pytest.fixture(autouse=True)
def csp_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[CspWatch]:
    """Watch every browser context this test opens (chromium_profile, or a test's own launch)
    and fail the test at teardown if any page reported a CSP violation. (Also swaps in the
    CSP-proof `wait_for_function`.)"""
    guard = CspWatch()
    launch: Callable[..., BrowserContext] = BrowserType.launch_persistent_context
    new_context: Callable[..., BrowserContext] = Browser.new_context
    new_page: Callable[..., Page] = Browser.new_page

    def watched_launch(self: BrowserType, *args: Any, **kwargs: Any) -> BrowserContext:
        return guard.watch(launch(self, *args, **kwargs))

    def watched_context(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        return guard.watch(new_context(self, *args, **kwargs))

    def watched_page(self: Browser, *args: Any, **kwargs: Any) -> Page:
        opened = new_page(self, *args, **kwargs)
        guard.watch(opened.context)
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


@dataclass
class Market:
    """What the tests need to know about the seeded market."""

    base: str
    organizer: dict[str, str]
    event: dict[str, Any]
    stalls: dict[str, dict[str, Any]] = field(default_factory=dict)  # "honey", "olive" -> StallView
    vendors: dict[str, dict[str, str]] = field(default_factory=dict)  # same keys -> auth header
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # same keys -> (email, password)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # title -> ItemView

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)

    def add_items(self, key: str, bodies: list[dict[str, Any]]) -> None:
        """List items at stall `key` as its vendor, each through the REST API (201 or fail)."""
        with self.http() as http:
            for body in bodies:
                made = http.post(f"/api/stalls/{self.stalls[key]['code']}/items", json=body, headers=self.vendors[key])
                assert made.status_code == 201, made.text


def jpeg(width: int = 640, height: int = 480, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A real JPEG photo (a few shapes), as a phone camera would hand it over."""
    image = Image.new("RGB", (width, height), colour)
    pen = ImageDraw.Draw(image)
    pen.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(250, 220, 90))
    pen.rectangle((10, 10, width // 5, height // 5), fill=(30, 60, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


STALLS = {
    "honey": {"name": "Mabel's Honey", "store_tag": "#MabelsHoney", "number": "A01", "location": "By the gate"},
    "olive": {"name": "بيت الزيتون Olive House", "store_tag": "#OliveHouse", "number": "B07", "location": "Yard"},
}
ITEMS = {
    "honey": [
        {"title": "Wildflower honey", "price": 1299, "quantity": 3, "hashtags": ["#honey", "#local"], "photo": True},
        {"title": "Beeswax candle", "price": 450, "quantity": 5, "hashtags": ["#candles"]},
        {"title": "Honeycomb slab", "price": 800, "quantity": 1, "hashtags": ["#honey"]},
    ],
    "olive": [
        {"title": "Cold-pressed olive oil", "price": 1650, "quantity": 4, "hashtags": ["#oliveoil"]},
        {"title": "Za'atar blend", "price": 350, "quantity": 10, "hashtags": ["#spices"]},
    ],
}


@pytest.fixture
async def market(live_server: str) -> Market:
    """Organizer, event, two vendors with a stall each and a few items (one with a photo)."""
    from server.domain.accounts import NewAccount, create_account

    await create_account(NewAccount(ORGANIZER[0], ORGANIZER[1], "Org"), "organizer")
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        login = await http.post("/api/auth/login", json={"email": ORGANIZER[0], "password": ORGANIZER[1]})
        organizer = bearer(login.json()["token"])
        event = (await http.post("/api/events", json=EVENT_BODY, headers=organizer)).json()
        built = Market(live_server, organizer, event)
        for n, (key, stall) in enumerate(STALLS.items(), start=1):
            invites = await http.post(f"/api/events/{event['slug']}/invites", json={"count": 1}, headers=organizer)
            codes = invites.json()
            email, password = f"vendor{n}@example.org", "vendor-pass"
            joined = await http.post(
                "/api/vendors/join",
                json={
                    "invite_code": codes["codes"][0],
                    "email": email,
                    "password": password,
                    "display_name": f"Vendor {n}",
                    "stall": stall,
                },
            )
            assert joined.status_code == 201, joined.text
            vendor = bearer(joined.json()["token"])
            built.stalls[key], built.vendors[key], built.logins[key] = joined.json()["stall"], vendor, (email, password)
            for spec in ITEMS[key]:
                body = {k: v for k, v in spec.items() if k != "photo"}
                if spec.get("photo"):
                    files = {"file": ("honey.jpg", jpeg(), "image/jpeg")}
                    uploaded = await http.post("/api/photos", files=files, headers=vendor)
                    assert uploaded.status_code == 201, uploaded.text
                    body["photo_keys"] = [uploaded.json()["photo"]["key"]]
                made = await http.post(f"/api/stalls/{built.stalls[key]['code']}/items", json=body, headers=vendor)
                assert made.status_code == 201, made.text
                built.items[str(spec["title"])] = made.json()
    return built


@contextmanager
def chromium_profile(folder: Path, service_workers: Literal["allow", "block"] = "allow") -> Iterator[BrowserContext]:
    """A persistent (non-incognito) Chromium profile in `folder`, phone-sized."""
    with sync_playwright() as pw:
        browser_context = pw.chromium.launch_persistent_context(
            str(folder),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 390, "height": 844},
            locale="en-GB",
            service_workers=service_workers,
        )
        try:
            yield browser_context
        finally:
            browser_context.close()


@contextmanager
def two_profiles(folder: Path) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """Two separate persistent Chromium profiles (two phones), from one Playwright instance."""
    with sync_playwright() as pw:
        contexts = [
            pw.chromium.launch_persistent_context(
                str(folder / name),
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 390, "height": 844},
                locale="en-GB",
            )
            for name in ("phone-a", "phone-b")
        ]
        try:
            yield contexts[0], contexts[1]
        finally:
            for browser_context in contexts:
                browser_context.close()


@pytest.fixture
def context(tmp_path: Path, market: Market) -> Iterator[BrowserContext]:
    """A fresh browser profile for this test.

    It depends on `market` so the async fixtures are set up before Playwright's synchronous
    API starts its own event loop, and torn down after it has stopped.
    """
    with chromium_profile(tmp_path / "profile") as browser_context:
        yield browser_context


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


# Once a worker is active: "controlled", or "missed" if its claim has not reached the page within 5 s.
CONTROLLED_ONCE_ACTIVE = """navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller ? "controlled"
  : new Promise((resolve) => {
      navigator.serviceWorker.addEventListener("controllerchange", () => resolve("controlled"), { once: true });
      setTimeout(() => resolve(navigator.serviceWorker.controller ? "controlled" : "missed"), 5000);
    }))"""


def open_controlled(page: Page, url: str) -> None:
    """Open `url` and wait until the service worker controls the page and the replica is full.

    A worker that becomes active while this page is still loading cannot claim it (clients.claim()
    never takes a navigation already under way): the page then stays uncontrolled until its next
    load, as a person's next visit would be. Such a page is reloaded once."""
    page.goto(url)
    settled = page.wait_for_function(CONTROLLED_ONCE_ACTIVE, timeout=15000).json_value()
    if settled != "controlled":
        page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)


OUTBOX_EMPTY = """() => new Promise((resolve) => {
    const open = indexedDB.open("souk");
    open.onsuccess = () => {
        const db = open.result;
        const count = db.transaction("outbox").objectStore("outbox").count();
        count.onsuccess = () => { db.close(); resolve(count.result === 0); };
    };
})"""


def outbox(page: Page) -> list[dict[str, Any]]:
    """The queued mutations, read straight from IndexedDB (photos left out)."""
    result: list[dict[str, Any]] = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("souk");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                const all = db.transaction("outbox").objectStore("outbox").getAll();
                all.onsuccess = () => {
                    db.close();
                    resolve(all.result.map(({ photo, ...rest }) => ({ ...rest, has_photo: Boolean(photo) })));
                };
                all.onerror = () => reject(all.error);
            };
        })"""
    )
    return result


def wait_until_sent(page: Page, timeout: float = 20) -> None:
    """Wait until every queued change has the server's answer: the outbox is empty.

    It polls with `evaluate`, which awaits the Promise; `wait_for_function(OUTBOX_EMPTY)` would
    take the Promise object itself as truthy and return at once.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(OUTBOX_EMPTY):
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbox still holds {outbox(page)} after {timeout:.0f} s")
        page.wait_for_timeout(200)


def inbox_messages(market: Market, key: str) -> list[dict[str, Any]]:
    """Every message in vendor `key`'s inbox, straight from the server's HTTP API."""
    with market.http() as http:
        found: list[dict[str, Any]] = []
        for conversation in http.get("/api/conversations", headers=market.vendors[key]).json():
            found += http.get(f"/api/conversations/{conversation['id']}/messages", headers=market.vendors[key]).json()
        return found


def sign_in_vendor(page: Page, market: Market, key: str) -> None:
    email, password = market.logins[key]
    page.goto(f"{market.base}/app/#/vendor")
    page.get_by_label("Email", exact=True).first.fill(email)
    page.get_by_label("Password", exact=True).first.fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="List an item").wait_for()


def sw_registration_id(cdp: Any, origin: str) -> str:
    """The service worker's registration id, from CDP's ServiceWorker domain."""
    found: list[str] = []

    def updated(event: dict[str, Any]) -> None:
        found.extend(r["registrationId"] for r in event["registrations"] if r["scopeURL"].startswith(origin))

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if found:
            return found[0]
        cdp.send("Runtime.evaluate", {"expression": "1"})  # lets the event arrive
    raise AssertionError("no service worker registration reported")


# A pulled format-1 change as the apps stored it before sync format 2 (pwa/kit/replica.js
# toRecord then): the upgrade tests write old replicas with it, substituted for OLD_RECORD in their scripts.
OLD_RECORD = """(({ entity, id, version, data }) => ({
  key: `${entity}:${id}`, entity, id: String(id), version,
  event_id: entity === "event" || entity === "totals" ? String(id) : data?.event_id ?? null,
  parent: entity === "message" ? data?.conversation_id ?? null : data?.stall_id ?? null,
  data,
}))"""

# The titles of the items in the app's IndexedDB replica (the "records" store, an item bundle per
# stall: pwa/bundles.js), sorted.
REPLICA_TITLES = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const db = open.result;
        const bundles = IDBKeyRange.bound("items:", "items:\\uffff");
        const all = db.transaction("records").objectStore("records").getAll(bundles);
        all.onsuccess = () => {
            db.close();
            const items = all.result.flatMap((bundle) => Object.values(bundle.items)); // one record per stall
            resolve(items.filter((r) => r.data).map((r) => r.data.title).sort());
        };
        all.onerror = () => reject(all.error);
    };
})"""
