"""The service worker's other duties: pushes become notifications, and a new version is offered
to the person ("update available") instead of reloading the page under them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

import pwa
from server.settings import Settings
from tests.browser.conftest import Market, chromium_profile, open_controlled, sw_registration_id
from tests.conftest import free_port

NOTIFICATIONS = """navigator.serviceWorker.ready
    .then((r) => r.getNotifications())
    .then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))"""


def test_push_message_shows_a_notification(context: BrowserContext, page: Page, market: Market) -> None:
    subscribed: list[str] = []
    context.on("request", lambda r: subscribed.append(r.url) if "/api/push/" in r.url else None)
    context.grant_permissions(["notifications"], origin=market.base)
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    page.goto(f"{market.base}/app/#/conversations")
    expect(page.get_by_role("button", name="Notify me about replies")).to_be_visible()
    assert subscribed == [], "never subscribe on page load, only after a tap"

    # The worker tells open pages once it has shown the notification (they pull then).
    listen = "(e) => { window.pushed ||= e.data.type === 'pushed'; }"
    page.evaluate(f"() => navigator.serviceWorker.addEventListener('message', {listen})")
    cdp = context.new_cdp_session(page)
    url = f"{market.base}/app/#/conversations/7d6f0b2e-3a8e-4a57-9d0a-4a2b1c0e9f11"
    payload = {"title": "Mabel's Honey", "body": "Yes, it is still available!", "url": url, "tag": "conversation-7d6f"}
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": market.base, "registrationId": sw_registration_id(cdp, market.base), "data": json.dumps(payload)},
    )
    page.wait_for_function("window.pushed === true")
    # (Polled gently: asking Chromium for the list every frame while it stores one can lose it.)
    found = page.wait_for_function(f"({NOTIFICATIONS}).then((list) => (list.length ? list : null))", polling=250)
    shown = found.json_value()
    expected = {"title": "Mabel's Honey", "body": "Yes, it is still available!", "tag": "conversation-7d6f"}
    assert shown == [{**expected, "data": {"url": url}}]

    # A tap on it: headless Chromium has no CDP call to click a notification, so the worker's own
    # handler gets a NotificationEvent for the shown notification. The open page goes to the
    # conversation, and the notification is gone.
    worker = next(w for w in context.service_workers if w.url.startswith(market.base))
    worker.evaluate(
        """async () => {
            const [notification] = await self.registration.getNotifications();
            self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
        }"""
    )
    expect(page).to_have_url(url)
    page.wait_for_function(f"({NOTIFICATIONS}).then((list) => list.length === 0)", polling=250)


class Deployment:
    """`souk serve` run from a copy of the app, so a test can deploy a changed copy on the same
    address (same origin: the installed service worker then sees a new version)."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings, self.root = settings, root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.release = 0

    def deploy(self, change: str = "") -> None:
        """Stop the running release (if any) and serve a fresh copy of pwa/, with `change`
        appended to its stylesheet."""
        self.stop()
        self.release += 1
        folder = self.root / f"release-{self.release}"
        shutil.copytree(Path(pwa.__file__).parent, folder / "pwa", ignore=shutil.ignore_patterns("__pycache__"))
        with (folder / "pwa" / "app.css").open("a") as css:
            css.write(change)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
        env.update(
            SOUK_DATA_DIR=str(self.settings.data_dir),
            SOUK_DATABASE_URL=self.settings.database_url,
            SOUK_PORT=str(self.port),
            SOUK_BASE_URL=self.base,
        )
        # Run from the release folder: `import pwa` then finds the copy before the repository's.
        command = [sys.executable, "-m", "server.cli", "serve", "--no-migrate"]
        self.process = subprocess.Popen(command, env=env, cwd=folder)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the new release did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture
def deployment(db: Settings, tmp_path: Path) -> Iterator[Deployment]:
    releases = Deployment(db, tmp_path)
    releases.deploy()
    yield releases
    releases.stop()


def test_a_new_version_is_offered_not_forced(deployment: Deployment, tmp_path: Path) -> None:
    with chromium_profile(tmp_path / "profile") as context:
        page = context.pages[0]
        page.goto(f"{deployment.base}/app/")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        first = page.evaluate("caches.keys()")
        page.evaluate("window.stillTheSamePage = true")

        deployment.deploy("\n/* release 2 */\n")
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        banner = page.get_by_role("alert").filter(has_text="A new version of Souk is ready.")
        expect(banner).to_be_visible(timeout=15000)
        # Nothing reloaded by itself: the old version still runs this page; the new one waits.
        assert page.evaluate("window.stillTheSamePage") is True
        registration = "navigator.serviceWorker.getRegistration().then((r) => [!!r.waiting, !!r.active])"
        assert page.evaluate(registration) == [True, True]
        assert page.evaluate("caches.keys()") != first  # the new version precached beside the old

        banner.get_by_role("button", name="Update now").click()
        page.wait_for_function("window.stillTheSamePage === undefined && navigator.serviceWorker.controller !== null")
        old_shell = [name for name in first if name.startswith("souk-shell-")]
        assert old_shell and not set(old_shell) & set(page.evaluate("caches.keys()")), "old caches deleted"
        expect(page.get_by_role("alert").filter(has_text="A new version")).to_have_count(0)
