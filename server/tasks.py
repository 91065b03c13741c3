"""Ending background tasks for certain.

On Python 3.11 a cancellation can be lost: `asyncio.wait_for` swallows the `CancelledError` that
lands just as the call it wraps completes (fixed in 3.12, python/cpython#86296). A loop that polls
with `wait_for` then simply runs on, and whoever awaits it after `cancel()` waits forever — which
is how a node's shut-down (and a test run) once hung. So cancel again until the task has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

RECANCEL_SECONDS = 0.5


async def cancel_and_wait(tasks: Collection[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and return once every one of them has ended, re-cancelling any that ran on."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
