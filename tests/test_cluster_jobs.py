"""Market-wide background jobs (the Web Push notifier, the reservation sweeper) run on exactly one
node, and another node takes them over when that one dies: the lock module on its own, then real
`souk serve` processes on one PostgreSQL, one of them killed with SIGKILL."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.cluster_jobs import NAMESPACE, ClusterJobs, lock_key
from server.settings import Settings
from server.webpush.keys import PRIVATE_KEY_FILE, load_or_create_vapid_keys
from tests.conftest import TEST_DATABASE_URL, start_server
from tests.push_receiver import PushReceiver
from tests.test_chat_realtime import _market

needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="several nodes need PostgreSQL (SQLite is one process by design); set SOUK_TEST_DATABASE_URL",
)


async def _eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Recorder:
    """A job that counts its runs and how many are running at once."""

    def __init__(self) -> None:
        self.starts = 0
        self.running = 0
        self.most_at_once = 0

    async def run(self) -> None:
        self.starts += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.Event().wait()
        finally:
            self.running -= 1


async def test_on_sqlite_the_jobs_just_run_and_stop_gracefully(tmp_path: Path) -> None:
    stopped = asyncio.Event()
    ran = asyncio.Event()

    async def graceful() -> None:
        ran.set()
        await stopped.wait()

    swept = Recorder()
    jobs = ClusterJobs(None)
    jobs.add("reader", graceful, stop=stopped.set)
    jobs.add("sweeper", swept.run)
    jobs.start()
    await asyncio.wait_for(ran.wait(), 1)
    await _eventually(lambda: swept.running == 1, 1)
    assert jobs.running == ["reader", "sweeper"]
    await jobs.close()
    assert jobs.running == [] and swept.running == 0


@needs_postgres
async def test_two_holders_only_one_runs_and_a_lost_connection_hands_over(db: Settings) -> None:
    job = Recorder()  # one recorder for both nodes: shows whether they ever overlap
    first = ClusterJobs(db.database_url, poll_seconds=0.2, takeover_delay=0.3)
    first.add("test-job", job.run)
    second = ClusterJobs(db.database_url, poll_seconds=0.2, takeover_delay=0.3)
    second.add("test-job", job.run)
    first.start()
    await _eventually(lambda: first.running == ["test-job"])
    second.start()
    try:
        await asyncio.sleep(1.0)  # five polls of the second node
        assert (first.running, second.running, job.starts, job.most_at_once) == (["test-job"], [], 1, 1)
        # The first node's session dies (as when its process is killed): PostgreSQL releases its lock.
        admin = await asyncpg.connect(db.database_url)
        try:
            killed = await admin.fetchval(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 "
                "AND objid = $2::bigint::oid AND objsubid = 2 AND granted",
                NAMESPACE,
                lock_key("test-job") & 0xFFFFFFFF,
            )
        finally:
            await admin.close()
        assert killed
        # The first node's job stops at once (its lock is gone); after that exactly one node runs it:
        # the second, or the first again once it has reconnected. Never both.
        await _eventually(lambda: job.starts == 2 and len(first.running + second.running) == 1, within=5)
        assert job.most_at_once == 1
        holder, standby = (first, second) if first.running else (second, first)
        await asyncio.sleep(1.0)
        assert standby.running == [] and job.starts == 2
        # Closing the holder (its connection with it) lets the other node run the job.
        await holder.close()
        await _eventually(lambda: standby.running == ["test-job"], within=5)
        assert job.starts == 3 and job.most_at_once == 1
    finally:
        await first.close()
        await second.close()


@needs_postgres
async def test_a_job_that_fails_is_run_again(db: Settings) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    jobs = ClusterJobs(db.database_url, poll_seconds=0.1)
    jobs.add("flaky", flaky)
    jobs.start()
    try:
        await _eventually(lambda: len(runs) == 2 and jobs.running == ["flaky"], within=5)
    finally:
        await jobs.close()


# -- real processes -----------------------------------------------------------------------------


def _jobs_of(base: str) -> list[str]:
    jobs: list[str] = httpx.get(f"{base}/api/health", timeout=5).json()["jobs"]
    return jobs


async def _holder(bases: list[str], within: float = 15.0) -> str:
    """The one node that runs the Web Push notifier (failing if two ever do)."""
    deadline = time.monotonic() + within
    while True:
        holders = [base for base in bases if "webpush" in _jobs_of(base)]
        assert len(holders) <= 1, holders
        if holders:
            return holders[0]
        if time.monotonic() > deadline:
            raise AssertionError("no node runs the Web Push notifier")
        await asyncio.sleep(0.2)


@needs_postgres
async def test_three_nodes_push_once_and_a_killed_notifier_is_taken_over(db: Settings, tmp_path: Path) -> None:
    # The nodes share what a scale-out market shares: the database, the secret and the VAPID key.
    dirs = [tmp_path / name for name in "abc"]
    load_or_create_vapid_keys(dirs[0])
    for folder in dirs[1:]:
        folder.mkdir()
        shutil.copy(dirs[0] / PRIVATE_KEY_FILE, folder / PRIVATE_KEY_FILE)
    shared = {"SOUK_SECRET_KEY": "three-nodes-one-secret", "SOUK_PUSH_ALLOW_HTTP": "1"}
    nodes: dict[str, Any] = {}
    try:
        for folder in dirs:
            process, base = start_server(db, SOUK_DATA_DIR=str(folder), **shared)
            nodes[base] = process
        bases = list(nodes)
        async with PushReceiver() as receiver:
            m = await _market(bases[0])
            visitor = {"Authorization": f"Bearer {m['visitor']}"}
            vendor = {"Authorization": f"Bearer {m['vendor']}"}
            async with httpx.AsyncClient() as http:
                key = (await http.get(f"{bases[1]}/api/push/key")).json()["public_key"]
                subscription, _ = receiver.new_subscription(application_server_key=key)
                r = await http.post(
                    f"{bases[1]}/api/push/subscriptions",
                    json={
                        "endpoint": subscription.endpoint,
                        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                    },
                    headers=visitor,
                )
                assert r.status_code == 201, r.text
                conversation = (
                    await http.post(f"{bases[2]}/api/conversations", json={"stall_code": m["stall"]}, headers=visitor)
                ).json()["id"]

                async def vendor_says(base: str, body: str) -> None:
                    r = await http.post(
                        f"{base}/api/conversations/{conversation}/messages",
                        json={"message_id": str(uuid.uuid4()), "body": body},
                        headers=vendor,
                    )
                    assert r.status_code == 201, r.text

                holder = await _holder(bases)
                assert sum("reservation-sweeper" in _jobs_of(base) for base in bases) == 1
                # A reply to the offline visitor, accepted by a node that does not send pushes: one push.
                await vendor_says(next(base for base in bases if base != holder), "Kept the honey for you")
                await _eventually(lambda: len(receiver.received_for(subscription)) == 1)
                await asyncio.sleep(3)  # more than a poll of every node: no second push arrives
                assert [p.payload["body"] for p in receiver.received_for(subscription)] == ["Kept the honey for you"]

                # The notifier's node dies without a word; another one takes the job over.
                nodes[holder].kill()
                nodes[holder].wait(timeout=10)
                survivors = [base for base in bases if base != holder]
                started = time.monotonic()
                await vendor_says(survivors[0], "Still here until five")
                await _eventually(lambda: len(receiver.received_for(subscription)) == 2, within=10)
                took = time.monotonic() - started
                new_holder = await _holder(survivors)
                assert new_holder != holder
                await asyncio.sleep(3)
                bodies = [p.payload["body"] for p in receiver.received_for(subscription)]
                assert bodies == ["Kept the honey for you", "Still here until five"], bodies
                assert took < 10
    finally:
        for process in nodes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
