"""The app's own modules, imported and exercised in the real browser: the rebase of queued
changes over pulled state, the replica's newer-version-wins and atomic cursor, the offline
search rules, and money."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import Market


def _run(page: Page, market: Market, script: str) -> Any:
    page.goto(f"{market.base}/api/health")  # same origin as the app, without the app running
    return page.evaluate(script)


def test_queued_changes_are_replayed_over_pulled_state(context: BrowserContext, page: Page, market: Market) -> None:
    result = _run(
        page,
        market,
        """async () => {
          const { overlayItems, overlayMessages } = await import("/app/overlay.js");
          const server = { id: "a", title: "Jam", price: 500, quantity: 2, state: "available", version: 3, photos: [] };
          const queued = [
            { seq: 1, name: "update_item", args: { id: "a", price: 450 } },
            { seq: 2, name: "sell_item", args: { id: "a", sale_id: "s", quantity: 2 } },
          ];
          const both = overlayItems([server], queued)[0];
          // A pull lands while the edit is still queued: the newer server state, the edit on top.
          const pulled = overlayItems([{ ...server, title: "Plum jam", version: 4 }], queued.slice(0, 1))[0];
          const answered = overlayItems([server], [])[0];
          const send = (seq, id, body) => ({ seq, name: "send_message", created_at: "",
            args: { conversation_id: "c", message_id: id, body } });
          const messages = overlayMessages(
            [{ id: "m1", seq: 1, sender: "visitor", body: "hi" }], [send(3, "m2", "later"), send(4, "m1", "hi")],
            "c", "visitor");
          return { both, pulled, answered, messages: messages.map((m) => [m.id, Boolean(m.pending)]) };
        }""",
    )
    assert (result["both"]["price"], result["both"]["quantity"], result["both"]["state"]) == (450, 0, "sold")
    assert result["both"]["pending"] is True
    assert (result["pulled"]["title"], result["pulled"]["price"]) == ("Plum jam", 450)
    assert result["answered"]["price"] == 500 and "pending" not in result["answered"]
    assert result["messages"] == [["m1", False], ["m2", True]]  # an answered message is not shown twice


def test_replica_keeps_the_newest_and_commits_cursor_with_data(
    context: BrowserContext, page: Page, market: Market
) -> None:
    result = _run(
        page,
        market,
        """async () => {
          const replica = await import("/app/replica.js");
          const { kvGet } = await import("/app/store.js");
          const item = (version, title) => ({ entity: "item", id: "i1", op: "upsert", version,
            data: { id: "i1", event_id: "e1", stall_id: "s1", title, version } });
          await replica.applyPage([item(2, "new")], { cursorKey: "cursor:t", cursor: "c1" });
          await replica.applyPage([item(1, "old")], { cursorKey: "cursor:t", cursor: "c2" });
          const kept = (await replica.get("item", "i1")).title;
          await replica.applyPage([item(2, "new again")], { cursorKey: "cursor:t", cursor: "c3" });
          const same = (await replica.get("item", "i1")).title;
          let failed = false;
          try {
            await replica.applyPage(
              [{ entity: "item", id: "i2", op: "upsert", version: 1, data: { id: "i2", stall_id: "s1" } },
               { entity: "item", id: "i3", op: "upsert", version: 1, data: { id: "i3", title: () => 1 } }],
              { cursorKey: "cursor:t", cursor: "c4" });
          } catch { failed = true; }
          const half = await replica.get("item", "i2");
          const cursor = await kvGet("cursor:t");
          await replica.applyPage([{ entity: "item", id: "i1", op: "delete", version: 3, data: null }],
            { cursorKey: "cursor:t", cursor: "c5" });
          return { kept, same, failed, half, cursor, gone: await replica.get("item", "i1") };
        }""",
    )
    assert result["kept"] == "new", "an older version never replaces a newer one"
    assert result["same"] == "new again", "the same version applied again is harmless"
    assert result["failed"] is True and result["half"] is None and result["cursor"] == "c3", "all or nothing"
    assert result["gone"] is None


def test_offline_search_rules(context: BrowserContext, page: Page, market: Market) -> None:
    result = _run(
        page,
        market,
        """async () => {
          const { ItemIndex, STATES } = await import("/app/kit/search.js");
          const item = (id, title, price, extra = {}) => ({ id, title, price, description: "", state: "available",
            stall_id: "s1", hashtags: [], causes: [], created_at: `2027-01-0${id}`, ...extra });
          const index = new ItemIndex([
            item("1", "Wildflower honey", 1299, { hashtags: ["#Honey"] }),
            item("2", "Beeswax candle", 450, { hashtags: ["#Candles"], stall_id: "s2" }),
            item("3", "Honeycomb slab", 800, { state: "sold" }),
            item("4", "Café crème jar", 300, { description: "with honey" }),
          ], new Map([["s2", { name: "Bee Barn" }]]));
          const ids = (query) => index.search({ states: STATES, ...query }).map((hit) => hit.item.id);
          return {
            typo: ids({ q: "wildflowr" }), swap: ids({ q: "cnadle" }), shortNoTypo: ids({ q: "hny" }),
            prefixLast: ids({ q: "wild" }), prefixNotFirst: ids({ q: "wild candle" }),
            tag: ids({ q: "#honey" }), tagWord: ids({ q: "honey" }), accents: ids({ q: "cafe creme" }),
            stallName: ids({ q: "barn" }), available: ids({ q: "hon", states: ["available"] }),
            price: ids({ priceMin: 400, priceMax: 900, sort: "price_asc" }), filterTag: ids({ tags: ["candles"] }),
            byStall: ids({ stallIds: ["s2"] }), cheap: ids({ sort: "price_asc" }),
          };
        }""",
    )
    assert result["typo"] == ["1"] and result["swap"] == ["2"]
    assert result["shortNoTypo"] == [], "short words need exact or prefix matches"
    assert result["prefixLast"] == ["1"] and result["prefixNotFirst"] == []
    assert result["tag"] == ["1", "3", "4"], "#honey is a word like any other, as on the server"
    assert set(result["tagWord"]) == {"1", "3", "4"}
    assert result["accents"] == ["4"] and result["stallName"] == ["2"]
    assert set(result["available"]) == {"1", "4"}
    assert result["price"] == ["2", "3"] and result["filterTag"] == ["2"] and result["byStall"] == ["2"]
    assert result["cheap"] == ["4", "2", "3", "1"]


def test_money(context: BrowserContext, page: Page, market: Market) -> None:
    result = _run(
        page,
        market,
        """async () => {
          const { formatMoney, parseMoney } = await import("/app/kit/money.js");
          const cases = [["12.99", "GBP"], ["7.5", "GBP"], ["12,50", "EUR"], ["1,234.50", "GBP"], ["1.234,50", "EUR"],
            ["£4", "GBP"], ["1,000", "JPY"], ["500", "JPY"], ["5.5", "JPY"], ["1.234", "KWD"], ["1.2345", "KWD"],
            ["abc", "GBP"], ["0.505", "GBP"], ["", "GBP"]];
          return {
            parsed: cases.map(([text, currency]) => parseMoney(text, currency)),
            shown: [formatMoney(1299, "GBP"), formatMoney(500, "JPY"), formatMoney(1234, "KWD")],
          };
        }""",
    )
    assert result["parsed"] == [1299, 750, 1250, 123450, 123450, 400, 1000, 500, None, 1234, None, None, None, None]
    gbp, jpy, kwd = (text.replace("\xa0", " ") for text in result["shown"])
    assert gbp == "£12.99" and jpy.endswith("¥500") and kwd.endswith("1.234"), result["shown"]


def test_each_navigation_draws_the_view_once(context: BrowserContext, page: Page, market: Market) -> None:
    """A fragment change fires both popstate and hashchange; drawing the view for each would
    mount it twice and wipe what the user had started typing into the first one."""
    result = _run(
        page,
        market,
        """async () => {
          const { startRouter } = await import("/app/router.js");
          const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
          const drawn = [];
          const go = startRouter(() => drawn.push(location.hash));
          location.hash = "#/resume";
          await settle();
          go(new URL("/app/#/favourites", location.href).href);
          await settle();
          history.back();
          await settle();
          go(location.href);  // the same address again: drawn again, on purpose
          await settle();
          return drawn;
        }""",
    )
    assert result == ["#/resume", "#/favourites", "#/resume", "#/resume"]


KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # on the wire: KEY_43 (base64url)
KEY_43 = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"
# Canonical ids and their 22-character wire form (the UUID's bytes in base64url).
IDS = {
    "4dec4060-9c1e-4f7a-8665-b1f4b11a172d": "TexAYJweT3qGZbH0sRoXLQ",  # event
    "a5e81c14-f3c8-41b5-a466-fd1d9d68e10b": "pegcFPPIQbWkZv0dnWjhCw",  # stall
    "b013900e-a981-4262-9ada-b2152f7c9ce2": "sBOQDqmBQmKa2rIVL3yc4g",  # item
    "c0cb2a1b-160b-4da1-bc99-8a87297e3aa5": "wMsqGxYLTaG8mYqHKX46pQ",  # deleted item
    "d1b0e7a2-5f3c-4a8e-9b21-7c4d2e6f8a90": "0bDnol88So6bIXxNLm-KkA",  # conversation
    "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b": "D56NfGtaSTiCcWBfTj0sGw",  # message (and a device)
}


def test_a_format_2_page_expands_into_the_records_the_views_read(
    context: BrowserContext, page: Page, market: Market
) -> None:
    """kit/wire.js: a compact page (short ids and photo keys, photo table, defaults left out, no
    ids or URLs in the data) becomes full records with canonical ids and keys; a REST-shaped
    record stores as the same lean form and reads back."""
    event, stall, item, gone, conversation, message = IDS
    result = _run(
        page,
        market,
        f"""async () => {{
          const {{ canonicalId, compact, expand, expandPage, photoUrl }} = await import("/app/kit/wire.js");
          const s = {IDS!r};
          const [event, stall, item, gone, conversation, message] = {list(IDS)!r};
          const page = expandPage({{
            format: 2, cursor: "c2", more: true, reset: false, snapshot: true, photos: [["{KEY_43}", 640, 480]],
            changes: [
              ["event", s[event], 3, {{ slug: "ripe", name: "Ripe", currency: "GBP" }}],
              ["stall", s[stall], 2, {{ code: "abc", name: "Honey" }}],
              ["item", s[item], 5, {{ stall: s[stall], title: "Jar", price: 450, qty: 2,
                tags: ["#CaféLumière", "#Honey"], created: "2027-01-09T10:00:00Z", photos: [0] }}],
              ["item", s[gone], 7, null],
              ["conversation", s[conversation], 1, {{ stall_id: s[stall], device_id: s[message], item_id: null,
                stall_code: "abc" }}],
              ["message", s[message], 2, {{ conversation_id: s[conversation], item_id: s[item], seq: 1,
                photo: {{ key: "{KEY_43}", width: 640, height: 480 }} }}],
            ],
          }}, {{ origin: "https://souk.example" }});
          const data = page.changes[2].data;
          const urls = {{ thumb: "/photos/{KEY}/320", detail: "x", original: "y" }};
          const rest = {{ ...data, photos: [{{ key: "{KEY}", ...urls, width: 640, height: 480 }}], tag_keys: ["x"],
            hidden: false }};
          const lean = compact("item", rest);
          return {{ page: {{ ...page, changes: page.changes.map((c) => [c.entity, c.id, c.op, c.version]) }},
            item: data, stall: page.changes[1].data, conversation: page.changes[4].data,
            message: page.changes[5].data, lean,
            back: expand("item", item, 5, lean, {{ eventId: event }}),
            same: [canonicalId(item), canonicalId("i1")],
            thumb: photoUrl(data.photos[0]), detail: photoUrl(data.photos[0], "detail"),
            local: photoUrl({{ src: "blob:x" }}) }};
        }}""",
    )
    assert result["page"] == {
        "cursor": "c2",
        "reset": False,
        "snapshot": True,
        "has_more": True,
        "changes": [
            ["event", event, "upsert", 3],
            ["stall", stall, "upsert", 2],
            ["item", item, "upsert", 5],
            ["item", gone, "delete", 7],
            ["conversation", conversation, "upsert", 1],
            ["message", message, "upsert", 2],
        ],
    }
    expanded = result["item"]
    assert expanded == {
        "id": item,
        "event_id": event,
        "stall_id": stall,
        "title": "Jar",
        "description": "",
        "price": 450,
        "currency": "GBP",
        "quantity": 2,
        "hashtags": ["#CaféLumière", "#Honey"],
        "causes": [],
        "photos": [{"key": KEY, "width": 640, "height": 480}],
        "state": "available",
        "reserved_until": None,
        "version": 5,
        "created_at": "2027-01-09T10:00:00Z",
        "updated_at": "2027-01-09T10:00:00Z",
        "held": 0,
        "tag_keys": ["cafélumière", "honey"],
    }
    assert result["stall"]["url"] == "https://souk.example/s/abc" and result["stall"]["event_id"] == event
    conv = result["conversation"]
    assert (conv["id"], conv["stall_id"], conv["device_id"], conv["item_id"]) == (conversation, stall, message, None)
    assert conv["event_id"] == event
    msg = result["message"]
    assert (msg["id"], msg["conversation_id"], msg["item_id"]) == (message, conversation, item)
    assert msg["photo"] == {"key": KEY, "width": 640, "height": 480}
    assert result["lean"] == {
        "stall": stall,
        "title": "Jar",
        "price": 450,
        "cur": "GBP",
        "qty": 2,
        "tags": ["#CaféLumière", "#Honey"],
        "created": "2027-01-09T10:00:00Z",
        "photos": [[KEY, 640, 480]],
    }
    assert result["back"] == expanded
    assert result["same"] == [item, "i1"]  # canonical ids (and ids of other shapes) pass through
    assert result["thumb"] == f"/photos/{KEY}/320" and result["detail"] == f"/photos/{KEY}/960"
    assert result["local"] == "blob:x"
