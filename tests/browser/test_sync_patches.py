"""Item patches in the app (sync/FORMAT.md, "Patches"): after a vendor's edit the app's next pull
brings only the changed fields, lays them over the item it holds, and shows the new price; a
replica that does not hold the item at the patch's base asks for the same page again in whole
records instead of guessing.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Market, open_controlled

# The app keeps items one record per stall (pwa/bundles.js): {key: "items:<stall>", items: {id: ...}}.
BUNDLES = 'IDBKeyRange.bound("items:", "items:\\uffff")'

STORED_ITEM = """(id) => new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const db = open.result;
        const all = db.transaction("records").objectStore("records").getAll(BUNDLES);
        all.onsuccess = () => { db.close(); resolve(all.result.find((b) => b.items[id])?.items[id] ?? null); };
        all.onerror = () => reject(all.error);
    };
})""".replace("BUNDLES", BUNDLES)

FORGET_ITEM = """(id) => new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onsuccess = () => {
        const tx = open.result.transaction("records", "readwrite");
        const records = tx.objectStore("records");
        const all = records.getAll(BUNDLES);
        all.onsuccess = () => {
            for (const bundle of all.result.filter((b) => b.items[id])) {
                delete bundle.items[id];
                records.put(bundle);
            }
        };
        tx.oncomplete = () => { open.result.close(); resolve(true); };
        tx.onerror = () => reject(tx.error);
    };
})""".replace("BUNDLES", BUNDLES)


def _record_pulls(page: Page) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every pull the page makes from now on: what it asked and what it got."""
    pulls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def watch(route: Route) -> None:
        response = route.fetch()
        pulls.append((route.request.post_data_json or {}, response.json()))
        route.fulfill(response=response)

    page.route("**/api/sync/pull", watch)
    return pulls


def _rows_for(pulls: list[tuple[dict[str, Any], dict[str, Any]]], short_of: str) -> list[list[Any]]:
    return [row for _, answer in pulls for row in answer.get("changes", []) if row[1] == short_of]


def _short(page: Page, item_id: str) -> str:
    """The item's id as format 2 sends it (base64url of its 16 bytes)."""
    hex_id = item_id.replace("-", "")
    return str(
        page.evaluate(
            """(hex) => btoa(String.fromCharCode(...hex.match(/../g).map((b) => parseInt(b, 16))))
                .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "")""",
            hex_id,
        )
    )


def test_a_price_edit_arrives_as_a_patch_and_keeps_the_rest_of_the_item(page: Page, market: Market) -> None:
    honey = market.stalls["honey"]
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)
    item = market.items["Wildflower honey"]  # the one with a photo
    before = page.evaluate(STORED_ITEM, item["id"])
    pulls = _record_pulls(page)

    with market.http() as http:
        r = http.patch(f"/api/items/{item['id']}", json={"price": 1450}, headers=market.vendors["honey"])
        assert r.status_code == 200, r.text
    row = page.locator("main section.stall .item-row", has_text="Wildflower honey")
    expect(row).to_contain_text("14.50", timeout=15000)

    rows = _rows_for(pulls, _short(page, item["id"]))
    assert rows and all(len(r) == 5 for r in rows), rows  # [entity, id, version, patch, base]
    assert set(rows[-1][3]) == {"price", "updated"} and rows[-1][4] == before["version"]
    assert all(asked.get("patches") is True for asked, _ in pulls)
    after = page.evaluate(STORED_ITEM, item["id"])
    assert after["version"] == rows[-1][2] and after["data"]["price"] == 1450
    unchanged = {k: v for k, v in after["data"].items() if k not in ("price", "updated")}
    assert unchanged == {k: v for k, v in before["data"].items() if k not in ("price", "updated")}
    expect(row.locator("img")).to_have_count(1)  # its photo is still there


def test_a_patch_for_an_item_the_replica_lacks_is_fetched_again_whole(page: Page, market: Market) -> None:
    honey = market.stalls["honey"]
    open_controlled(page, f"{market.base}/s/{honey['code']}")
    page.wait_for_selector("body[data-synced='yes']", state="attached", timeout=15000)
    item = market.items["Honeycomb slab"]
    page.evaluate(FORGET_ITEM, item["id"])  # a replica that somehow lost it
    pulls = _record_pulls(page)

    with market.http() as http:
        r = http.patch(f"/api/items/{item['id']}", json={"price": 900}, headers=market.vendors["honey"])
        assert r.status_code == 200, r.text
    page.wait_for_function(
        f"() => ({STORED_ITEM})({item['id']!r}).then((r) => r && r.data.price === 900)", timeout=15000
    )
    patched = [(asked, answer) for asked, answer in pulls if asked.get("patches")]
    whole = [(asked, answer) for asked, answer in pulls if asked.get("patches") is False]
    assert patched and whole, [asked for asked, _ in pulls]
    assert whole[0][0]["cursor"] == patched[0][0]["cursor"], "the same page again"
    short = _short(page, item["id"])
    assert [len(r) for r in _rows_for(patched[:1], short)] == [5]
    assert [len(r) for r in _rows_for(whole[:1], short)] == [4]
    stored = page.evaluate(STORED_ITEM, item["id"])
    assert stored["data"]["title"] == "Honeycomb slab" and stored["data"]["qty"] == 1
    page.reload()
    expect(page.locator("main section.stall .item-row", has_text="Honeycomb slab")).to_contain_text("9.00")
