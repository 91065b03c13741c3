"""The market bench_scaleout.py loads into its fresh PostgreSQL database, through the domain
functions before any server starts (not measured): the demo market (what `souk demo` serves:
search has its data), then the write world of bench_writes (bench events, vendor stalls with
items, visitor devices each with a conversation) that the write load uses."""

from __future__ import annotations

import time
from pathlib import Path

from harness.data import first_event_slug, load_demo_market, market_for, running
from harness.seed import organizer
from writes_bench.seed import Vendor, Visitor, World, seed_event

from search.documents import ItemDocument
from server.migrate import migrate
from server.search_source import item_documents
from server.settings import Settings
from server.tables import Item
from sync.log import ensure_log_head


def seed_settings(folder: Path, database_url: str) -> Settings:
    return Settings.from_env({"SOUK_DATA_DIR": str(folder), "SOUK_DATABASE_URL": database_url})


async def seed_demo(settings: Settings, loaded: bool) -> tuple[str, list[ItemDocument]]:
    """Migrate the database and load the demo market unless it is `loaded` (a copy of the saved
    template); (its slug, its items as documents)."""
    began = time.perf_counter()
    async with running(market_for(settings), migrated=False) as market:
        await migrate(market.engine)
        await ensure_log_head()
        slug = await first_event_slug() if loaded else await load_demo_market(market)
        ids = [str(r["id"]) for r in await Item.select(Item.id).where(Item.deleted_at.is_null())]
        docs, _ = await item_documents(ids)
    how = "copied from the saved template database" if loaded else "loaded through the domain"
    print(f"demo market {how}: {len(docs):,} items, in {time.perf_counter() - began:.1f} s", flush=True)
    return slug, docs


async def seed_writers(settings: Settings, event_count: int) -> World:
    """`event_count` bench events as bench_writes makes them (5 stalls × 10 items, 500 visitors each)."""
    began = time.perf_counter()
    async with running(market_for(settings), migrated=False) as market:
        by = await organizer()
        vendors: list[Vendor] = []
        visitors: list[Visitor] = []
        for e in range(event_count):
            more_vendors, more_visitors = await seed_event(market, by, e, len(visitors))
            vendors += more_vendors
            visitors += more_visitors
    print(
        f"write world seeded: {event_count} events, {len(vendors)} vendor stalls, "
        f"{len(visitors):,} visitor devices with a conversation, in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    return World(vendors, visitors)
