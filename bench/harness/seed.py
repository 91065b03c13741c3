"""The bench markets' people, made through the domain functions before a server starts (seeding
is not what is measured): an organizer, events, vendors joining with a stall, visitor devices
each with a conversation."""

from __future__ import annotations

from datetime import UTC, datetime

from server.auth.tokens import create_device
from server.domain import chat, events, stalls
from server.domain.accounts import NewAccount, create_account
from server.domain.actors import Actor
from server.domain.context import Services
from sync.log import unit_of_work


async def organizer() -> Actor:
    account = await create_account(NewAccount("org@example.org", "correct horse", "Org"), "organizer")
    return Actor("organizer", account_id=account)


def bench_event(name: str, slug: str, hashtag: str) -> events.EventInput:
    """A one-day event in 2027, in pounds."""
    return events.EventInput(
        name=name,
        slug=slug,
        hashtag=hashtag,
        starts_at=datetime(2027, 1, 9, 9, tzinfo=UTC),
        ends_at=datetime(2027, 1, 9, 17, tzinfo=UTC),
        time_zone="Europe/London",
        currency="GBP",
        venue="Old Station Yard",
    )


async def join_vendor(market: Services, invite_code: str, n: int) -> tuple[str, str]:
    """Vendor `n` signs up through the invite with stall `n`; (their token, the stall's code)."""
    joined = await stalls.join_event(
        market,
        None,
        invite_code,
        stalls.StallInput(name=f"Stall {n}", store_tag=f"#Shop{n}", number=f"A{n:02d}"),
        NewAccount(f"vendor{n}@example.org", "vendor-pass", f"Vendor {n}"),
    )
    assert joined.token is not None
    return joined.token, joined.stall.code


async def visitor_conversations(
    market: Services, stall_codes: list[str], count: int, batch: int
) -> list[tuple[str, str]]:
    """`count` visitor devices, visitor k with a conversation with stall k mod stalls; (token,
    conversation id) of each. One transaction per `batch` visitors."""
    made: list[tuple[str, str]] = []
    for start in range(0, count, batch):
        async with unit_of_work(market.engine, None):
            for k in range(start, min(start + batch, count)):
                device_id, token = await create_device()
                device = Actor("device", device_id=device_id)
                view = await chat.open_conversation(market, device, stall_codes[k % len(stall_codes)])
                made.append((token, str(view.id)))
    return made
