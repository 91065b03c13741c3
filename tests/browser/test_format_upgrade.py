"""A phone from before sync format 2 loads the new app: its replica (format-1 records, URLs and
all, in database version 1 with its three indexes; the lean records of database version 2; or
version 3's one record per item) is converted in place to the stored form of version 4 (items
one record per stall), its queued chat message is delivered exactly once, and its favourites stay.

The old state is written the way the old app wrote it: database "souk" version 1 with the old
schema, records as the old app stored pulled format-1 changes, a real format-1 cursor, the
visitor's device identity and outbox client, one unsent message and one favourite. It is written
from a page of the origin that runs none of the app (the health check), so nothing of the new
code touches it before the new app opens it.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import OLD_RECORD, Market, inbox_messages, open_controlled, outbox, wait_until_sent

# The old app's database (pwa/store.js before format 2) and its records (kit/replica.js toRecord).
SEED_OLD_STATE = """async ({ version, changes, kv, outboxEntry, favourite }) => {
  // Version 2 stored the records lean, as kit/wire.js compact still makes them; version 3 stored
  // each lean, without its entity, id or an item's stall (stored.js toStored still makes them).
  const { compact } = version === 2 ? await import("/app/kit/wire.js") : { compact: null };
  const { toStored } = version === 3 ? await import("/app/stored.js") : { toStored: null };
  const open = indexedDB.open("souk", version);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore("kv");
    const records = db.createObjectStore("records", { keyPath: "key" });
    if (version === 1) {
      records.createIndex("entity", "entity");
      records.createIndex("event", "event_id");
    }
    records.createIndex("parent", "parent");
    const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("owner", ["owner", "mid"], { unique: true });
    db.createObjectStore("rejections", { keyPath: "id", autoIncrement: true });
    db.createObjectStore("favourites", { keyPath: "id" });
  };
  const db = await new Promise((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = db.transaction(["kv", "records", "outbox", "favourites"], "readwrite");
  for (const change of changes) {
    const record = OLD_RECORD(change);
    if (version === 2 && record.data) record.data = compact(record.entity, record.data);
    tx.objectStore("records").put(version === 3 ? toStored(record) : record);
  }
  for (const [key, value] of Object.entries(kv)) tx.objectStore("kv").put(value, key);
  tx.objectStore("outbox").add(outboxEntry);
  tx.objectStore("favourites").put(favourite);
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
  db.close();
}""".replace("OLD_RECORD", OLD_RECORD)

READ_STATE = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("souk");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction(["records", "favourites", "outbox"]);
    const records = tx.objectStore("records");
    const out = { version: db.version, indexes: [...records.indexNames] };
    const all = records.getAll();
    all.onsuccess = () => {
      out.records = all.result.filter((r) => !String(r.key).startsWith("items:"));
      out.bundles = all.result.filter((r) => String(r.key).startsWith("items:"));
    };
    const favs = tx.objectStore("favourites").getAll();
    favs.onsuccess = () => { out.favourites = favs.result.map((f) => f.id); };
    const queued = tx.objectStore("outbox").count();
    queued.onsuccess = () => { out.queued = queued.result; };
    tx.oncomplete = () => { db.close(); resolve(out); };
  };
})"""


def _format1_pull(market: Market, token: str) -> tuple[list[dict[str, Any]], str]:
    """The whole event as the old app pulled it (no `format`: format 1), and its last cursor."""
    changes: list[dict[str, Any]] = []
    cursor = None
    with httpx.Client(base_url=market.base, timeout=10) as http:
        for _ in range(50):
            page = http.post(
                "/api/sync/pull",
                json={"event": market.event["slug"], "cursor": cursor, "limit": 500},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert "format" not in page or page["format"] == 1, page
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["has_more"]:
                return changes, cursor
    raise AssertionError("the format-1 pull never caught up")


def _items(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The stored items of READ_STATE's bundles by id, each with its stall and event added."""
    return {
        item_id: {**held, "stall": bundle["key"].removeprefix("items:"), "event_id": bundle["event_id"]}
        for bundle in state["bundles"]
        for item_id, held in bundle["items"].items()
    }


def _short_key(hex_key: str) -> str:
    """A photo key as the replica stores it since version 3 (base64url of its 32 bytes)."""
    return base64.urlsafe_b64encode(bytes.fromhex(hex_key)).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_old_phone_upgrades_without_losing_its_queued_message_or_favourites(
    context: BrowserContext, page: Page, market: Market, version: int
) -> None:
    honey = market.stalls["honey"]
    with market.http() as http:
        device = http.post("/api/devices").json()
    changes, cursor = _format1_pull(market, device["token"])
    old_item = next(c for c in changes if c["entity"] == "item" and c["data"]["photos"])
    assert old_item["data"]["photos"][0]["thumb"].startswith("/photos/")  # really the old shape
    body = f"Is the honey raw? {uuid.uuid4().hex[:6]}"
    conversation_id, message_id = str(uuid.uuid4()), str(uuid.uuid4())
    favourite = market.items["Beeswax candle"]["id"]

    page.goto(f"{market.base}/api/health")
    page.evaluate(
        SEED_OLD_STATE,
        {
            "version": version,
            "changes": changes,
            "kv": {
                "identity:device": {"kind": "device", "token": device["token"], "device_id": device["device_id"]},
                "client:device": {"client_id": str(uuid.uuid4()), "next_mid": 2},
                "event": market.event["slug"],
                f"cursor:{market.event['slug']}:{device['device_id']}": cursor,
            },
            "outboxEntry": {
                "owner": "device",
                "mid": 1,
                "name": "send_message",
                "args": {
                    "conversation_id": conversation_id,
                    "message_id": message_id,
                    "body": body,
                    "stall_code": honey["code"],
                },
                "photo": None,
                "photo_key": None,
                "photo_error": None,
                "display": {"stall_name": honey["name"], "text": body},
                "created_at": "2027-01-09T10:00:00.000Z",
            },
            "favourite": {"id": favourite, "added_at": "2027-01-09T09:30:00.000Z"},
        },
    )
    assert page.evaluate(READ_STATE)["version"] == version

    # The new app opens with the server unreachable for pulls: what it shows is the converted replica.
    page.route("**/api/sync/pull", lambda route: route.abort())
    page.goto(f"{market.base}/app/#/favourites")
    expect(page.locator(".item-row", has_text="Beeswax candle")).to_be_visible()
    state = page.evaluate(READ_STATE)
    assert state["version"] == 4
    assert state["indexes"] == ["parent"]
    assert favourite in state["favourites"]
    assert not [r["key"] for r in state["records"] if r["key"].startswith("item:")], "items live in bundles"
    items = _items(state)
    assert len(items) == sum(1 for c in changes if c["entity"] == "item")
    item = items[old_item["id"]]
    assert item["data"]["photos"] == [[_short_key(old_item["data"]["photos"][0]["key"]), 640, 480]]
    assert item["stall"] == old_item["data"]["stall_id"] and "stall" not in item["data"]
    assert item["event_id"] == market.event["id"] and "event_id" not in item["data"]
    assert set(item) == {"version", "data", "stall", "event_id"}, "the bundle holds the rest"
    assert "/photos/" not in str([r.get("data") for r in state["records"]] + state["bundles"])  # no URL is stored
    assert "tag_keys" not in str(state["records"] + state["bundles"])

    # The queued message went out once; the item page derives its photo's URL from the key.
    wait_until_sent(page)
    page.goto(f"{market.base}/app/#/i/{old_item['id']}")
    photo = page.locator("img.detail").first
    expect(photo).to_have_attribute("src", f"/photos/{old_item['data']['photos'][0]['key']}/960")
    expect(photo).to_have_attribute("height", "720")  # 960 wide at the photo's own 4:3

    # With the network back, the phone follows the log from its old cursor (or starts over).
    page.unroute("**/api/sync/pull")
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    expect(page.locator("section.stall .item-row")).to_have_count(3)
    page.goto(f"{market.base}/app/#/conversations/{conversation_id}")
    expect(page.locator(".msg.mine", has_text=body)).to_have_count(1)
    page.reload()
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)
    assert outbox(page) == []
    sent = [m for m in inbox_messages(market, "honey") if m["body"] == body]
    assert len(sent) == 1, sent
    assert page.evaluate(READ_STATE)["favourites"] == [favourite]
    page.goto(f"{market.base}/app/#/favourites")
    expect(page.locator(".item-row", has_text="Beeswax candle")).to_be_visible()


def test_a_new_phone_stores_the_replica_lean(context: BrowserContext, page: Page, market: Market) -> None:
    """A first visit pulls format 2 and stores records without URLs or derived fields, and the
    views still get everything they show (photo URLs from the key, tag keys for search)."""
    pulls: list[dict[str, Any]] = []

    def watch(route: Route) -> None:
        pulls.append(route.request.post_data_json or {})
        route.continue_()

    page.route("**/api/sync/pull", watch)
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    assert pulls and all(p["format"] == 2 for p in pulls)
    state = page.evaluate(READ_STATE)
    honey_item = next(r for r in _items(state).values() if r["data"]["title"] == "Wildflower honey")
    assert "#honey" in honey_item["data"]["tags"]
    assert "tag_keys" not in honey_item["data"] and "thumb" not in str(honey_item)
    assert set(honey_item) == {"version", "data", "stall", "event_id"} and "stall" not in honey_item["data"]
    assert honey_item["stall"] == market.stalls["honey"]["id"]
    honey_titles = {i["data"]["title"] for i in _items(state).values() if i["stall"] == market.stalls["honey"]["id"]}
    assert {"Wildflower honey", "Beeswax candle", "Honeycomb slab"} <= honey_titles, "one record per stall"
    assert len(honey_item["data"]["photos"][0][0]) == 43
    page.goto(f"{market.base}/app/#/?q=wildflower")
    expect(page.locator(".item-row", has_text="Wildflower honey")).to_be_visible()
