"""Rate limits: how often one client address, device or account may do something costly.

Anyone in a market's crowd can talk to the server without an account, so everything that is
cheap to ask and dear to answer (a device token, a password check, a code guess, an upload, a
report, a sync push) is counted per key in fixed windows. Over the limit the caller gets 429 with
`Retry-After` and everyone else carries on.

Two backends behind one interface, picked like pub/sub: in-process counters for the embedded
deployment, Redis when `SOUK_REDIS_URL` is set, so several processes and machines share one
count (each process counting alone would multiply every limit by the number of processes).
Counts are not data: losing them (a restart, a Redis flush) only forgives a little early.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from server.domain.errors import TooManyRequests


@dataclass(frozen=True)
class Rule:
    """At most `limit` hits per `window` seconds for one key; `what` words the refusal."""

    name: str
    limit: int
    window: int
    what: str

    def scaled(self, factor: float) -> Rule:
        return Rule(self.name, max(1, round(self.limit * factor)), self.window, self.what)


# The defaults leave room for a venue's shared Wi-Fi (hundreds of phones behind one address) and
# stop scripts: 200 device tokens in 1.5 s, password or code guessing, upload floods.
NEW_DEVICE_PER_ADDRESS = Rule("device-address", 60, 60, "new visitor devices from this address")
NEW_DEVICE_PER_ADDRESS_HOUR = Rule("device-address-h", 600, 3600, "new visitor devices from this address")
SIGN_IN_FAILURES_PER_ACCOUNT = Rule("login-account", 10, 900, "failed sign-ins for this account")
SIGN_IN_FAILURES_PER_ADDRESS = Rule("login-address", 30, 900, "failed sign-ins from this address")
CODE_FAILURES_PER_ADDRESS = Rule("code-address", 20, 900, "wrong invite or resume codes from this address")
REPORTS_PER_REPORTER = Rule("report", 20, 3600, "reports")
SYNC_PUSHES_PER_CALLER = Rule("push", 120, 60, "sync pushes")
SYNC_REJECTIONS_PER_CALLER = Rule("push-rejected", 200, 600, "refused offline changes")
UPLOADS_PER_CALLER = Rule("upload", 40, 600, "photo uploads")
UPLOADS_PER_CALLER_DAY = Rule("upload-day", 400, 86400, "photo uploads today")
UPLOADS_PER_ADDRESS = Rule("upload-address", 120, 600, "photo uploads from this address")


class CounterStore(Protocol):
    """Where counts live: `add` returns the count of the window after adding `amount`."""

    async def add(self, key: str, amount: int, window: int) -> int: ...

    async def get(self, key: str) -> int: ...

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCounters:
    """Counters of one process; expired windows are swept as new ones open."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._next_sweep = 0.0

    async def add(self, key: str, amount: int, window: int) -> int:
        now = time.monotonic()
        self._sweep(now)
        ends, count = self._counts.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + window, 0
        self._counts[key] = (ends, count + amount)
        return count + amount

    async def get(self, key: str) -> int:
        ends, count = self._counts.get(key, (0.0, 0))
        return count if ends > time.monotonic() else 0

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    async def close(self) -> None:
        self._counts.clear()

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        for key in [k for k, (ends, _) in self._counts.items() if ends <= now]:
            del self._counts[key]


class RedisCounters:
    """Counters shared by every process through Redis: INCRBY plus an expiry set once per window."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)

    async def add(self, key: str, amount: int, window: int) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(f"souk:rl:{key}", amount)
            pipe.expire(f"souk:rl:{key}", window, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def get(self, key: str) -> int:
        value = await self._redis.get(f"souk:rl:{key}")
        return int(value) if value is not None else 0

    async def clear(self, key: str) -> None:
        await self._redis.delete(f"souk:rl:{key}")

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Applies Rules to keys. Windows are aligned to the clock, so every process agrees on them."""

    def __init__(self, store: CounterStore, factor: float = 1.0) -> None:
        self.store = store
        self.factor = factor

    async def hit(self, rule: Rule, key: str, amount: int = 1) -> None:
        """Count `amount` hits; raise TooManyRequests if that goes over the limit."""
        real = rule.scaled(self.factor)
        slot, wait = self._slot(real)
        if await self.store.add(f"{real.name}:{slot}:{key}", amount, real.window) > real.limit:
            raise _too_many(real, wait)

    async def check(self, rule: Rule, key: str) -> None:
        """Raise TooManyRequests if the limit is already used up, without counting anything:
        for limits on failures, checked before the costly attempt and hit only when it fails."""
        real = rule.scaled(self.factor)
        slot, wait = self._slot(real)
        if await self.store.get(f"{real.name}:{slot}:{key}") >= real.limit:
            raise _too_many(real, wait)

    async def forgive(self, rule: Rule, key: str) -> None:
        """Forget the current window's count (a correct password after a few typos)."""
        real = rule.scaled(self.factor)
        slot, _ = self._slot(real)
        await self.store.clear(f"{real.name}:{slot}:{key}")

    async def close(self) -> None:
        await self.store.close()

    @staticmethod
    def _slot(rule: Rule) -> tuple[int, int]:
        now = time.time()
        slot = int(now // rule.window)
        return slot, max(1, math.ceil((slot + 1) * rule.window - now))


def _too_many(rule: Rule, wait: int) -> TooManyRequests:
    minutes = f"{math.ceil(wait / 60)} min" if wait >= 120 else f"{wait} s"
    return TooManyRequests(f"Too many {rule.what}: try again in {minutes}.", retry_after=wait)


def build_rate_limiter(redis_url: str | None, factor: float) -> RateLimiter:
    """Shared counters when processes share Redis, else this process's own."""
    store: CounterStore = RedisCounters(redis_url) if redis_url else MemoryCounters()
    return RateLimiter(store, factor)
