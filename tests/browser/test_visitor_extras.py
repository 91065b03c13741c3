"""A visitor's extras in a real browser: carrying conversations to another browser with a resume
code (a second, fresh profile takes them over; a spent code is refused with the server's reason),
and a photo sent in a chat message while offline, delivered once with the image intact."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import BrowserContext, FilePayload, Page, expect

from tests.browser.conftest import (
    OUTBOX_EMPTY,
    Market,
    inbox_messages,
    jpeg,
    open_controlled,
    outbox,
    sign_in_vendor,
    two_profiles,
)
from tests.browser.test_accessibility import AUDIT

IMAGE_LOADED = "(img) => img.complete && img.naturalWidth > 0"
DEVICE_TOKEN = """() => new Promise((resolve) => {
    const open = indexedDB.open("souk");
    open.onsuccess = () => {
        const get = open.result.transaction("kv").objectStore("kv").get("identity:device");
        get.onsuccess = () => { open.result.close(); resolve(get.result?.token ?? null); };
    };
})"""


def _first_page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


def _send(page: Page, body: str, *, delivered: bool = True) -> None:
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_role("button", name="Send", exact=True).click()
    mine = page.locator(".msg.mine", has_text=body)
    answered = re.compile(r"^mark (sent|delivered|read)$") if delivered else re.compile(r"^mark pending$")
    expect(mine.locator(".mark")).to_have_class(answered, timeout=15000)


def _audit(page: Page) -> list[str]:
    """The accessibility audit of test_accessibility.py (labels, 44 px targets, 7:1 contrast…) at 360 px."""
    page.set_viewport_size({"width": 360, "height": 740})
    problems: list[str] = page.evaluate(AUDIT)
    page.set_viewport_size({"width": 390, "height": 844})
    return problems


def _use_code(page: Page, code: str) -> None:
    page.get_by_label("Code from your other phone").fill(code)
    page.get_by_role("button", name="Use this code").click()


def test_resume_code_moves_conversations_to_another_browser(tmp_path: Path, market: Market) -> None:
    olive = market.stalls["olive"]
    with two_profiles(tmp_path) as (phone_a, phone_b):
        # Visitor A messages a stall, then asks for a code from the Messages list.
        a = _first_page(phone_a)
        open_controlled(a, f"{market.base}/s/{olive['code']}")
        a.get_by_role("link", name="Message the seller").click()
        _send(a, "Is the za'atar blend fresh this week?")
        a.get_by_role("link", name="Messages", exact=True).click()
        a.get_by_role("link", name="Move conversations to or from another phone").click()
        expect(a.get_by_role("heading", name="Move your conversations")).to_be_visible()
        a.get_by_role("button", name="Show my code").click()
        shown = a.locator(".resume-code")
        expect(shown).to_have_text(re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}$"))
        code = shown.inner_text()
        old_token = a.evaluate(DEVICE_TOKEN)
        expect(a.locator(".resume-shown")).to_contain_text("Valid once, until")
        expect(a.locator(".resume-shown")).to_contain_text("other phone or browser")
        assert _audit(a) == []

        # Visitor B, a fresh browser that has never opened the market, types it in (with a
        # space instead of the dash, in lower case, as people do).
        b = _first_page(phone_b)
        b.goto(f"{market.base}/app/#/resume")
        expect(b.get_by_role("heading", name="Move your conversations")).to_be_visible()
        b.get_by_role("button", name="Use this code").click()
        expect(b.get_by_role("alert")).to_have_text("Type the code shown on your other phone first.")
        phone_b.set_offline(True)
        expect(b.get_by_text("This needs a connection")).to_be_visible()
        _use_code(b, code)
        expect(b.get_by_role("alert")).to_contain_text("Using a code needs a connection")
        phone_b.set_offline(False)
        expect(b.get_by_text("This needs a connection")).to_be_hidden()

        _use_code(b, code.replace("-", " ").lower())
        expect(b.get_by_role("heading", name="Messages")).to_be_visible(timeout=15000)
        conversation = b.locator(".conv-link", has_text="Olive House")
        expect(conversation).to_have_count(1, timeout=15000)
        conversation.click()
        expect(b.locator(".msg.mine", has_text="za'atar blend fresh").locator(".mark.sent")).to_be_visible()

        # B now speaks as the same visitor: a reply goes into A's conversation.
        _send(b, "Written on my other phone")
        bodies = [m["body"] for m in inbox_messages(market, "olive") if m["sender"] == "visitor"]
        assert bodies == ["Is the za'atar blend fresh this week?", "Written on my other phone"]
        # The identity moved rather than being copied: A's old token was revoked, so A starts afresh
        # as a new visitor (a new device token, none of the moved conversations left on it).
        a.reload()  # (or its socket's next ping: either way it meets the 401 and takes a new token)
        for _ in range(75):  # the new identity is saved by the pull that met the 401
            if a.evaluate(DEVICE_TOKEN) not in (None, old_token):
                break
            a.wait_for_timeout(200)
        assert a.evaluate(DEVICE_TOKEN) not in (None, old_token)
        a.get_by_role("link", name="Messages", exact=True).click()
        expect(a.get_by_text("No conversations yet")).to_be_visible(timeout=15000)
        expect(a.locator(".conv-link")).to_have_count(0)
        with market.http() as http:
            assert http.get("/api/conversations", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401

        # The code was single-use; an unknown one is refused too, with the server's reason.
        b.goto(f"{market.base}/app/#/resume")
        _use_code(b, code)
        alert = b.get_by_role("alert").filter(has_text="did not work")
        expect(alert).to_contain_text("This code has already been used")
        expect(b.get_by_label("Code from your other phone")).to_have_attribute("aria-invalid", "true")
        _use_code(b, "ZZZZZ-ZZZZZ")
        expect(alert).to_contain_text("Unknown code")
        assert _audit(b) == []
        # Nothing changed on B: still A's conversation.
        b.get_by_role("link", name="Messages", exact=True).click()
        expect(b.locator(".conv-link")).to_have_text([re.compile("Olive House")])


def test_photo_message_sent_offline_arrives_once(context: BrowserContext, page: Page, market: Market) -> None:
    honey = market.stalls["honey"]
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    page.get_by_role("link", name="Message the seller").click()
    _send(page, "Hello! I have a question about a jar.")

    context.set_offline(True)
    add = page.get_by_role("button", name="Add photo")
    box = add.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    camera = page.get_by_label("Photo to send")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    photo: FilePayload = {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": jpeg(2400, 1800, (90, 140, 60))}
    with page.expect_file_chooser() as chooser:
        add.click()
    chooser.value.set_files(photo)
    preview = page.get_by_role("img", name="Photo to send")
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(IMAGE_LOADED, arg=preview.element_handle())

    # Removed, then chosen again: one photo goes with the message.
    page.get_by_role("button", name="Remove photo").click()
    expect(preview).to_have_count(0)
    expect(page.get_by_role("button", name="Add photo")).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add photo").click()
    chooser.value.set_files(photo)
    expect(preview).to_be_visible()
    body = "This one, with the blue lid (sent offline)"
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(preview).to_have_count(0)

    mine = page.locator(".msg.mine", has_text=body)
    expect(mine).to_contain_text("Waiting to send")
    local = mine.locator("img.msg-photo")
    expect(local).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(IMAGE_LOADED, arg=local.element_handle())
    queued = [(e["name"], e["args"]["body"], e["has_photo"]) for e in outbox(page)]
    assert queued == [("send_message", body, True)]
    assert [m for m in inbox_messages(market, "honey") if m["photo"]] == []

    # Still there, still a real picture, after a reload with no network.
    page.reload()
    mine = page.locator(".msg.mine", has_text=body)
    expect(mine).to_contain_text("Waiting to send")
    page.wait_for_function(IMAGE_LOADED, arg=mine.locator("img.msg-photo").element_handle())

    # Back online: the photo is uploaded, then the message sent with its key, exactly once.
    context.set_offline(False)
    expect(mine.locator(".mark.pending")).to_have_count(0, timeout=20000)
    expect(mine.locator("img.msg-photo")).to_have_attribute("src", re.compile(r"^/photos/"))
    assert outbox(page) == []
    messages = inbox_messages(market, "honey")
    assert [m["body"] for m in messages if m["sender"] == "visitor"] == ["Hello! I have a question about a jar.", body]
    with_photo = [m for m in messages if m["photo"]]
    assert len(with_photo) == 1 and with_photo[0]["body"] == body
    with market.http() as http:
        original = http.get(with_photo[0]["photo"]["original"])
        assert original.status_code == 200 and original.headers["content-type"].startswith("image/")
        image = Image.open(io.BytesIO(original.content))
        image.load()
        assert image.size == (1600, 1200), "resized in the browser before upload"
        thumb = Image.open(io.BytesIO(http.get(with_photo[0]["photo"]["thumb"]).content))
        assert max(thumb.size) <= 320

    # The seller sees it in their inbox.
    sign_in_vendor(page, market, "honey")
    page.get_by_role("link", name="Messages", exact=True).click()
    page.locator(".conv-link").first.click()
    theirs = page.locator(".msg.theirs", has_text=body)
    expect(theirs.locator("img.msg-photo")).to_have_attribute("src", with_photo[0]["photo"]["thumb"])
    page.wait_for_function(IMAGE_LOADED, arg=theirs.locator("img.msg-photo").element_handle())


def test_resume_waits_for_this_phones_queuedinbox_messages(tmp_path: Path, market: Market) -> None:
    """What B still has queued would go out as A (and be refused in B's own conversations): the
    code is not spent until it has been sent; then B's own conversations make way for A's."""
    honey, olive = market.stalls["honey"], market.stalls["olive"]
    with two_profiles(tmp_path) as (phone_a, phone_b):
        a = _first_page(phone_a)
        open_controlled(a, f"{market.base}/s/{olive['code']}")
        a.get_by_role("link", name="Message the seller").click()
        _send(a, "Do you sell the oil by the litre?")
        a.goto(f"{market.base}/app/#/resume")
        a.get_by_role("button", name="Show my code").click()
        code = a.locator(".resume-code").inner_text()

        # B has a conversation of its own, and a message in it that cannot be pushed yet.
        b = _first_page(phone_b)
        open_controlled(b, f"{market.base}/s/{honey['code']}")
        b.get_by_role("link", name="Message the seller").click()
        _send(b, "Are you here on Sunday too?")
        phone_b.route("**/api/sync/push", lambda route: route.fulfill(status=503, body="busy"))
        _send(b, "Queued while the server is busy", delivered=False)
        b.goto(f"{market.base}/app/#/resume")
        expect(b.get_by_text("The conversation on this phone now will be replaced")).to_be_visible()
        _use_code(b, code)
        expect(b.get_by_role("alert")).to_contain_text("A message from this phone is still waiting to be sent")
        expect(b.get_by_role("alert")).to_contain_text("your code has not been used")

        # Once the server answers again, the same code works: B's queued message is sent first,
        # as B, into B's own conversation; then B becomes A.
        phone_b.unroute("**/api/sync/push")
        _use_code(b, code)
        expect(b.get_by_role("heading", name="Messages")).to_be_visible(timeout=15000)
        expect(b.locator(".conv-link")).to_have_text([re.compile("Olive House")], timeout=15000)
        assert b.evaluate(OUTBOX_EMPTY)
        honey_bodies = [m["body"] for m in inbox_messages(market, "honey") if m["sender"] == "visitor"]
        assert honey_bodies == ["Are you here on Sunday too?", "Queued while the server is busy"]


def test_an_open_app_takes_a_new_identity_when_its_token_is_revoked(page: Page, market: Market) -> None:
    """The code is spent elsewhere while this app stays open: the server closes its socket (4401)
    at the next ping, and the app recovers with a new visitor token, no reload needed."""
    olive = market.stalls["olive"]
    open_controlled(page, f"{market.base}/s/{olive['code']}")
    page.get_by_role("link", name="Message the seller").click()
    _send(page, "Hello from the phone that gets left behind")
    old_token = page.evaluate(DEVICE_TOKEN)
    with market.http() as http:
        mine = {"Authorization": f"Bearer {old_token}"}
        code = http.post("/api/devices/resume-code", headers=mine).json()["code"]
        assert http.post("/api/devices/resume", json={"code": code}).status_code == 201
        assert http.get("/api/conversations", headers=mine).status_code == 401
    for _ in range(240):  # the socket pings every 30 s
        if page.evaluate(DEVICE_TOKEN) not in (None, old_token):
            break
        page.wait_for_timeout(250)
    assert page.evaluate(DEVICE_TOKEN) not in (None, old_token), "the app kept its revoked token"
