"""Sync format 2 (sync/FORMAT.md) over HTTP, against format 1 on the same market.

A format-2 page is expanded here the way the spec tells a client to (short ids and photo keys
made canonical, event_id from the event, photos from the page's table with their URLs derived,
tag_keys computed, defaults filled in) and must give the very records a format-1 client applies.
"""

from __future__ import annotations

import base64
import io
import re
import unicodedata
import uuid
from typing import Any

import httpx
from PIL import Image

from tests.conftest import World
from tests.replica_rules import replica_of

EVENT = "ripe-jan"


async def _pull(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every page from body's cursor until caught up; the pages and the last one."""
    pages: list[dict[str, Any]] = []
    body = {"event": EVENT, **body}
    while True:
        r = await client.post("/api/sync/pull", json=body, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        assert not page["reset"]
        more = page["more"] if body.get("format") == 2 else page["has_more"]
        if not more:
            return pages, page
        body = {**body, "cursor": page["cursor"], "stall": None}


def _uuid(short: str) -> str:
    """A format-2 id (22 characters of base64url) as the canonical UUID string, per the spec."""
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", short), short
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(short + "==")))


def _uuid_or_none(short: str | None) -> str | None:
    return None if short is None else _uuid(short)


def _key(short: str) -> str:
    """A format-2 photo key (43 characters of base64url) as its 64 hex digits, per the spec."""
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", short), short
    return base64.urlsafe_b64decode(short + "=").hex()


def _tag_key(tag: str) -> str:
    return unicodedata.normalize("NFKC", tag).lstrip("#").casefold()


def _photo(key: str, width: int, height: int) -> dict[str, Any]:
    base = f"/photos/{key}"
    return {
        "key": key,
        "thumb": f"{base}/320",
        "detail": f"{base}/960",
        "original": f"{base}/original",
        "width": width,
        "height": height,
    }


def _expand(page: dict[str, Any], event: dict[str, Any], origin: str) -> list[dict[str, Any]]:
    """A format-2 page as format-1 changes, following the spec only."""
    changes = []
    photos = [(_key(key), width, height) for key, width, height in page["photos"]]
    for entity, short, version, data in page["changes"]:
        entity_id = _uuid(short)
        if data is None:
            changes.append({"entity": entity, "id": entity_id, "op": "delete", "version": version, "data": None})
            continue
        full = dict(data)
        if entity == "item":
            tags = data["tags"]
            full = {
                "id": entity_id,
                "event_id": event["id"],
                "stall_id": _uuid(data["stall"]),
                "title": data["title"],
                "description": data.get("desc", ""),
                "price": data["price"],
                "currency": data.get("cur", event["currency"]),
                "quantity": data["qty"],
                "hashtags": tags,
                "causes": data.get("causes", []),
                "photos": [_photo(*photos[i]) for i in data.get("photos", [])],
                "state": data.get("state", "available"),
                "reserved_until": data.get("until"),
                "version": version,
                "created_at": data["created"],
                "updated_at": data.get("updated", data["created"]),
                "deleted": False,
                "hidden": False,
                "tag_keys": [_tag_key(t) for t in tags],
                "held": data.get("held", 0),
            }
        elif entity == "stall":
            full = {
                "id": entity_id,
                "event_id": event["id"],
                **data,
                "url": f"{origin}/s/{data['code']}",
                "version": version,
                "hidden": data.get("hidden", False),
                "default_cause": data.get("default_cause", ""),
            }
        elif entity == "message":
            photo = data.get("photo")
            full = {
                "id": entity_id,
                **data,
                "conversation_id": _uuid(data["conversation_id"]),
                "item_id": _uuid_or_none(data["item_id"]),
                "photo": _photo(_key(photo["key"]), photo["width"], photo["height"]) if photo else None,
            }
        elif entity in ("event", "conversation", "cause"):
            full = {"id": entity_id, **data, "version": version}
            if entity != "event":
                full["event_id"] = event["id"]
            if entity == "conversation":
                for name in ("stall_id", "device_id", "item_id"):
                    full[name] = _uuid_or_none(data[name])
        changes.append({"entity": entity, "id": entity_id, "op": "upsert", "version": version, "data": full})
    return changes


def _format1_changes(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Format-1 changes with item times to the second, as format 2 sends them."""
    changes = [c for p in pages for c in p["changes"]]
    for c in changes:
        if c["entity"] == "item" and c["data"]:
            for name in ("created_at", "updated_at", "reserved_until"):
                if c["data"][name]:
                    c["data"][name] = re.sub(r"\.\d+Z$", "Z", c["data"][name])
    return changes


def _format2_changes(pages: list[dict[str, Any]], event: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for p in pages for c in _expand(p, event, "http://127.0.0.1:8000")]


async def _upload(client: httpx.AsyncClient, headers: dict[str, str], size: tuple[int, int], color: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (color, 90, 40)).save(buffer, "JPEG")
    r = await client.post("/api/photos", files={"file": ("p.jpg", buffer.getvalue(), "image/jpeg")}, headers=headers)
    assert r.status_code == 201, r.text
    key: str = r.json()["photo"]["key"]
    return key


async def _item(client: httpx.AsyncClient, world: World, stall: str, vendor: dict[str, str], **fields: Any) -> str:
    body = {"title": "Jar", "price": 100, "quantity": 2, **fields}
    r = await client.post(f"/api/stalls/{stall}/items", json=body, headers=vendor)
    assert r.status_code == 201, r.text
    item_id: str = r.json()["id"]
    return item_id


async def _market(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Items in both stalls: with photos, a description, a reservation, a sale, a deletion."""
    wide = await _upload(client, world.vendor, (800, 600), 10)
    tall = await _upload(client, world.vendor, (300, 500), 200)
    code, other = world.stall["code"], world.other_stall["code"]
    mine = [
        await _item(client, world, code, world.vendor, title=f"Honey {i} #Wild", photo_keys=[wide, tall][: i % 3])
        for i in range(5)
    ]
    theirs = [
        await _item(client, world, other, world.other_vendor, title=f"Mug {i}", description="Glazed", photo_keys=[tall])
        for i in range(4)
    ]
    await client.patch(f"/api/items/{mine[0]}", json={"price": 250}, headers=world.vendor)
    await client.delete(f"/api/items/{mine[1]}", headers=world.vendor)
    r = await client.post(f"/api/items/{theirs[0]}/sell", json={"quantity": 2}, headers=world.other_vendor)
    assert r.status_code in (200, 201), r.text
    r = await client.post(f"/api/items/{theirs[1]}/reserve", json={"quantity": 2}, headers=world.other_vendor)
    assert r.status_code in (200, 201), r.text
    return {"photos": {wide: (800, 600), tall: (300, 500)}, "mine": mine, "theirs": theirs}


async def test_format2_snapshot_applies_to_the_same_state_as_format1(client: httpx.AsyncClient, world: World) -> None:
    await _market(client, world)
    one, _ = await _pull(client, world.visitor, {"limit": 3})
    two, last = await _pull(client, world.visitor, {"limit": 3, "format": 2})
    assert all(p["format"] == 2 for p in two) and last["more"] is False
    assert replica_of(_format2_changes(two, world.event)) == replica_of(_format1_changes(one))
    # Compact: no envelope fields, no URLs, no tag_keys inside a format-2 record.
    for page in two:
        for entity, _, _, data in page["changes"]:
            assert data is None or not {"id", "version", "event_id", "url", "tag_keys"} & set(data), (entity, data)


async def test_photo_indices_resolve_with_real_dimensions(client: httpx.AsyncClient, world: World) -> None:
    market = await _market(client, world)
    pages, _ = await _pull(client, world.visitor, {"format": 2})
    seen = 0
    for page in pages:
        keys = [_key(p[0]) for p in page["photos"]]
        assert len(keys) == len(set(keys)), "each photo once per page"
        for key, width, height in page["photos"]:
            assert (width, height) == market["photos"][_key(key)]
        for entity, _, _, data in page["changes"]:
            if entity == "item" and data and "photos" in data:
                assert all(0 <= i < len(keys) for i in data["photos"])
                seen += len(data["photos"])
    assert seen > 0
    # Format 1 and the REST view carry the same real dimensions.
    one, _ = await _pull(client, world.visitor, {})
    dims = {
        (p["key"], p["width"], p["height"])
        for c in _format1_changes(one)
        if c["entity"] == "item" and c["data"]
        for p in c["data"]["photos"]
    }
    assert dims == {(k, *wh) for k, wh in market["photos"].items()}
    rest = (await client.get(f"/api/items/{market['theirs'][2]}")).json()
    assert [(p["width"], p["height"]) for p in rest["photos"]] == [(300, 500)]
    listed = (await client.get(f"/api/stalls/{world.other_stall['code']}/items")).json()
    listed = listed["items"] if isinstance(listed, dict) else listed
    assert {(p["width"], p["height"]) for i in listed for p in i["photos"]} == {(300, 500)}


async def test_a_chat_photo_has_its_real_dimensions(client: httpx.AsyncClient, world: World) -> None:
    key = await _upload(client, world.vendor, (640, 480), 90)
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    assert r.status_code in (200, 201), r.text
    conversation = r.json()["id"]
    r = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": str(uuid.uuid4()), "body": "Like this?", "photo_key": key},
        headers=world.vendor,
    )
    assert r.status_code in (200, 201), r.text
    assert (r.json()["photo"]["width"], r.json()["photo"]["height"]) == (640, 480)
    listed = (await client.get(f"/api/conversations/{conversation}/messages", headers=world.visitor)).json()
    listed = listed["messages"] if isinstance(listed, dict) else listed
    assert [(m["photo"]["width"], m["photo"]["height"]) for m in listed if m["photo"]] == [(640, 480)]
    pages, _ = await _pull(client, world.visitor, {"format": 2})
    photos = [d["photo"] for p in pages for e, _, _, d in p["changes"] if e == "message" and d and d["photo"]]
    assert [{**p, "key": _key(p["key"])} for p in photos] == [{"key": key, "width": 640, "height": 480}]


async def test_stall_first_ordering(client: httpx.AsyncClient, world: World) -> None:
    await _market(client, world)
    other_id, scanned = world.other_stall["id"], world.other_stall["code"]
    pages, _ = await _pull(client, world.visitor, {"format": 2, "limit": 2, "stall": scanned})
    order = [(entity, _uuid(eid), data) for p in pages for entity, eid, _, data in p["changes"]]
    kinds = [(e, _uuid(d["stall"]) if e == "item" and d else eid) for e, eid, d in order if e in ("stall", "item")]
    first_stall = kinds.index(("stall", other_id))
    scanned_items = [i for i, (e, s) in enumerate(kinds) if e == "item" and s == other_id]
    other_stall = kinds.index(("stall", world.stall["id"]))
    other_items = [i for i, (e, s) in enumerate(kinds) if e == "item" and s != other_id]
    assert first_stall < min(scanned_items) and max(scanned_items) < other_stall < min(other_items)
    # The scanned stall and its first items arrive in the very first page.
    first_page = [(e, _uuid(eid)) for e, eid, _, _ in pages[0]["changes"]]
    assert ("event", world.event["id"]) in first_page and ("stall", other_id) in first_page
    assert sum(1 for e, _ in first_page if e == "item") == 2
    # Without `stall`: stalls, then items by (stall id, item id).
    pages, _ = await _pull(client, world.visitor, {"format": 2, "limit": 2})
    items = [(_uuid(d["stall"]), _uuid(eid)) for p in pages for e, eid, _, d in p["changes"] if e == "item" and d]
    assert items == sorted(items)
    # An unknown stall code changes nothing but the order.
    unknown, _ = await _pull(client, world.visitor, {"format": 2, "limit": 2, "stall": "nope"})
    assert replica_of(_format2_changes(unknown, world.event)) == replica_of(_format2_changes(pages, world.event))


async def test_tombstones_and_delta_after_changes(client: httpx.AsyncClient, world: World) -> None:
    market = await _market(client, world)
    pages, last = await _pull(client, world.visitor, {"format": 2})
    changes = _format2_changes(pages, world.event)
    mine = market["mine"]
    await client.patch(f"/api/items/{mine[2]}", json={"price": 999, "description": "Raw"}, headers=world.vendor)
    await client.delete(f"/api/items/{mine[3]}", headers=world.vendor)
    await client.post(f"/api/items/{mine[4]}/sell", json={"quantity": 1}, headers=world.vendor)
    r = await client.post(
        f"/api/stalls/{world.other_stall['code']}/hidden", json={"hidden": True}, headers=world.organizer
    )
    assert r.status_code == 200, r.text
    delta, after = await _pull(client, world.visitor, {"format": 2, "cursor": last["cursor"]})
    assert len(delta) == 1 and after["snapshot"] is False and after["more"] is False
    by_id = {(e, _uuid(i)): (v, d) for e, i, v, d in delta[0]["changes"]}
    assert by_id[("item", mine[2])][1] is not None and by_id[("item", mine[2])][1]["price"] == 999
    assert by_id[("item", mine[2])][1]["desc"] == "Raw"
    assert by_id[("item", mine[3])][1] is None  # a tombstone
    assert by_id[("totals", world.event["id"])][1] is not None
    assert by_id[("stall", world.other_stall["id"])][1] is None
    # The same delta in format 1 gives the same replica.
    one, _ = await _pull(client, world.visitor, {})
    assert replica_of(changes + _format2_changes(delta, world.event)) == replica_of(_format1_changes(one))


async def test_a_limit_outside_1_to_2000_is_a_422(client: httpx.AsyncClient, world: World) -> None:
    for fmt in (1, 2):
        for limit in (0, -1, 2001):
            r = await client.post(
                "/api/sync/pull", json={"event": EVENT, "limit": limit, "format": fmt}, headers=world.visitor
            )
            assert r.status_code == 422, r.text
            assert r.json()["field"] == "limit" and r.json()["error"]
    r = await client.post("/api/sync/pull", json={"event": EVENT, "format": 3}, headers=world.visitor)
    assert r.status_code == 422 and r.json()["field"] == "format"
    r = await client.post("/api/sync/pull", json={"event": EVENT, "limit": 2000}, headers=world.visitor)
    assert r.status_code == 200


async def test_no_trailing_empty_page(client: httpx.AsyncClient, world: World) -> None:
    for i in range(4):
        await _item(client, world, world.stall["code"], world.vendor, title=f"Pot {i}")
    # Format 1 pages 4 items; format 2 pages 2 stalls + 4 items: both exactly two pages of 2 or 3.
    for body, paged in (({"limit": 2}, 4), ({"limit": 3, "format": 2}, 6)):
        pages, last = await _pull(client, world.visitor, body)
        assert len(pages) == -(-paged // body["limit"]), [len(p["changes"]) for p in pages]
        assert all(p["changes"] for p in pages), "no page is empty"
        assert last["snapshot"] is True
    # A change made after the snapshot began reaches the client in the same full pull.
    r = await client.post("/api/sync/pull", json={"event": EVENT, "limit": 2, "format": 2}, headers=world.visitor)
    late = await _item(client, world, world.stall["code"], world.vendor, title="Late")
    pages, _ = await _pull(client, world.visitor, {"limit": 2, "format": 2, "cursor": r.json()["cursor"]})
    assert late in {_uuid(i) for p in pages for e, i, _, d in p["changes"] if e == "item"}


async def test_a_format1_client_still_works_and_formats_do_not_mix(client: httpx.AsyncClient, world: World) -> None:
    await _market(client, world)
    r = await client.post("/api/sync/pull", json={"event": EVENT, "cursor": None}, headers=world.visitor)
    page = r.json()
    assert set(page) == {"cursor", "has_more", "reset", "snapshot", "changes"}
    item = next(c for c in page["changes"] if c["entity"] == "item")
    assert set(item) == {"entity", "id", "op", "version", "data"} and item["data"]["photos"] is not None
    assert page["has_more"] is False  # the whole small market, caught up, in one answer
    # A snapshot position of one format is never continued in the other's order: start over.
    r1 = await client.post("/api/sync/pull", json={"event": EVENT, "limit": 1}, headers=world.visitor)
    r2 = await client.post("/api/sync/pull", json={"event": EVENT, "limit": 1, "format": 2}, headers=world.visitor)
    crossed = await client.post(
        "/api/sync/pull",
        json={"event": EVENT, "limit": 1, "format": 2, "cursor": r1.json()["cursor"]},
        headers=world.visitor,
    )
    assert crossed.status_code == 200 and crossed.json()["reset"] is True
    crossed = await client.post(
        "/api/sync/pull", json={"event": EVENT, "limit": 1, "cursor": r2.json()["cursor"]}, headers=world.visitor
    )
    assert crossed.status_code == 200 and crossed.json()["reset"] is True
    # A cursor that follows the log serves either format: an upgraded client keeps its replica.
    _, caught_up = await _pull(client, world.visitor, {})
    r = await client.post(
        "/api/sync/pull", json={"event": EVENT, "format": 2, "cursor": caught_up["cursor"]}, headers=world.visitor
    )
    assert r.status_code == 200 and r.json()["changes"] == [] and r.json()["more"] is False


async def test_format2_ids_expand_to_the_canonical_ids_of_format1(client: httpx.AsyncClient, world: World) -> None:
    """Every id a format-2 pull sends (envelope, an item's stall, a conversation's and a
    message's id fields) is 22 characters of base64url and decodes to format 1's UUID; photo keys
    are 43 characters that decode to the key format 1 sends."""
    market = await _market(client, world)
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    assert r.status_code in (200, 201), r.text
    conversation = r.json()["id"]
    r = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": str(uuid.uuid4()), "body": "Still there?", "item_id": market["mine"][0]},
        headers=world.visitor,
    )
    assert r.status_code in (200, 201), r.text
    one, _ = await _pull(client, world.visitor, {})
    two, _ = await _pull(client, world.visitor, {"format": 2})
    changes = [c for p in two for c in p["changes"]]
    assert all(len(short) == 22 for _, short, _, _ in changes)
    assert {(e, _uuid(i)) for e, i, _, _ in changes} == {(c["entity"], c["id"]) for p in one for c in p["changes"]}
    format1 = {(c["entity"], c["id"]): c["data"] for p in one for c in p["changes"]}
    for entity, short, _, data in changes:
        full = format1[(entity, _uuid(short))]
        if entity == "item":
            assert _uuid(data["stall"]) == full["stall_id"]
        elif entity == "conversation":
            assert [_uuid_or_none(data[n]) for n in ("stall_id", "device_id", "item_id")] == [
                full[n] for n in ("stall_id", "device_id", "item_id")
            ]
        elif entity == "message":
            assert (_uuid(data["conversation_id"]), _uuid_or_none(data["item_id"])) == (
                full["conversation_id"],
                full["item_id"],
            )
    assert {"conversation", "message"} <= {e for e, _, _, _ in changes}
    assert {_key(k) for p in two for k, _, _ in p["photos"]} == set(market["photos"])
