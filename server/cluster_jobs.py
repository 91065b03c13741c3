"""Background jobs that run on exactly one node of the market, taken over when that node dies.

Every `souk serve` process of a scale-out market (one or more machines, one PostgreSQL) starts
the same background jobs, and some must run once for the whole market: the Web Push notifier
(two runners could push the same message twice) and the reservation sweeper (N runners do the
same work N times). Such a job runs only while its node holds the job's PostgreSQL session-level
advisory lock, taken on one dedicated connection per node that stays open meanwhile:

* every `poll_seconds` a node tries the locks of the jobs it does not run
  (`pg_try_advisory_lock`, which never waits) and starts each job it gets, `takeover_delay`
  later: a fresh run each time, so a change-log reader resumes from its durable cursor;
* a process that dies (crash, SIGKILL, a machine gone) loses its session and with it its locks:
  PostgreSQL releases them and another node takes the jobs over within its poll interval;
* the holder checks its connection at every poll, and is told at once when it closes: a lost
  connection means lost locks, so its jobs are cancelled at once and the node tries again. When
  PostgreSQL ends a session on purpose (restart, `pg_terminate_backend`) the holder hears of it
  within milliseconds, well inside the new holder's `takeover_delay`; when the network goes
  silent, the holder's check times out (`poll_seconds` + `check_timeout`) long before PostgreSQL
  gives up on the session and frees the lock. Beyond that the jobs keep their own guards (a
  reader takes its cursor row with `FOR UPDATE SKIP LOCKED`; the sweeper re-checks every lapse
  in its transaction).

On SQLite (one process by design) the jobs simply run: no connection, no polling.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.tasks import cancel_and_wait

log = logging.getLogger("souk.cluster_jobs")

# The first key of every Souk job lock ("Souk" in ASCII), the second is the job name's CRC-32:
# in pg_locks a lock shows as locktype 'advisory', classid NAMESPACE, objid lock_key(name), objsubid 2.
NAMESPACE = 0x536F756B

Start = Callable[[], Coroutine[Any, Any, None]]


def lock_key(name: str) -> int:
    """The job's key as PostgreSQL's signed int4."""
    key = zlib.crc32(name.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


@dataclass
class _Job:
    name: str
    start: Start
    stop: Callable[[], None] | None  # asks the run to end after the work in hand; None: cancel it
    task: asyncio.Task[None] | None = None


class ClusterJobs:
    """The jobs of one node; `start()` in the app's start-up, `close()` at shut-down."""

    def __init__(
        self, dsn: str | None, *, poll_seconds: float = 2.0, check_timeout: float = 5.0, takeover_delay: float = 1.0
    ) -> None:
        self.dsn = dsn  # a PostgreSQL URL, or None on SQLite
        self.poll_seconds = poll_seconds
        self.check_timeout = check_timeout
        # Between getting a lock and starting its job: PostgreSQL frees a lock the moment the
        # holder's session ends, and the holder (if still alive) hears of it a moment later; this
        # lets it cancel its run before the new one starts.
        self.takeover_delay = takeover_delay
        self._jobs: dict[str, _Job] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._conn: Any = None  # asyncpg.Connection holding this node's locks
        self._closing = False

    def add(self, name: str, start: Start, *, stop: Callable[[], None] | None = None) -> None:
        """Register a job: `start()` makes a fresh run of it, `stop()` (if given) ends a run gracefully."""
        self._jobs[name] = _Job(name, start, stop)

    @property
    def running(self) -> list[str]:
        """The jobs this node runs right now."""
        return sorted(job.name for job in self._jobs.values() if job.task is not None and not job.task.done())

    def start(self) -> None:
        if self.dsn is None:
            for job in self._jobs.values():
                self._run(job)
            return
        self._watcher = asyncio.create_task(self._watch(), name="souk-cluster-jobs")

    async def close(self) -> None:
        """Stop this node's jobs gracefully, then release their locks for another node."""
        self._closing = True  # the watcher ends even if a cancellation is lost (server/tasks.py)
        if self._watcher is not None:
            await cancel_and_wait([self._watcher])
        for job in self._jobs.values():
            if job.task is not None and job.stop is not None:
                job.stop()
        await self._end_all(cancel=[job for job in self._jobs.values() if job.stop is None])
        await self._disconnect()

    # -- PostgreSQL -----------------------------------------------------------------------------

    async def _watch(self) -> None:
        while not self._closing:
            try:
                await self._poll()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("cluster job lock connection lost or refused (%s); retrying", exc)
                await self._lose()
            except Exception:  # never let the watcher die: the node would stop taking jobs over
                log.exception("cluster job watcher failed; retrying")
                await self._lose()
            await asyncio.sleep(self.poll_seconds)

    async def _poll(self) -> None:
        if self._conn is None or self._conn.is_closed():
            await self._lose()
            self._conn = await asyncio.wait_for(asyncpg.connect(self.dsn), timeout=self.check_timeout)
            self._conn.add_termination_listener(self._terminated)
        conn = self._conn
        await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=self.check_timeout)  # still connected: locks held
        taken: list[_Job] = []
        for job in self._jobs.values():
            if job.task is not None and job.task.done():
                self._ended(job)  # it stopped by itself: let any node (this one included) run it again
                await asyncio.wait_for(
                    conn.fetchval("SELECT pg_advisory_unlock($1, $2)", NAMESPACE, lock_key(job.name)),
                    timeout=self.check_timeout,
                )
            if job.task is None:
                got = await asyncio.wait_for(
                    conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", NAMESPACE, lock_key(job.name)),
                    timeout=self.check_timeout,
                )
                if got:
                    taken.append(job)
        if taken:
            await asyncio.sleep(self.takeover_delay)
            await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=self.check_timeout)  # locks still held
            for job in taken:
                log.info("this node now runs %s", job.name)
                self._run(job)

    def _terminated(self, _conn: object) -> None:
        """The lock connection closed: the locks are gone, so are the jobs (at once, not at the next poll)."""
        for job in self._jobs.values():
            if job.task is not None:
                if not job.task.done():
                    log.warning("cluster job lock connection closed; stopping %s", job.name)
                job.task.cancel()

    async def _lose(self) -> None:
        await self._end_all(cancel=list(self._jobs.values()))
        await self._disconnect()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=self.check_timeout)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()

    # -- the runs -------------------------------------------------------------------------------

    def _run(self, job: _Job) -> None:
        job.task = asyncio.create_task(job.start(), name=f"souk-{job.name}")

    async def _end_all(self, cancel: list[_Job]) -> None:
        """Cancel the runs of `cancel`, wait for every run to end and forget them."""
        await cancel_and_wait([job.task for job in cancel if job.task is not None])
        stopping = [job.task for job in self._jobs.values() if job.task is not None]
        if stopping:
            await asyncio.wait(stopping)  # the ones asked to stop gracefully finish their work
        for job in self._jobs.values():
            if job.task is not None:
                self._ended(job)

    @staticmethod
    def _ended(job: _Job) -> None:
        task, job.task = job.task, None
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.error("%s stopped with an error", job.name, exc_info=task.exception())
