"""Shut-down ends background tasks even when a cancellation is lost (server/tasks.py)."""

from __future__ import annotations

import asyncio

from server.tasks import cancel_and_wait


async def test_a_task_that_swallowed_a_cancellation_is_cancelled_again() -> None:
    swallowed = asyncio.Event()

    async def runs_on_after_one_cancel() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            swallowed.set()  # what asyncio.wait_for does on Python 3.11 when its call has just finished
        await asyncio.sleep(60)

    task = asyncio.create_task(runs_on_after_one_cancel())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task]), timeout=30)
    assert swallowed.is_set() and task.cancelled()


async def test_finished_and_cancelled_tasks_are_left_alone() -> None:
    async def returns() -> None:
        return None

    done = asyncio.create_task(returns())
    await done
    await cancel_and_wait([done])
    assert done.done() and not done.cancelled()
