"""Issue 14, finding 8 (server side): sales per hour on the event's clock, and "today".

Each hour carries its first instant (UTC) and its calendar day, so a sale four days after the
event is four days away from the event's last hour (not the bar next to it), the two "01:30" of
the night the clocks go back are two hours, and "today" is today in the event's time zone — not
the whole event's total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx

from server.domain.totals import _today, event_totals
from server.tables import Sale
from tests.conftest import World


async def _sell_at(client: httpx.AsyncClient, world: World, when: datetime, price: int = 500) -> None:
    made = await client.post(
        f"/api/stalls/{world.stall['code']}/items",
        json={"title": f"Jar {when.isoformat()}", "price": price, "quantity": 1},
        headers=world.vendor,
    )
    assert made.status_code == 201, made.text
    sold = await client.post(f"/api/items/{made.json()['id']}/sell", json={"quantity": 1}, headers=world.vendor)
    assert sold.status_code == 201, sold.text
    latest = await Sale.select(Sale.id).where(Sale.item == made.json()["id"]).first()
    assert latest is not None
    await Sale.update({Sale.sold_at: when}).where(Sale.id == latest["id"])


def _event_id(world: World) -> UUID:
    return UUID(str(world.event["id"]))


async def test_a_sale_days_after_the_event_is_days_away_not_in_the_next_bar(
    client: httpx.AsyncClient, world: World
) -> None:
    # The event (Europe/London, GMT in January) runs 09:00–17:00 on 9 January 2027.
    await _sell_at(client, world, datetime(2027, 1, 9, 10, 15, tzinfo=UTC))
    await _sell_at(client, world, datetime(2027, 1, 9, 16, 40, tzinfo=UTC))
    await _sell_at(client, world, datetime(2027, 1, 13, 11, 5, tzinfo=UTC))  # four days later
    totals = await event_totals(_event_id(world), detailed=True)
    assert totals.hours is not None
    hours: list[Any] = totals.hours
    assert [h.hour for h in hours] == ["2027-01-09 10:00", "2027-01-09 16:00", "2027-01-13 11:00"]
    assert [h.day for h in hours] == ["2027-01-09", "2027-01-09", "2027-01-13"]
    starts = [h.starts_at for h in hours]
    assert starts[0] == datetime(2027, 1, 9, 10, tzinfo=UTC)
    assert starts[2] - starts[1] == timedelta(days=3, hours=19), "the late sale keeps its distance"


async def test_hours_are_the_event_clocks_and_a_repeated_hour_stays_two(
    client: httpx.AsyncClient, world: World
) -> None:
    # 31 October 2027: London's clocks go back at 02:00 BST, so 01:30 happens twice.
    await _sell_at(client, world, datetime(2027, 10, 31, 0, 30, tzinfo=UTC))  # 01:30 BST
    await _sell_at(client, world, datetime(2027, 10, 31, 1, 30, tzinfo=UTC))  # 01:30 GMT
    await _sell_at(client, world, datetime(2027, 7, 1, 13, 59, tzinfo=UTC))  # 14:59 BST
    totals = await event_totals(_event_id(world), detailed=True)
    assert totals.hours is not None
    assert [(h.hour, h.sales) for h in totals.hours] == [
        ("2027-07-01 14:00", 1),
        ("2027-10-31 01:00", 1),
        ("2027-10-31 01:00", 1),
    ]
    assert totals.hours[2].starts_at - totals.hours[1].starts_at == timedelta(hours=1)  # type: ignore[operator]


async def test_today_is_today_in_the_events_time_zone(client: httpx.AsyncClient, world: World) -> None:
    now = datetime.now(UTC)
    await _sell_at(client, world, now - timedelta(minutes=5), price=700)
    await _sell_at(client, world, now - timedelta(days=3), price=1100)
    public = await event_totals(_event_id(world))
    assert public.amount == 1800 and public.sales == 2, "the whole event"
    assert public.today is not None
    assert public.today.date == now.astimezone(ZoneInfo("Europe/London")).date().isoformat()
    assert (public.today.amount, public.today.sales) == (700, 1), "today only"
    r = await client.get("/api/events/ripe-jan/totals", headers=world.organizer)
    assert r.status_code == 200, r.text
    assert r.json()["today"] == {"date": public.today.date, "amount": 700, "sales": 1}


def test_today_follows_the_event_zone_not_utc() -> None:
    # 23:30 UTC on 9 January is already 10 January in Auckland (+13) and still the 9th in London.
    now = datetime(2027, 1, 9, 23, 30, tzinfo=UTC)
    sales = [
        {"amount": 300, "sold_at": datetime(2027, 1, 9, 12, 0, tzinfo=UTC)},  # 10 Jan 01:00 in Auckland
        {"amount": 200, "sold_at": datetime(2027, 1, 9, 10, 0, tzinfo=UTC)},  # 9 Jan 23:00 in Auckland
    ]
    auckland = _today(sales, ZoneInfo("Pacific/Auckland"), now)
    assert (auckland.date, auckland.amount, auckland.sales) == ("2027-01-10", 300, 1)
    london = _today(sales, ZoneInfo("Europe/London"), now)
    assert (london.date, london.amount, london.sales) == ("2027-01-09", 500, 2)
