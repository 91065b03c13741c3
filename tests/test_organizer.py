"""The organizer's day: live totals per cause/stall/hour, CSV exports that cannot attack a
spreadsheet, moderation, kiosk tokens and printable signs whose QR codes decode."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from tests.conftest import World, bearer
from tests.pdf_qr import qr_texts_per_page


async def _cause_and_items(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    r = await client.post(
        "/api/events/ripe-jan/causes",
        json={"name": "River Rescue", "tag": "#RiverRescue", "goal": 10000},
        headers=world.organizer,
    )
    assert r.status_code == 201
    made = {}
    for title, price, who, code in (
        ("Tote bag #RiverRescue", 1500, world.vendor, world.stall["code"]),
        ('=HYPERLINK("http://evil","x"), "quoted"', 700, world.vendor, world.stall["code"]),
        ("Plant #RiverRescue", 900, world.other_vendor, world.other_stall["code"]),
    ):
        made[title] = (
            await client.post(
                f"/api/stalls/{code}/items", json={"title": title, "price": price, "quantity": 50}, headers=who
            )
        ).json()["id"]
    return made


async def test_totals_per_cause_stall_and_hour(client: httpx.AsyncClient, world: World) -> None:
    made = await _cause_and_items(client, world)
    ids = list(made.values())
    await client.post(f"/api/items/{ids[0]}/sell", json={"quantity": 2}, headers=world.vendor)  # 3000, cause
    await client.post(f"/api/items/{ids[1]}/sell", json={"quantity": 1, "amount": 650}, headers=world.vendor)
    await client.post(f"/api/items/{ids[2]}/sell", json={"quantity": 1}, headers=world.other_vendor)  # 900, cause
    r = await client.get("/api/events/ripe-jan/totals", headers=world.organizer)
    assert r.status_code == 200, r.text
    totals = r.json()
    assert (totals["amount"], totals["sales"], totals["currency"]) == (4550, 3, "GBP")
    assert [(c["tag"], c["amount"], c["sales"], c["goal"]) for c in totals["causes"]] == [
        ("#RiverRescue", 3900, 2, 10000)
    ]
    assert {s["name"]: s["amount"] for s in totals["stalls"]} == {"Stall 1": 3650, "Stall 2": 900}
    assert sum(h["amount"] for h in totals["hours"]) == 4550
    for headers, status in ((world.vendor, 403), (world.other_organizer, 403), (world.visitor, 403), ({}, 401)):
        assert (await client.get("/api/events/ripe-jan/totals", headers=headers)).status_code == status
    public = (await client.get("/api/events/ripe-jan/cause-totals")).json()
    assert public["causes"][0]["amount"] == 3900 and public["stalls"] is None
    assert (await client.get("/api/events/nope/totals", headers=world.organizer)).status_code == 404


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sales=st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 3), st.one_of(st.none(), st.integers(0, 5000))), max_size=12
    )
)
async def test_cause_totals_equal_the_sum_of_recorded_sales(
    client: httpx.AsyncClient, world: World, sales: list[tuple[int, int, int | None]]
) -> None:
    event = "ripe-jan"
    cause_tag = f"#Cause{uuid.uuid4().hex[:8]}"
    r = await client.post(f"/api/events/{event}/causes", json={"name": "C", "tag": cause_tag}, headers=world.organizer)
    assert r.status_code == 201, r.text
    key = cause_tag[1:].lower()
    ids = [
        (
            await client.post(
                f"/api/stalls/{world.stall['code']}/items",
                json={"title": f"Thing {cause_tag if i < 2 else ''}", "price": 250 + i, "quantity": 100},
                headers=world.vendor,
            )
        ).json()["id"]
        for i in range(3)
    ]
    expected = 0
    for which, quantity, amount in sales:
        body: dict[str, Any] = {"quantity": quantity} | ({"amount": amount} if amount is not None else {})
        r = await client.post(f"/api/items/{ids[which]}/sell", json=body, headers=world.vendor)
        assert r.status_code == 201
        if which < 2:
            expected += r.json()["sale"]["amount"]
    totals = (await client.get(f"/api/events/{event}/cause-totals")).json()
    assert {c["tag_key"]: c["amount"] for c in totals["causes"]}[key] == expected
    rows = list(
        csv.DictReader(
            io.StringIO(
                (await client.get(f"/api/events/{event}/cause-totals.csv", headers=world.organizer)).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    row = next(r for r in rows if r["tag"] == cause_tag)
    assert row["amount"] == f"{expected // 100}.{expected % 100:02d}"


async def test_sales_csv_is_safe_and_exact(client: httpx.AsyncClient, world: World) -> None:
    made = await _cause_and_items(client, world)
    evil = next(v for k, v in made.items() if k.startswith("="))
    await client.post(f"/api/items/{evil}/sell", json={"quantity": 2, "amount": 1301}, headers=world.vendor)
    r = await client.get("/api/events/ripe-jan/sales.csv", headers=world.organizer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["item"].startswith("'=") and '"quoted"' in row["item"], "formula neutralised, quotes kept"
    assert row["amount"] == "13.01" and row["currency"] == "GBP" and row["quantity"] == "2"
    assert row["time_zone"] == "Europe/London" and row["stall"] == "Stall 1"
    assert (await client.get("/api/events/ripe-jan/sales.csv", headers=world.vendor)).status_code == 403


async def test_moderation_hides_reports_and_blocks(client: httpx.AsyncClient, app: Litestar, world: World) -> None:
    made = await _cause_and_items(client, world)
    item = next(iter(made.values()))
    assert (
        await client.post(f"/api/items/{item}/hidden", json={"hidden": True}, headers=world.vendor)
    ).status_code == 403
    r = await client.post(f"/api/items/{item}/hidden", json={"hidden": True}, headers=world.organizer)
    assert r.status_code == 200 and r.json()["hidden"] is True
    assert item not in {i["id"] for i in (await client.get("/api/events/ripe-jan/items")).json()}
    await app.state.indexer.catch_up()
    found = (await client.get("/api/events/ripe-jan/search", params={"q": "tote"})).json()
    assert found["total"] == 0
    r = await client.post(
        f"/api/stalls/{world.other_stall['code']}/hidden", json={"hidden": True}, headers=world.organizer
    )
    assert r.status_code == 200
    assert [s["code"] for s in (await client.get("/api/events/ripe-jan/stalls")).json()] == [world.stall["code"]]
    # A visitor reports a rude message; the organizer sees it and blocks the sender's device.
    rude = bearer((await client.post("/api/devices")).json()["token"])
    conversation = (
        await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=rude)
    ).json()
    message = (
        await client.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "rude words"},
            headers=rude,
        )
    ).json()
    r = await client.post(f"/api/messages/{message['id']}/report", json={"reason": "abusive"}, headers=world.vendor)
    assert r.status_code == 201
    assert (
        await client.post(f"/api/messages/{message['id']}/report", json={}, headers=world.visitor)
    ).status_code == 404
    reports = (await client.get("/api/events/ripe-jan/reports", headers=world.organizer)).json()
    assert [(x["body"], x["reason"]) for x in reports] == [("rude words", "abusive")]
    assert reports[0]["device_id"] == conversation["device_id"] and reports[0]["stall_code"] == world.stall["code"]
    assert (await client.get("/api/events/ripe-jan/reports", headers=world.other_organizer)).status_code == 403
    r = await client.post(
        "/api/events/ripe-jan/blocked-devices", json={"device_id": conversation["device_id"]}, headers=world.organizer
    )
    assert r.status_code == 204
    again = await client.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"message_id": str(uuid.uuid4()), "body": "more"},
        headers=rude,
    )
    assert again.status_code == 403 and "blocked" in again.json()["error"]
    ok = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    assert ok.status_code == 201


async def test_kiosk_tokens_open_only_their_event(client: httpx.AsyncClient, world: World) -> None:
    from tests.conftest import EVENT_BODY

    r = await client.post("/api/events/ripe-jan/kiosk-tokens", json={"label": "Gate A"}, headers=world.organizer)
    assert r.status_code == 201
    token = r.json()["token"]
    assert r.json()["url"].endswith(f"/kiosk/ripe-jan#token={token}")
    for headers in (world.vendor, world.visitor, world.other_organizer):
        assert (await client.post("/api/events/ripe-jan/kiosk-tokens", json={}, headers=headers)).status_code == 403
    setup = await client.get("/api/kiosk/ripe-jan", headers={"token": token})
    assert setup.status_code == 200 and len(setup.json()["stalls"]) == 2
    assert (await client.get("/api/kiosk/ripe-jan")).status_code == 401
    assert (await client.get("/api/kiosk/ripe-jan", headers={"token": "forged"})).status_code == 401
    other = {**EVENT_BODY, "slug": "other-fair"}
    await client.post("/api/events", json=other, headers=world.other_organizer)
    assert (await client.get("/api/kiosk/other-fair", headers={"token": token})).status_code == 403
    assert (await client.get("/api/kiosk/nope", headers={"token": token})).status_code == 404


async def test_signs_and_price_tags_decode_to_their_urls(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/api/events/ripe-jan/signs.pdf", params={"page": "letter"}, headers=world.organizer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert sorted(qr_texts_per_page(r.content)) == sorted([[world.stall["url"]], [world.other_stall["url"]]])
    assert (await client.get("/api/events/ripe-jan/signs.pdf", headers=world.vendor)).status_code == 403
    bad = await client.get("/api/events/ripe-jan/signs.pdf", params={"page": "a3"}, headers=world.organizer)
    assert bad.status_code == 422 and bad.json()["field"] == "page"
    one = await client.get(f"/s/{world.stall['code']}/sign.pdf")
    assert qr_texts_per_page(one.content) == [[world.stall["url"]]]
    svg = await client.get(f"/s/{world.stall['code']}/sign.svg")
    assert svg.status_code == 200 and "Stall 1" in svg.text
    item = (
        await client.post(
            f"/api/stalls/{world.stall['code']}/items", json={"title": "Jam", "price": 450}, headers=world.vendor
        )
    ).json()
    tags = await client.get(f"/api/stalls/{world.stall['code']}/price-tags.pdf", headers=world.vendor)
    assert tags.status_code == 200
    assert qr_texts_per_page(tags.content) == [[f"http://127.0.0.1:8000/s/{world.stall['code']}?item={item['id']}"]]
    other = await client.get(f"/api/stalls/{world.stall['code']}/price-tags.pdf", headers=world.other_vendor)
    assert other.status_code == 403
