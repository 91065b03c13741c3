"""Who has a live socket right now: counted per person in the database, so every worker sees it.

The live socket (`server/api/live.py`) calls `mark_present` when it opens (+1), closes (-1) and
on every keep-alive (0, refreshing the time); a count not refreshed within `PRESENCE_STALE` (a
worker that died with sockets open) no longer counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.domain.actors import Actor
from server.domain.chat.channels import account_channel, device_channel
from server.domain.views import utc
from server.tables import Presence

PRESENCE_STALE = timedelta(minutes=2)  # open sockets ping every 30 s; a dead worker's count expires


async def is_online(who: str) -> bool:
    """Whether `who` ("account:<id>" / "device:<id>") has a live socket right now."""
    row = await Presence.select(Presence.sockets, Presence.seen_at).where(Presence.who == who).first()
    return bool(row and row["sockets"] > 0 and utc(row["seen_at"]) > datetime.now(UTC) - PRESENCE_STALE)


def presence_key(actor: Actor) -> str:
    """The personal channel an actor's sockets listen on, and count under."""
    return device_channel(actor.device_id) if actor.role == "device" else account_channel(actor.account_id)


async def mark_present(who: str, delta: int) -> None:
    """Add `delta` (+1 open, -1 closed, 0 still here) to `who`'s open sockets, never below zero."""
    now = datetime.now(UTC)
    await Presence.raw(
        "INSERT INTO presence (who, sockets, seen_at) VALUES ({}, {}, {}) "
        "ON CONFLICT (who) DO UPDATE SET sockets = CASE WHEN presence.sockets + {} < 0 THEN 0 "
        "ELSE presence.sockets + {} END, seen_at = {}",
        who,
        max(delta, 0),
        now,
        delta,
        delta,
        now,
    )
