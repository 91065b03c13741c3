"""The vendor's flows end to end, each checked against the server's state over HTTP: joining
with an invite code (and a bad or spent one), signing in (one stall, stalls at two markets, a
wrong password, a visitor's pull still under way), the stall profile online and offline,
selling (haggled, the last one, more than is left), reserve/release on the dashboard, and quick
replies plus "reserve for this visitor" in a conversation with a visitor.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import BrowserContext, Locator, Page, Route, expect

from tests.browser.conftest import Market, open_controlled, outbox, sign_in_vendor, wait_until_sent
from tests.conftest import EVENT_BODY, bearer
from tests.pdf_qr import qr_texts_per_page

T = TypeVar("T")
JOIN_FORM = "New here? Join with an invite code"

VENDOR_IDENTITY = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const db = open.result;
        const get = db.transaction("kv").objectStore("kv").get("identity:vendor");
        get.onsuccess = () => { db.close(); resolve(get.result ?? null); };
        get.onerror = () => reject(get.error);
    };
})"""


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = 20.0) -> T:
    """Poll (the server, or the page's IndexedDB) until `done(read())`; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout:.0f} s")
        time.sleep(0.2)  # the polling interval, not a synchronisation guess


def vendor_identity(page: Page) -> dict[str, Any] | None:
    """The signed-in vendor as the app stored it (only once the app has opened its database)."""
    found: dict[str, Any] | None = page.evaluate(VENDOR_IDENTITY)
    return found


def title(page: Page) -> Locator:
    return page.locator("#page-title")


def invite_codes(market: Market, slug: str | None = None, count: int = 1) -> list[str]:
    with market.http() as http:
        made = http.post(
            f"/api/events/{slug or market.event['slug']}/invites", json={"count": count}, headers=market.organizer
        )
        assert made.status_code == 201, made.text
        codes: list[str] = made.json()["codes"]
        return codes


def event_stalls(market: Market) -> list[dict[str, Any]]:
    with market.http() as http:
        stalls: list[dict[str, Any]] = http.get(f"/api/events/{market.event['slug']}/stalls").json()
        return stalls


def item(market: Market, title_: str) -> dict[str, Any]:
    with market.http() as http:
        found = http.get(f"/api/items/{market.items[title_]['id']}")
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        return body


def sales_of(market: Market, title_: str) -> list[tuple[int, str]]:
    """(quantity, amount) of every sale of the item, from the organizer's sales export."""
    with market.http() as http:
        export = http.get(f"/api/events/{market.event['slug']}/sales.csv", headers=market.organizer)
        assert export.status_code == 200, export.text
    return [(int(r["quantity"]), r["amount"]) for r in csv.DictReader(io.StringIO(export.text)) if r["item"] == title_]


def visitor_asks(market: Market, body: str) -> tuple[str, dict[str, str]]:
    """A visitor's phone (a device token over the API) asks the honey stall about the honey."""
    with market.http() as http:
        visitor = bearer(http.post("/api/devices").json()["token"])
        opened = http.post(
            "/api/conversations",
            json={"stall_code": market.stalls["honey"]["code"], "item_id": market.items["Wildflower honey"]["id"]},
            headers=visitor,
        )
        assert opened.status_code == 201, opened.text
        conversation: str = opened.json()["id"]
        asked = http.post(
            f"/api/conversations/{conversation}/messages",
            json={"message_id": str(uuid.uuid4()), "body": body},
            headers=visitor,
        )
        assert asked.status_code == 201, asked.text
    return conversation, visitor


def fill_join_form(page: Page, invite_code: str, stall: dict[str, str], person: dict[str, str]) -> None:
    form = page.get_by_role("form", name=JOIN_FORM)
    form.get_by_label("Invite code").fill(invite_code)
    form.get_by_label("Stall name").fill(stall["name"])
    form.get_by_label("Store hashtag").fill(stall["store_tag"])
    form.get_by_label("Stall number").fill(stall["number"])
    form.get_by_label("Where at the market").fill(stall["location"])
    form.get_by_label("Your name").fill(person["name"])
    form.get_by_label("Email").fill(person["email"])
    form.get_by_label("Password").fill(person["password"])
    form.get_by_role("button", name="Join the market").click()


def sign_in_form(page: Page, email: str, password: str) -> None:
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def signed_in_at_honey(page: Page, market: Market) -> None:
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    sign_in_vendor(page, market, "honey")
    expect(title(page)).to_have_text("Mabel's Honey")


# --- 1. joining with an invite code ------------------------------------------------------------

PICKLES = {"name": "Pickle & Pepper", "store_tag": "#PicklePepper", "number": "C12", "location": "Under the clock"}
PRIYA = {"name": "Priya", "email": "priya@example.org", "password": "pickles-forever"}


def test_join_with_an_invite_code_opens_the_new_stall(page: Page, market: Market) -> None:
    code = invite_codes(market)[0]
    page.goto(f"{market.base}/app/#/vendor")
    fill_join_form(page, code, PICKLES, PRIYA)

    expect(title(page)).to_have_text("Pickle & Pepper", timeout=15000)
    expect(page.get_by_role("link", name="List an item")).to_be_visible()
    expect(page.get_by_text("Nothing listed yet")).to_be_visible()
    expect(page.get_by_text("Signed in as Priya.")).to_be_visible()

    with market.http() as http:
        login = http.post("/api/auth/login", json={"email": PRIYA["email"], "password": PRIYA["password"]})
        assert login.status_code == 201, login.text
        assert (login.json()["role"], login.json()["display_name"]) == ("vendor", "Priya")
        mine = http.get("/api/vendors/me/stalls", headers=bearer(login.json()["token"])).json()
        assert len(mine) == 1
        stall = mine[0]
        assert {k: stall[k] for k in PICKLES} == PICKLES
        assert stall["event_id"] == market.event["id"]
        invites = http.get(f"/api/events/{market.event['slug']}/invites", headers=market.organizer).json()
        spent = {i["code"]: i for i in invites}[code]
        assert spent["used"] and spent["vendor_name"] == "Priya" and spent["stall"]["name"] == "Pickle & Pepper"
    assert stall["code"] in [s["code"] for s in event_stalls(market)]
    expect(page.locator(".vendor > p.meta").first).to_have_text(f"Stall C12 · #PicklePepper · code {stall['code']}")
    identity = vendor_identity(page)
    assert identity is not None and (identity["stall_code"], identity["event_slug"]) == (stall["code"], "ripe-jan")


def test_join_with_a_bad_or_spent_invite_code_says_why_and_creates_nothing(page: Page, market: Market) -> None:
    spent = invite_codes(market)[0]
    with market.http() as http:  # someone else already joined with this one
        joined = http.post(
            "/api/vendors/join",
            json={
                "invite_code": spent,
                "email": "first@example.org",
                "password": "first-pass",
                "display_name": "First",
                "stall": {"name": "First In", "store_tag": "#FirstIn"},
            },
        )
        assert joined.status_code == 201, joined.text
    before = sorted(s["code"] for s in event_stalls(market))

    page.goto(f"{market.base}/app/#/vendor")
    alert = page.locator("main").get_by_role("alert")
    fill_join_form(page, "ZZZZ-9999", PICKLES, PRIYA)
    expect(alert).to_have_text("This invite code does not exist; check it with the organizer")

    page.get_by_role("form", name=JOIN_FORM).get_by_label("Invite code").fill(spent)
    page.get_by_role("form", name=JOIN_FORM).get_by_role("button", name="Join the market").click()
    expect(alert).to_have_text("This invite code has already been used")
    expect(page.get_by_role("form", name=JOIN_FORM).get_by_label("Invite code")).to_be_focused()

    expect(page.get_by_role("link", name="List an item")).to_have_count(0)
    assert vendor_identity(page) is None
    assert sorted(s["code"] for s in event_stalls(market)) == before
    assert "Pickle & Pepper" not in [s["name"] for s in event_stalls(market)]
    with market.http() as http:
        login = http.post("/api/auth/login", json={"email": PRIYA["email"], "password": PRIYA["password"]})
        assert login.status_code == 401, "no account was made either"


# --- 2. signing in ---------------------------------------------------------------------------

WINTER = {"name": "Mabel's Honey (Winter)", "store_tag": "#MabelsWinter", "number": "W03", "location": "Hall"}


def test_sign_in_with_stalls_at_two_markets_asks_which_one(page: Page, market: Market) -> None:
    with market.http() as http:
        body = {**EVENT_BODY, "name": "Ripe Market — February", "slug": "ripe-feb", "hashtag": "#RipeMarketFeb"}
        made = http.post("/api/events", json=body, headers=market.organizer)
        assert made.status_code == 201, made.text
        code = invite_codes(market, "ripe-feb")[0]
        joined = http.post(
            "/api/vendors/join", json={"invite_code": code, "stall": WINTER}, headers=market.vendors["honey"]
        )
        assert joined.status_code == 201, joined.text
        winter = joined.json()["stall"]

    page.goto(f"{market.base}/app/#/vendor")  # a new phone: no market known yet
    email, password = market.logins["honey"]
    sign_in_form(page, email, password)

    choices = page.get_by_role("region", name="Which stall?").get_by_role("button")
    expect(choices).to_have_text(
        ["Mabel's Honey — Ripe Market — January", "Mabel's Honey (Winter) — Ripe Market — February"]
    )
    assert vendor_identity(page) is None, "nothing is opened before the vendor chooses"
    choices.nth(1).click()

    expect(title(page)).to_have_text("Mabel's Honey (Winter)", timeout=15000)
    expect(page.get_by_text(f"Stall W03 · #MabelsWinter · code {winter['code']}")).to_be_visible()
    expect(page.get_by_text("Nothing listed yet")).to_be_visible()  # none of January's items
    identity = vendor_identity(page)
    assert identity is not None
    assert (identity["stall_code"], identity["event_slug"]) == (winter["code"], "ripe-feb")
    with market.http() as http:
        me = http.get("/api/auth/me", headers=bearer(identity["token"]))
        assert me.status_code == 200, me.text
        assert me.json()["account_id"] == identity["account_id"]
        ours = http.get("/api/auth/me", headers=market.vendors["honey"]).json()["account_id"]
        assert me.json()["account_id"] == ours


def test_sign_in_at_a_market_opens_that_markets_stall_without_asking(page: Page, market: Market) -> None:
    with market.http() as http:
        body = {**EVENT_BODY, "name": "Ripe Market — February", "slug": "ripe-feb", "hashtag": "#RipeMarketFeb"}
        assert http.post("/api/events", json=body, headers=market.organizer).status_code == 201
        code = invite_codes(market, "ripe-feb")[0]
        joined = http.post(
            "/api/vendors/join", json={"invite_code": code, "stall": WINTER}, headers=market.vendors["honey"]
        )
        assert joined.status_code == 201, joined.text

    signed_in_at_honey(page, market)  # came from January's stall page: January's stall, no question
    expect(page.get_by_text("Which stall?")).to_have_count(0)
    identity = vendor_identity(page)
    assert identity is not None
    assert (identity["stall_code"], identity["event_slug"]) == (market.stalls["honey"]["code"], "ripe-jan")


def test_signing_in_while_a_visitor_pull_is_under_way_still_brings_the_inbox(page: Page, market: Market) -> None:
    """The phone was browsing as a visitor; its pull answers only after the vendor has signed
    in. The vendor's pull must not go on from the visitor's cursor, which skipped past the
    conversations that were not the visitor's."""
    conversation, _ = visitor_asks(market, "Could you keep a jar for me?")
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    held: list[Route] = []

    def hold_the_first_pull(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/sync/pull", hold_the_first_pull)
    with page.expect_request("**/api/sync/pull"):
        page.goto(f"{market.base}/app/#/vendor")  # the visitor's pull at start
    email, password = market.logins["honey"]
    sign_in_form(page, email, password)
    expect(page.get_by_role("link", name="List an item")).to_be_visible()
    assert len(held) == 1, "the visitor's pull is still waiting for its answer"
    held[0].continue_()

    page.get_by_role("link", name=re.compile(r"^Inbox")).click()
    link = page.locator(".conv-link")
    expect(link).to_have_count(1, timeout=15000)
    expect(link).to_have_attribute("href", f"/app/#/conversations/{conversation}")
    expect(link).to_contain_text("Could you keep a jar for me?")


def test_wrong_password_says_so_then_the_right_one_opens_the_stall(page: Page, market: Market) -> None:
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    page.goto(f"{market.base}/app/#/vendor")
    email, password = market.logins["honey"]
    sign_in_form(page, email, "not-the-password")
    expect(page.locator("main").get_by_role("alert")).to_have_text("Wrong email or password")
    expect(page.get_by_role("link", name="List an item")).to_have_count(0)
    assert vendor_identity(page) is None

    sign_in_form(page, email, password)
    expect(title(page)).to_have_text("Mabel's Honey", timeout=15000)
    expect(page.locator(".item-row")).to_have_count(3)
    identity = vendor_identity(page)
    assert identity is not None and identity["stall_code"] == market.stalls["honey"]["code"]
    with market.http() as http:
        mine = http.get("/api/vendors/me/stalls", headers=bearer(identity["token"]))
        assert mine.status_code == 200, mine.text
        assert [s["code"] for s in mine.json()] == [market.stalls["honey"]["code"]]


# --- 3. the stall profile --------------------------------------------------------------------

PROFILE = {
    "name": "Mabel's Honey & Wax",
    "description": "Raw honey from our own hives.\nBeeswax candles, hand-dipped.",
    "location": "Next to the bandstand",
}


def edit_profile(page: Page) -> None:
    page.get_by_role("link", name="Edit stall profile").click()
    expect(title(page)).to_have_text("Stall profile")
    expect(page.get_by_label("Stall name")).to_have_value("Mabel's Honey")
    page.get_by_label("Stall name").fill(PROFILE["name"])
    page.get_by_label("Description").fill(PROFILE["description"])
    page.get_by_label("Where at the market").fill(PROFILE["location"])
    page.get_by_role("button", name="Save").click()
    expect(title(page)).to_have_text(PROFILE["name"])


def stall_on_server(market: Market) -> dict[str, Any]:
    with market.http() as http:
        stall: dict[str, Any] = http.get(f"/api/stalls/{market.stalls['honey']['code']}").json()
        return stall


def assert_profile_saved(market: Market) -> None:
    stall = stall_on_server(market)
    assert {k: stall[k] for k in PROFILE} == PROFILE
    assert (stall["store_tag"], stall["number"]) == ("#MabelsHoney", "A01"), "unchanged fields stay"


def test_stall_profile_edit_reaches_the_server(page: Page, market: Market) -> None:
    signed_in_at_honey(page, market)
    edit_profile(page)
    wait_until_sent(page)
    assert_profile_saved(market)
    expect(page.locator(".notice.pending-count")).to_have_count(0)


def test_stall_profile_edited_offline_waits_then_arrives(context: BrowserContext, page: Page, market: Market) -> None:
    signed_in_at_honey(page, market)
    context.set_offline(True)
    edit_profile(page)

    waiting = page.locator(".notice.pending-count")
    expect(waiting).to_contain_text("1 change is saved on this phone and will be sent when there is a connection")
    queued = outbox(page)
    assert [(e["name"], e["args"]) for e in queued] == [
        ("update_stall", {"code": market.stalls["honey"]["code"], **PROFILE})
    ]
    assert stall_on_server(market)["name"] == "Mabel's Honey", "nothing sent while offline"

    context.set_offline(False)
    expect(waiting).to_have_count(0, timeout=20000)
    wait_until_sent(page)
    assert_profile_saved(market)
    expect(title(page)).to_have_text(PROFILE["name"])  # the server's state now, the same


# --- 4. selling --------------------------------------------------------------------------------


def test_sell_two_at_a_haggled_price_then_the_last_one(page: Page, market: Market) -> None:
    signed_in_at_honey(page, market)
    row = page.locator(".item-row", has_text="Wildflower honey")
    expect(row).to_contain_text("Available · 3 left")

    row.get_by_role("link", name="Sell Wildflower honey").click()
    expect(title(page)).to_have_text("Mark sold")
    page.get_by_label("How many (3 left)").fill("2")
    amount = page.get_by_label("Amount received (GBP)")
    expect(amount).to_have_value("25.98")  # price × quantity, before the haggling
    amount.fill("20")
    page.get_by_role("button", name="Mark sold").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, mark sold").click()  # it asks first
    expect(row.locator(".state")).to_have_text("Available")  # one left is just "Available"
    wait_until_sent(page)

    honey = item(market, "Wildflower honey")
    assert (honey["quantity"], honey["state"]) == (1, "available")
    assert sales_of(market, "Wildflower honey") == [(2, "20.00")]

    row.get_by_role("link", name="Sell Wildflower honey").click()
    page.get_by_label("How many (1 left)").wait_for()
    expect(page.get_by_label("Amount received (GBP)")).to_have_value("12.99")
    page.get_by_role("button", name="Mark sold").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, mark sold").click()  # it asks first
    expect(row.locator(".state")).to_have_text("Sold")
    expect(row.get_by_role("link", name="Sell Wildflower honey")).to_have_count(0)
    wait_until_sent(page)

    honey = item(market, "Wildflower honey")
    assert (honey["quantity"], honey["state"]) == (0, "sold")
    assert sales_of(market, "Wildflower honey") == [(2, "20.00"), (1, "12.99")]


def test_selling_more_than_is_left_is_refused_with_the_reason(
    context: BrowserContext, page: Page, market: Market
) -> None:
    signed_in_at_honey(page, market)
    row = page.locator(".item-row", has_text="Beeswax candle")
    expect(row).to_contain_text("Available · 5 left")

    context.set_offline(True)
    row.get_by_role("link", name="Sell Beeswax candle").click()
    how_many = page.get_by_label("How many (5 left)")
    how_many.fill("6")  # more than this phone knows of: the form itself refuses
    page.get_by_role("button", name="Mark sold").click()
    assert how_many.evaluate("(input) => input.validity.rangeOverflow") is True
    expect(title(page)).to_have_text("Mark sold")
    assert outbox(page) == []

    how_many.fill("4")
    page.get_by_role("button", name="Mark sold").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, mark sold").click()  # it asks first
    expect(row.locator(".state")).to_have_text("Available")  # 1 left, as far as this phone knows
    expect(row).to_contain_text("Waiting to send")
    assert [(e["name"], e["args"]["quantity"], e["args"]["amount"]) for e in outbox(page)] == [("sell_item", 4, 1800)]

    with market.http() as http:  # meanwhile three go from the other till
        other = http.post(
            f"/api/items/{market.items['Beeswax candle']['id']}/sell",
            json={"quantity": 3},
            headers=market.vendors["honey"],
        )
        assert other.status_code == 201, other.text

    context.set_offline(False)
    rejection = page.locator(".notice.rejected")
    expect(rejection).to_contain_text("Sale of “Beeswax candle”", timeout=20000)
    expect(rejection).to_contain_text("Only 2 left; cannot sell 4")
    expect(row).to_contain_text("Available · 2 left")  # the server's state shows through
    expect(row.locator(".mark.pending")).to_have_count(0)
    wait_until_sent(page)

    candle = item(market, "Beeswax candle")
    assert (candle["quantity"], candle["state"]) == (2, "available")
    assert sales_of(market, "Beeswax candle") == [(3, "13.50")], "the refused sale was not recorded"


# --- 5. reserve and release on the dashboard ---------------------------------------------------


def test_reserve_and_release_from_the_dashboard(page: Page, market: Market) -> None:
    # Holds are per unit (issue 14): holding one of 5 candles leaves 4 on sale; the button that
    # releases it appears, and the one that holds stays while there are units left to hold.
    signed_in_at_honey(page, market)
    row = page.locator(".item-row", has_text="Beeswax candle")

    row.get_by_role("button", name="Hold one Beeswax candle").click()
    page.get_by_role("dialog", name="Hold one Beeswax candle").get_by_role("button", name="15 minutes").click()
    expect(row.locator(".state")).to_have_text("4 available · 1 on hold")
    release = row.get_by_role("button", name="Release hold on Beeswax candle")
    expect(release).to_be_visible()
    wait_until_sent(page)
    candle = item(market, "Beeswax candle")
    assert (candle["state"], candle["held"]) == ("available", 1)
    until = datetime.fromisoformat(candle["reserved_until"])
    assert timedelta(minutes=13) < until - datetime.now(UTC) <= timedelta(minutes=15)

    release.click()
    expect(row.locator(".state")).to_have_text("Available · 5 left")
    expect(row.get_by_role("button", name="Hold one Beeswax candle")).to_be_visible()
    wait_until_sent(page)
    candle = item(market, "Beeswax candle")
    assert (candle["state"], candle["reserved_until"], candle["quantity"], candle["held"]) == ("available", None, 5, 0)


# --- 6. quick replies and reserving for the visitor in a conversation --------------------------

REPLY = "Yes — I can hold one for you until 3 pm 🙂"


def test_quick_reply_and_reserve_for_the_visitor(page: Page, market: Market) -> None:
    honey = market.items["Wildflower honey"]
    conversation, visitor = visitor_asks(market, "Could you keep a jar for me?")

    signed_in_at_honey(page, market)
    page.get_by_role("link", name="Quick replies").click()
    expect(page.get_by_text("None yet.")).to_be_visible()
    page.get_by_label("New quick reply").fill(REPLY)
    page.get_by_role("button", name="Add").click()
    expect(page.locator("ul.replies li")).to_have_text([re.compile(re.escape(REPLY))])
    with market.http() as http:
        saved = http.get("/api/quick-replies", headers=market.vendors["honey"]).json()
        assert [r["text"] for r in saved] == [REPLY]

    page.get_by_role("link", name="Back to my stall").click()
    page.get_by_role("link", name=re.compile(r"^Inbox")).click()
    page.locator(".conv-link", has_text="Could you keep a jar for me?").click()
    expect(page.locator(".msg.theirs", has_text="Could you keep a jar for me?")).to_be_visible()

    page.get_by_role("button", name=REPLY, exact=True).click()
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_have_value(REPLY)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg.mine", has_text=REPLY)).to_contain_text("Sent", timeout=15000)

    def visitor_sees() -> list[dict[str, Any]]:
        with market.http() as http:
            found: list[dict[str, Any]] = http.get(
                f"/api/conversations/{conversation}/messages", headers=visitor
            ).json()
            return found

    messages = eventually(visitor_sees, lambda ms: any(m["sender"] == "vendor" for m in ms), "the vendor's reply")
    assert [m["body"] for m in messages if m["sender"] == "vendor"] == [REPLY]

    page.get_by_role("button", name="Hold one for this visitor…").click()
    page.get_by_role("dialog", name="Hold one Wildflower honey for this visitor").get_by_role(
        "button", name="1 hour"
    ).click()
    expect(page.get_by_text("On hold for this visitor (1 hour); they are told.")).to_be_visible()
    expect(page.get_by_role("button", name="Release the hold for this visitor")).to_be_visible()
    wait_until_sent(page)
    honey_now = item(market, "Wildflower honey")  # one jar of 3 held: the other 2 stay on sale
    assert (honey_now["state"], honey_now["held"]) == ("available", 1)
    told = [m for m in visitor_sees() if m["sender"] == "system"]
    assert len(told) == 1
    assert re.fullmatch(r"Reserved for you until \d\d:\d\d: Wildflower honey\.", told[0]["body"]), told[0]["body"]
    assert told[0]["item_id"] == honey["id"]
    expect(page.locator(".msg.system", has_text="Reserved for you until")).to_be_visible()
    assert [m["body"] for m in visitor_sees() if m["sender"] == "vendor"] == [REPLY], "the reply was sent once"


def test_vendor_downloads_the_stall_sign_and_price_tags(page: Page, market: Market) -> None:
    """Both PDFs come down from the dashboard and their QR codes read back as our own links."""
    sign_in_vendor(page, market, "honey")
    code = market.stalls["honey"]["code"]

    with page.expect_download() as sign_info:
        page.get_by_role("link", name="Download my QR sign (PDF)").click()
    sign = sign_info.value
    assert sign.suggested_filename == f"souk-{code}-sign.pdf"
    sign_pdf = Path(sign.path()).read_bytes()
    assert qr_texts_per_page(sign_pdf) == [[f"{market.base}/s/{code}"]]

    with page.expect_download() as tags_info:
        page.get_by_role("button", name="Price tags for my items (PDF)").click()
    tags = tags_info.value
    assert tags.suggested_filename == f"souk-{code}-price-tags.pdf"
    decoded = {text for texts in qr_texts_per_page(Path(tags.path()).read_bytes(), dpi=200) for text in texts}
    honey_items = {item["id"] for item in market.items.values() if item["stall_id"] == market.stalls["honey"]["id"]}
    assert decoded == {f"{market.base}/s/{code}?item={item_id}" for item_id in honey_items}
