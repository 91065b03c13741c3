"""The market bench_chat.py loads: one event, 10 vendor stalls, 990 visitor devices each with a
conversation with stall `visitor % 10`; made through the domain before the server starts."""

from __future__ import annotations

from dataclasses import dataclass

from harness.data import market_for, running
from harness.seed import bench_event, join_vendor, organizer, visitor_conversations

from chat_bench.config import SLUG, VENDORS, VISITORS
from server.domain import events
from server.settings import Settings
from sync.log import ensure_log_head


@dataclass(frozen=True)
class Visitor:
    n: int
    token: str
    conversation_id: str
    stall: int

    @property
    def name(self) -> str:
        return f"visitor:{self.n}"


@dataclass(frozen=True)
class Vendor:
    n: int
    token: str

    @property
    def name(self) -> str:
        return f"vendor:{self.n}"


@dataclass(frozen=True)
class World:
    vendors: list[Vendor]
    visitors: list[Visitor]


async def seed(settings: Settings) -> World:
    """Migrate, then make the market through the domain functions, before the server starts."""
    async with running(market_for(settings)) as market:
        await ensure_log_head()
        by = await organizer()
        await events.create_event(market, by, bench_event("Bench Market", SLUG, "#BenchMarket"))
        codes = await events.create_invites(market, by, SLUG, VENDORS)
        vendors, stall_codes = [], []
        for n, code in enumerate(codes):
            token, stall_code = await join_vendor(market, code, n)
            vendors.append(Vendor(n, token))
            stall_codes.append(stall_code)
        # One transaction per batch: seeding is not what we measure.
        made = await visitor_conversations(market, stall_codes, VISITORS, 110)
    return World(vendors, [Visitor(n, token, chat, n % VENDORS) for n, (token, chat) in enumerate(made)])
