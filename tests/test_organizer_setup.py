"""Issue 14, finding 5: the organizer sets up the market from the dashboard, so every step it
takes needs an organizer-only API: invites (join link, who joined with which stall, revoke),
causes (name, tag, goal, edited), stalls (number, place, hidden ones listed)."""

from __future__ import annotations

from typing import Any

import httpx

from server.tables import ChangeLog
from tests.conftest import World

EVENT = "/api/events/ripe-jan"


async def _refused_to_others(client: httpx.AsyncClient, world: World, method: str, path: str, body: Any = None) -> None:
    before = await ChangeLog.count()
    for headers, status in (({}, 401), (world.visitor, 403), (world.vendor, 403), (world.other_organizer, 403)):
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (method, path, headers, r.text)
        assert r.json()["error"]
    assert await ChangeLog.count() == before


async def _join(client: httpx.AsyncClient, code: str, n: int) -> httpx.Response:
    return await client.post(
        "/api/vendors/join",
        json={
            "invite_code": code,
            "email": f"setup{n}@example.org",
            "password": "vendor-pass",
            "display_name": f"Setup Vendor {n}",
            "stall": {"name": f"Setup Stall {n}", "store_tag": f"#SetupShop{n}"},
        },
    )


async def test_invites_show_link_who_joined_and_can_be_revoked(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(f"{EVENT}/invites", json={"count": 3}, headers=world.organizer)
    assert r.status_code == 201, r.text
    fresh, spare, joined = r.json()["codes"]
    assert (await _join(client, joined, 1)).status_code == 201

    rows = (await client.get(f"{EVENT}/invites", headers=world.organizer)).json()
    by_code = {row["code"]: row for row in rows}
    assert len(rows) == 5  # the two the world's vendors joined with, and these three
    assert by_code[fresh]["link"] == f"http://127.0.0.1:8000/app/#/vendor?invite={fresh}"
    assert (by_code[fresh]["used"], by_code[fresh]["revoked"], by_code[fresh]["stall"]) == (False, False, None)
    used = by_code[joined]
    assert used["used"] and used["used_at"] and used["vendor_name"] == "Setup Vendor 1"
    assert used["stall"]["name"] == "Setup Stall 1" and used["stall"]["code"]
    world_rows = [row for row in rows if row["stall"] and row["stall"]["code"] == world.stall["code"]]
    assert world_rows and world_rows[0]["vendor_name"] == "Vendor 1"

    # The link's QR code comes from the server's one QR maker.
    qr = await client.get("/kiosk-qr.svg", params={"url": by_code[fresh]["link"]})
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    await _refused_to_others(client, world, "DELETE", f"{EVENT}/invites/{fresh}")
    await _refused_to_others(client, world, "GET", f"{EVENT}/invites")
    r = await client.delete(f"{EVENT}/invites/{fresh.lower()}", headers=world.organizer)
    assert r.status_code == 204, r.text
    assert (await client.delete(f"{EVENT}/invites/{fresh}", headers=world.organizer)).status_code == 204  # again: same
    refused = await _join(client, fresh, 2)
    assert refused.status_code == 409 and "withdrawn" in refused.json()["error"]
    rows = {row["code"]: row for row in (await client.get(f"{EVENT}/invites", headers=world.organizer)).json()}
    assert rows[fresh]["revoked"] and not rows[spare]["revoked"]

    r = await client.delete(f"{EVENT}/invites/{joined}", headers=world.organizer)
    assert r.status_code == 409 and "hide the stall" in r.json()["error"]
    assert (await client.delete(f"{EVENT}/invites/NOPE-NOPE", headers=world.organizer)).status_code == 404
    assert (await _join(client, spare, 3)).status_code == 201


async def test_causes_are_edited_name_goal_and_tag(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(f"{EVENT}/causes", json={"name": "River", "tag": "#RiverRescue"}, headers=world.organizer)
    cause = r.json()
    other = (
        await client.post(f"{EVENT}/causes", json={"name": "Food", "tag": "#FoodBank"}, headers=world.organizer)
    ).json()
    path = f"{EVENT}/causes/{cause['id']}"
    await _refused_to_others(client, world, "PATCH", path, {"name": "x"})

    r = await client.patch(path, json={"name": "River Rescue Trust", "goal": 50_000}, headers=world.organizer)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["goal"], r.json()["tag"], r.json()["version"]) == (
        "River Rescue Trust",
        50_000,
        "#RiverRescue",
        2,
    )
    assert (await client.patch(path, json={"goal": 0}, headers=world.organizer)).json()["goal"] is None
    # Nothing counts for it yet: the tag may change, not to another cause's or to #SocialCause.
    r = await client.patch(path, json={"tag": "#Rivers"}, headers=world.organizer)
    assert r.status_code == 200 and r.json()["tag"] == "#Rivers", r.text
    for body, status in (
        ({"tag": "#FoodBank"}, 409),
        ({"tag": "#SocialCause"}, 422),
        ({"tag": "two words"}, 422),
        ({"name": ""}, 422),
        ({"goal": -5}, 422),
        ({"goal": "ten"}, 400),
    ):
        r = await client.patch(path, json=body, headers=world.organizer)
        assert r.status_code in (status, 400, 422) and r.status_code >= 400, (body, r.text)
        assert r.json()["error"]
    # Once an item counts for it, its tag stays (the sales would lose it); its name may still change.
    await client.post(
        f"/api/stalls/{world.stall['code']}/items", json={"title": "Jam #Rivers", "price": 300}, headers=world.vendor
    )
    r = await client.patch(path, json={"tag": "#RiverTrust"}, headers=world.organizer)
    assert r.status_code == 409 and "tag stays" in r.json()["error"], r.text
    assert (await client.patch(path, json={"tag": "#rivers"}, headers=world.organizer)).status_code == 200
    listed = (await client.get(f"{EVENT}/causes")).json()
    assert [(c["name"], c["tag"]) for c in listed] == [("River Rescue Trust", "#rivers"), ("Food", "#FoodBank")]
    assert (await client.patch(f"{EVENT}/causes/{other['id']}", json={}, headers=world.organizer)).status_code == 200
    missing = f"{EVENT}/causes/00000000-0000-4000-8000-000000000000"
    assert (await client.patch(missing, json={"name": "x"}, headers=world.organizer)).status_code == 404


async def test_stalls_get_number_and_place_and_hidden_ones_stay_listed(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    path = f"/api/stalls/{code}/place"
    await _refused_to_others(client, world, "PATCH", path, {"number": "B7"})
    await _refused_to_others(client, world, "GET", f"{EVENT}/setup/stalls")
    r = await client.patch(path, json={"number": "B7", "location": "Under the clock"}, headers=world.organizer)
    assert r.status_code == 200, r.text
    assert (r.json()["number"], r.json()["location"]) == ("B7", "Under the clock")
    assert (await client.get(f"/api/stalls/{code}")).json()["location"] == "Under the clock"
    r = await client.patch(path, json={"number": "x" * 17}, headers=world.organizer)
    assert r.status_code == 422 and r.json()["field"] == "number"

    assert (await client.post(f"/api/stalls/{code}/hidden", json={"hidden": True}, headers=world.organizer)).is_success
    public = {s["code"] for s in (await client.get(f"{EVENT}/stalls")).json()}
    assert code not in public
    rows = (await client.get(f"{EVENT}/setup/stalls", headers=world.organizer)).json()
    mine = next(r for r in rows if r["stall"]["code"] == code)
    assert mine["stall"]["hidden"] and mine["vendor_name"] == "Vendor 1" and mine["items"] == 0
    assert {r["stall"]["code"] for r in rows} == {code, world.other_stall["code"]}
