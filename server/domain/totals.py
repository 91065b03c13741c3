"""Sale totals for organizers and kiosks: sums over recorded sales, never over item state,
so a later edit of an item can never rewrite what was actually taken."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from server.domain.hashtags import SOCIAL_CAUSE_KEY
from server.domain.views import utc
from server.tables import Cause, Event, Sale, Stall


@dataclass(frozen=True)
class CauseTotal:
    tag_key: str
    tag: str
    name: str
    goal: int | None
    amount: int  # minor units
    sales: int


@dataclass(frozen=True)
class StallTotal:
    stall_id: str
    number: str
    name: str
    amount: int
    sales: int


@dataclass(frozen=True)
class HourTotal:
    hour: str  # "2027-01-09 14:00" in the event's time zone
    amount: int
    sales: int
    starts_at: datetime | None = None  # the hour's first instant (UTC): hours in order, gaps measurable
    day: str = ""  # "2027-01-09": the event's calendar day the hour belongs to


@dataclass(frozen=True)
class DayTotal:
    """One calendar day in the event's time zone ("today" on the dashboard and the kiosk)."""

    date: str  # "2027-01-09"
    amount: int
    sales: int


@dataclass(frozen=True)
class CharityTotal:
    """All causes combined: each sale counted once, even when its item counts for two causes.
    `uncredited` is what items tagged #SocialCause sold without naming a cause: money meant for
    charity that no cause has yet (the organizer assigns those items a cause)."""

    amount: int
    sales: int
    uncredited_amount: int
    uncredited_sales: int


@dataclass(frozen=True)
class EventTotals:
    currency: str
    amount: int
    sales: int
    causes: list[CauseTotal]
    stalls: list[StallTotal] | None = None
    hours: list[HourTotal] | None = None
    charity: CharityTotal | None = None
    today: DayTotal | None = None  # today in the event's time zone, whatever the event's dates


async def event_totals(event_id: UUID, *, detailed: bool = False) -> EventTotals:
    """Overall and per-cause totals (public); per stall and per hour too when `detailed`."""
    event = await Event.select(Event.currency, Event.time_zone).where(Event.id == event_id).first()
    currency, zone = (event["currency"], ZoneInfo(event["time_zone"])) if event else ("", ZoneInfo("UTC"))
    causes = await Cause.select().where(Cause.event == event_id).order_by(Cause.created_at)
    sales = await Sale.select(Sale.amount, Sale.causes, Sale.tag_keys, Sale.stall, Sale.sold_at).where(
        (Sale.event == event_id) & Sale.undone_at.is_null()  # an undone sale counts nowhere
    )
    by_cause = {c["tag_key"]: [0, 0] for c in causes}
    for sale in sales:
        for key in json.loads(sale["causes"]):
            if key in by_cause:
                _add(by_cause[key], sale)
    totals = EventTotals(
        currency=currency,
        amount=sum(int(s["amount"]) for s in sales),
        sales=len(sales),
        causes=[CauseTotal(c["tag_key"], c["tag"], c["name"], c["goal"], *by_cause[c["tag_key"]]) for c in causes],
        charity=_charity(sales, set(by_cause)),
        today=_today(sales, zone),
    )
    if not detailed:
        return totals
    return EventTotals(
        totals.currency,
        totals.amount,
        totals.sales,
        totals.causes,
        charity=totals.charity,
        today=totals.today,
        stalls=await _per_stall(event_id, sales),
        hours=_per_hour(sales, zone),
    )


async def _per_stall(event_id: UUID, sales: list[dict[str, Any]]) -> list[StallTotal]:
    sums: dict[Any, list[int]] = {}
    for sale in sales:
        _add(sums.setdefault(sale["stall"], [0, 0]), sale)
    stalls = await Stall.select(Stall.id, Stall.number, Stall.name).where(Stall.event == event_id)
    rows = [StallTotal(str(s["id"]), s["number"], s["name"], *sums.get(s["id"], [0, 0])) for s in stalls]
    return sorted(rows, key=lambda r: (-r.amount, r.number))


def _per_hour(sales: list[dict[str, Any]], zone: ZoneInfo) -> list[HourTotal]:
    """Sales per hour of the event's clock, each hour keyed by its first UTC instant (so the two
    "01:00" of a night the clocks go back stay two hours, and a sale days later is days away)."""
    sums: dict[datetime, list[int]] = {}
    for sale in sales:
        local = utc(sale["sold_at"]).astimezone(zone)  # keeps `fold`: which of two "01:00" it is
        start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        _add(sums.setdefault(start, [0, 0]), sale)
    hours = []
    for start in sorted(sums):
        local = start.astimezone(zone)
        amount, count = sums[start]
        hours.append(HourTotal(local.strftime("%Y-%m-%d %H:00"), amount, count, start, local.strftime("%Y-%m-%d")))
    return hours


def _today(sales: list[dict[str, Any]], zone: ZoneInfo, now: datetime | None = None) -> DayTotal:
    """What was sold today, "today" being the event's calendar day now, not the server's."""
    day = (now or datetime.now(UTC)).astimezone(zone).date()
    acc = [0, 0]
    for sale in sales:
        if utc(sale["sold_at"]).astimezone(zone).date() == day:
            _add(acc, sale)
    return DayTotal(day.isoformat(), *acc)


def _charity(sales: list[dict[str, Any]], cause_keys: set[str]) -> CharityTotal:
    credited, uncredited = [0, 0], [0, 0]
    for sale in sales:
        if cause_keys.intersection(json.loads(sale["causes"])):
            _add(credited, sale)
        elif SOCIAL_CAUSE_KEY in json.loads(sale["tag_keys"]):
            _add(uncredited, sale)
    return CharityTotal(*credited, *uncredited)


def _add(acc: list[int], sale: dict[str, Any]) -> None:
    acc[0] += int(sale["amount"])
    acc[1] += 1
