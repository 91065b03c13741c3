"""The market bench_writes.py loads: 4 events, 5 vendor stalls each with 10 items, 500 visitor
devices per event each with a conversation; made through the domain before the servers start."""

from __future__ import annotations

import time
from dataclasses import dataclass

from harness.data import market_for, running
from harness.seed import bench_event, join_vendor, organizer, visitor_conversations

from server.database import drop_all_tables
from server.domain import events, items
from server.domain.actors import Actor, actor_for_token
from server.domain.context import Services
from server.domain.items import ItemInput
from server.migrate import migrate
from server.settings import Settings
from sync.log import ensure_log_head
from writes_bench.config import (
    EVENTS,
    ITEM_QUANTITY,
    ITEMS_PER_STALL,
    MESSAGE_BUDGET,
    SEED_BATCH,
    VENDORS_PER_EVENT,
    VISITORS_PER_EVENT,
)


@dataclass(frozen=True)
class Vendor:
    n: int
    token: str
    event: str
    item_ids: list[str]


@dataclass
class Visitor:
    """A visitor device with its conversation; `used` counts the messages of its current lease."""

    n: int
    token: str
    conversation_id: str
    used: int = 0
    sync_client: str = ""
    next_mutation: int = 1

    @property
    def left(self) -> int:
        return MESSAGE_BUDGET - self.used


@dataclass(frozen=True)
class World:
    vendors: list[Vendor]
    visitors: list[Visitor]


async def seed_event(
    market: Services, organizer: Actor, e: int, first_visitor: int
) -> tuple[list[Vendor], list[Visitor]]:
    """One event: its vendor stalls with their items, its visitors each with a conversation."""
    event = bench_event(f"Bench Writes {e}", f"bench-writes-{e}", f"#BenchWrites{e}")
    slug = (await events.create_event(market, organizer, event)).slug
    codes = await events.create_invites(market, organizer, slug, VENDORS_PER_EVENT)
    vendors, stall_codes = [], []
    for v, code in enumerate(codes):
        n = e * VENDORS_PER_EVENT + v
        token, stall_code = await join_vendor(market, code, n)
        actor = await actor_for_token(token)
        made = [
            await items.create_item(market, actor, stall_code, ItemInput(f"Thing {k}", 500 + k, quantity=ITEM_QUANTITY))
            for k in range(ITEMS_PER_STALL)
        ]
        vendors.append(Vendor(n, token, slug, [str(item.id) for item in made]))
        stall_codes.append(stall_code)
    made_visitors = await visitor_conversations(market, stall_codes, VISITORS_PER_EVENT, SEED_BATCH)
    visitors = [
        Visitor(first_visitor + k, token, conversation) for k, (token, conversation) in enumerate(made_visitors)
    ]
    return vendors, visitors


async def seed(settings: Settings) -> tuple[World, str]:
    """Empty the database, migrate, make the market; (world, name of the SQLite engine class)."""
    async with running(market_for(settings), migrated=False) as market:
        if not settings.is_sqlite:
            await drop_all_tables(market.engine)
        await migrate(market.engine)
        await ensure_log_head()
        by = await organizer()
        vendors: list[Vendor] = []
        visitors: list[Visitor] = []
        for e in range(EVENTS):
            more_vendors, more_visitors = await seed_event(market, by, e, len(visitors))
            vendors += more_vendors
            visitors += more_visitors
        return World(vendors, visitors), type(market.engine).__name__


async def seeded(settings: Settings) -> tuple[World, str]:
    began = time.perf_counter()
    world, engine = await seed(settings)
    print(
        f"seeded {EVENTS} events, {len(world.vendors)} vendor stalls × {ITEMS_PER_STALL} items "
        f"(quantity {ITEM_QUANTITY:,}), {len(world.visitors):,} visitor devices with a conversation each, "
        f"in {time.perf_counter() - began:.1f} s (engine {engine})",
        flush=True,
    )
    return world, engine
