"""Sale totals for organizers and kiosks: sums over recorded sales, never over item state,
so a later edit of an item can never rewrite what was actually taken."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

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
    hour: str  # "14:00" in the event's time zone
    amount: int
    sales: int


@dataclass(frozen=True)
class EventTotals:
    currency: str
    amount: int
    sales: int
    causes: list[CauseTotal]
    stalls: list[StallTotal] | None = None
    hours: list[HourTotal] | None = None


async def event_totals(event_id: UUID, *, detailed: bool = False) -> EventTotals:
    """Overall and per-cause totals (public); per stall and per hour too when `detailed`."""
    event = await Event.select(Event.currency, Event.time_zone).where(Event.id == event_id).first()
    currency, zone = (event["currency"], ZoneInfo(event["time_zone"])) if event else ("", ZoneInfo("UTC"))
    causes = await Cause.select().where(Cause.event == event_id).order_by(Cause.created_at)
    sales = await Sale.select(Sale.amount, Sale.causes, Sale.stall, Sale.sold_at).where(Sale.event == event_id)
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
    )
    if not detailed:
        return totals
    return EventTotals(
        totals.currency,
        totals.amount,
        totals.sales,
        totals.causes,
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
    sums: dict[datetime, list[int]] = {}
    for sale in sales:
        local = utc(sale["sold_at"]).astimezone(zone).replace(minute=0, second=0, microsecond=0)
        _add(sums.setdefault(local, [0, 0]), sale)
    return [HourTotal(hour.strftime("%Y-%m-%d %H:00"), *sums[hour]) for hour in sorted(sums)]


def _add(acc: list[int], sale: dict[str, Any]) -> None:
    acc[0] += int(sale["amount"])
    acc[1] += 1
