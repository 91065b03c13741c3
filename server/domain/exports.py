"""CSV exports for organizers: every sale, and totals per cause.

Spreadsheets execute cells that start with =, +, - or @ (and tab/CR tricks), so every text cell
that could come from a vendor or visitor is neutralised with a leading apostrophe (OWASP's
advice for CSV injection). Amounts are written as exact decimals in the event's currency.
"""

from __future__ import annotations

import csv
import io
import json
from uuid import UUID
from zoneinfo import ZoneInfo

from server.domain.money import minor_exponent
from server.domain.totals import event_totals
from server.domain.views import utc
from server.tables import Cause, Event, Item, Sale, Stall

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_DANGEROUS) else text


def decimal_amount(amount: int, currency: str) -> str:
    """Exact decimal text of minor units: 1250 GBP -> "12.50", 500 JPY -> "500"."""
    exponent = minor_exponent(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    return f"{sign}{major}.{minor:0{exponent}d}" if exponent else f"{sign}{major}"


async def sales_csv(event_id: UUID) -> str:
    event = await Event.select(Event.time_zone, Event.currency).where(Event.id == event_id).first()
    zone = ZoneInfo(event["time_zone"]) if event else ZoneInfo("UTC")
    causes = {
        c["tag_key"]: c["name"] for c in await Cause.select(Cause.tag_key, Cause.name).where(Cause.event == event_id)
    }
    stalls = {s["id"]: s for s in await Stall.select(Stall.id, Stall.number, Stall.name).where(Stall.event == event_id)}
    titles = {i["id"]: i["title"] for i in await Item.select(Item.id, Item.title).where(Item.event == event_id)}
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(
        [
            "sale_id",
            "sold_at_local",
            "time_zone",
            "stall_number",
            "stall",
            "item",
            "hashtags",
            "cause",
            "quantity",
            "amount",
            "currency",
        ]
    )
    for sale in await Sale.select().where((Sale.event == event_id) & Sale.undone_at.is_null()).order_by(Sale.sold_at):
        stall = stalls.get(sale["stall"], {"number": "", "name": ""})
        cause_names = [causes.get(k, k) for k in json.loads(sale["causes"])]
        tags = " ".join("#" + k for k in json.loads(sale["tag_keys"]))
        writer.writerow(
            [
                str(sale["id"]),
                utc(sale["sold_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                zone.key,
                safe_cell(stall["number"]),
                safe_cell(stall["name"]),
                safe_cell(titles.get(sale["item"], "")),
                safe_cell(tags),
                safe_cell("; ".join(cause_names)),
                sale["quantity"],
                decimal_amount(int(sale["amount"]), sale["currency"]),
                sale["currency"],
            ]
        )
    return out.getvalue()


async def cause_totals_csv(event_id: UUID) -> str:
    totals = await event_totals(event_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["cause", "tag", "sales", "amount", "goal", "currency"])
    for cause in totals.causes:
        goal = decimal_amount(cause.goal, totals.currency) if cause.goal is not None else ""
        writer.writerow(
            [
                safe_cell(cause.name),
                safe_cell(cause.tag),
                cause.sales,
                decimal_amount(cause.amount, totals.currency),
                goal,
                totals.currency,
            ]
        )
    writer.writerow(
        ["(all sales)", "", totals.sales, decimal_amount(totals.amount, totals.currency), "", totals.currency]
    )
    return out.getvalue()
