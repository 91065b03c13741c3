"""Item patches in format 2 (sync/FORMAT.md, "Patches"): a log page sends an item's changed fields,
with the version they apply to, to a client that asked for them.

Each test merges patches the way the spec tells a client to and checks that the replica comes out
equal, record for record, to what a format-1 client pulling the same market holds.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World
from tests.replica_rules import replica_of
from tests.test_sync_format2 import _expand, _format1_changes, _key, _market, _photo, _pull, _tag_key, _upload, _uuid

# A patch's keys as the format-1 fields they set (FORMAT.md's item table).
_FIELDS = {
    "title": "title",
    "desc": "description",
    "price": "price",
    "cur": "currency",
    "qty": "quantity",
    "causes": "causes",
    "state": "state",
    "held": "held",
    "until": "reserved_until",
    "updated": "updated_at",
}


def _merge(
    replica: dict[tuple[str, str], dict[str, Any]], page: dict[str, Any], event: dict[str, Any]
) -> list[tuple[str, str]]:
    """Apply one format-2 page to `replica` (format-1 changes by key); returns the patched keys.

    A patch applies only over a held record at `base` or newer, as the spec says; the test fails
    if the server sends one the client could not apply."""
    patched = []
    photos = [(_key(key), width, height) for key, width, height in page["photos"]]
    whole_rows = {**page, "changes": [row for row in page["changes"] if len(row) == 4]}
    for change in _expand(whole_rows, event, "http://127.0.0.1:8000"):
        held = replica.get((change["entity"], change["id"]))
        if held is None or change["entity"] == "totals" or change["version"] >= held["version"]:
            replica[(change["entity"], change["id"])] = change
    for row in page["changes"]:
        if len(row) == 4:
            continue
        entity, short, version, patch, base = row
        key = (entity, _uuid(short))
        held = replica[key]
        assert entity == "item" and held["op"] == "upsert" and held["version"] >= base, (row, held["version"])
        data = dict(held["data"], version=version)
        for name, value in patch.items():
            if name == "tags":
                data["hashtags"], data["tag_keys"] = value, [_tag_key(t) for t in value]
            elif name == "photos":
                data["photos"] = [_photo(*photos[i]) for i in value]
            else:
                data[_FIELDS[name]] = value
        replica[key] = {**held, "version": version, "data": data}
        patched.append(key)
    return patched


def _state(replica: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return replica_of(list(replica.values()))


async def _snapshot(client: httpx.AsyncClient, world: World) -> tuple[dict[tuple[str, str], dict[str, Any]], str]:
    pages, last = await _pull(client, world.visitor, {"format": 2, "patches": True})
    for page in pages:
        assert all(len(row) == 4 for row in page["changes"]), "a snapshot page is whole records only"
    replica: dict[tuple[str, str], dict[str, Any]] = {}
    for page in pages:
        _merge(replica, page, world.event)
    return replica, str(last["cursor"])


async def _format1_state(client: httpx.AsyncClient, world: World) -> dict[tuple[str, str], dict[str, Any]]:
    one, _ = await _pull(client, world.visitor, {})
    return replica_of(_format1_changes(one))


def _rows(page: dict[str, Any]) -> dict[str, list[Any]]:
    return {_uuid(row[1]): row for row in page["changes"]}


async def test_edits_reservations_and_sales_come_as_patches_that_rebuild_the_same_replica(
    client: httpx.AsyncClient, world: World
) -> None:
    market = await _market(client, world)
    replica, cursor = await _snapshot(client, world)
    mine, theirs = market["mine"], market["theirs"]
    version_before = replica[("item", mine[2])]["version"]

    await client.patch(f"/api/items/{mine[2]}", json={"price": 999}, headers=world.vendor)
    await client.patch(f"/api/items/{mine[2]}", json={"description": "Raw #Spring"}, headers=world.vendor)
    r = await client.post(f"/api/items/{mine[4]}/reserve", json={"quantity": 2}, headers=world.vendor)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/items/{theirs[2]}/sell", json={"quantity": 1}, headers=world.other_vendor)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/items/{theirs[1]}/release", json={}, headers=world.other_vendor)
    assert r.status_code == 200, r.text

    delta, last = await _pull(client, world.visitor, {"format": 2, "patches": True, "cursor": cursor})
    assert len(delta) == 1 and last["snapshot"] is False
    rows = _rows(delta[0])
    # Two edits of one item: one patch of both edits' fields, applying to the version held before them.
    _, _, version, patch, base = rows[mine[2]]
    assert base == version_before and version == version_before + 2
    assert set(patch) == {"price", "desc", "tags", "updated"} and patch["price"] == 999
    assert set(rows[mine[4]][3]) == {"state", "held", "until", "updated"} and rows[mine[4]][3]["held"] == 2
    assert rows[mine[4]][3]["state"] == "reserved"
    assert set(rows[theirs[2]][3]) >= {"qty", "updated"}
    # Released: the defaults are spelled out, since a patch overwrites what is held.
    assert rows[theirs[1]][3]["state"] == "available" and rows[theirs[1]][3]["until"] is None
    assert rows[theirs[1]][3]["held"] == 0
    assert len(rows[world.event["id"]]) == 4, "totals are whole records"
    assert delta[0]["photos"] == [], "no photo changed: no photo table"

    patched = _merge(replica, delta[0], world.event)
    assert sorted(patched) == sorted(("item", i) for i in (mine[2], mine[4], theirs[2], theirs[1]))
    assert _state(replica) == await _format1_state(client, world)


async def test_changes_a_patch_cannot_carry_send_the_whole_record(client: httpx.AsyncClient, world: World) -> None:
    market = await _market(client, world)
    replica, cursor = await _snapshot(client, world)
    mine, theirs = market["mine"], market["theirs"]
    new_photo = await _upload(client, world.vendor, (640, 200), 77)

    r = await client.post(f"/api/items/{mine[2]}/hidden", json={"hidden": True}, headers=world.organizer)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/items/{mine[2]}/hidden", json={"hidden": False}, headers=world.organizer)
    assert r.status_code == 200, r.text
    await client.delete(f"/api/items/{mine[3]}", headers=world.vendor)
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items", json={"title": "New jar", "price": 5}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    created = r.json()["id"]
    r = await client.patch(f"/api/items/{created}", json={"price": 6}, headers=world.vendor)
    assert r.status_code == 200, r.text
    r = await client.patch(f"/api/items/{theirs[3]}", json={"photo_keys": [new_photo]}, headers=world.other_vendor)
    assert r.status_code == 200, r.text

    delta, _ = await _pull(client, world.visitor, {"format": 2, "patches": True, "cursor": cursor})
    rows = _rows(delta[0])
    assert len(rows[mine[2]]) == 4 and rows[mine[2]][3] is not None, "hidden then shown again: whole"
    assert rows[mine[3]] == ["item", rows[mine[3]][1], rows[mine[3]][2], None], "deleted: a tombstone"
    assert len(rows[created]) == 4 and rows[created][3]["price"] == 6, "created, then edited: whole"
    # A photo patch refers to the page's table, which then holds that photo.
    assert set(rows[theirs[3]][3]) == {"photos", "updated"}
    (index,) = rows[theirs[3]][3]["photos"]
    assert delta[0]["photos"][index][1:] == [640, 200]

    _merge(replica, delta[0], world.event)
    assert _state(replica) == await _format1_state(client, world)


async def test_without_asking_a_format2_client_gets_whole_records(client: httpx.AsyncClient, world: World) -> None:
    """The format-2 apps shipped before patches do not ask, and never see one."""
    market = await _market(client, world)
    _, last = await _pull(client, world.visitor, {"format": 2})
    await client.patch(f"/api/items/{market['mine'][2]}", json={"price": 1234}, headers=world.vendor)
    delta, _ = await _pull(client, world.visitor, {"format": 2, "cursor": last["cursor"]})
    row = _rows(delta[0])[market["mine"][2]]
    assert len(row) == 4 and row[3]["price"] == 1234 and "stall" in row[3]
    one, _ = await _pull(client, world.visitor, {"cursor": None})
    assert all(set(c) == {"entity", "id", "op", "version", "data"} for c in one[0]["changes"]), "format 1 as it was"


async def test_a_patch_is_smaller_than_the_record(client: httpx.AsyncClient, world: World) -> None:
    market = await _market(client, world)
    _, cursor = await _snapshot(client, world)
    for item in market["theirs"][2:]:
        await client.patch(f"/api/items/{item}", json={"price": 4321}, headers=world.other_vendor)
    patched, _ = await _pull(client, world.visitor, {"format": 2, "patches": True, "cursor": cursor})
    whole, _ = await _pull(client, world.visitor, {"format": 2, "cursor": cursor})
    assert len(str(patched[0]["changes"])) * 2 < len(str(whole[0]["changes"]))


async def test_a_page_cut_before_an_items_later_change_sends_it_whole(client: httpx.AsyncClient, world: World) -> None:
    """A page holds at most `limit` log entries, but reads each item's current state: when the
    item changed again after the page's last entry, a patch of the page's columns would leave the
    later ones stale at the newer version. Such an item comes whole; the next page patches it."""
    market = await _market(client, world)
    replica, cursor = await _snapshot(client, world)
    mine = market["mine"]
    await client.patch(f"/api/items/{mine[2]}", json={"price": 111}, headers=world.vendor)
    await client.patch(f"/api/items/{mine[4]}", json={"price": 222}, headers=world.vendor)
    await client.patch(f"/api/items/{mine[2]}", json={"title": "Renamed"}, headers=world.vendor)

    body = {"event": "ripe-jan", "format": 2, "patches": True, "cursor": cursor, "limit": 1}
    first = (await client.post("/api/sync/pull", json=body, headers=world.visitor)).json()
    assert first["more"] is True
    (row,) = first["changes"]
    assert len(row) == 4 and row[3]["title"] == "Renamed" and row[3]["price"] == 111, row
    _merge(replica, first, world.event)
    pages, _ = await _pull(client, world.visitor, {"format": 2, "patches": True, "cursor": first["cursor"], "limit": 1})
    for page in pages:
        _merge(replica, page, world.event)
    assert _state(replica) == await _format1_state(client, world)
