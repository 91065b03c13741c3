"""SQLite for a busy market: one long-lived writer with group commit, a few long-lived readers.

Piccolo's own SQLite engine opens a new connection (a thread, a file open, a PRAGMA) for every
query outside a transaction and for every transaction; under chat load that was most of the
server's CPU. This engine keeps the same Piccolo tables and queries and changes only where they
run:

* **Writes** run on one connection, opened at start-up, one unit of work at a time (a FIFO
  queue: SQLite has one write lock anyway). Each unit runs inside its own SAVEPOINT of a shared
  write transaction, so a unit that fails rolls back alone and never undoes its neighbours.
* **Group commit**: units that queue up while one runs join the same transaction, and one
  COMMIT (one fsync with `synchronous=FULL`) makes all of them durable. A unit's caller resumes
  only after that COMMIT returned, so nothing is acknowledged before it is on disk. A lone unit
  commits at once: grouping adds no wait when the server is quiet.
* The writer's statements are microseconds against pages in memory, so they run on the event
  loop; `BEGIN IMMEDIATE` (which may wait for another process's write lock, e.g. `souk
  compact-log`) and `COMMIT` (the fsync) run in a thread, so the loop never waits on the disk.
* **Reads** outside a unit of work go to a reader connection of their own. In WAL mode it sees
  the last commit and never waits for the writer. Reads also run on the event loop: measured
  under chat load, handing each read to a thread cost more CPU (a third of the server's, in
  thread hand-offs and GIL switches) than the reads themselves, which take microseconds.

`connections_opened` counts every connection this engine has opened, so a test can check that
steady-state requests open none.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.querystring import QueryString

READERS = 1
BUSY_TIMEOUT_MS = 30_000  # how long BEGIN IMMEDIATE waits for another process's write lock
_READ_PREFIXES = ("SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES")
_T = TypeVar("_T")


class WriterUnit:
    """What Piccolo sees as the current transaction while a unit of work runs on the writer."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with long-lived connections and group commit (see module doc)."""

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        super().__init__(path=path, timeout=BUSY_TIMEOUT_MS / 1000)
        self.reader_count = READERS  # reads run on the event loop, so one connection serves them all
        self.synchronous = synchronous
        self.connections_opened = 0
        self.groups_committed = 0
        self.units_committed = 0
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        self._opening = threading.Lock()
        self._write_lock: asyncio.Lock | None = None
        self._group: _Group | None = None
        self._savepoints = itertools.count(1)
        self.current_unit: ContextVar[WriterUnit | None] = ContextVar(f"souk_writer_unit_{path}", default=None)

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the writer and the readers now (else they open on first use)."""
        await asyncio.to_thread(self._open)

    async def stop(self) -> None:
        """Let the open group commit, then close every connection."""
        if self._write_lock is not None:
            async with self._write_lock:
                await self._commit_group()
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._writer = None
        self._reader = None

    def _open(self) -> None:
        with self._opening:
            if self._writer is not None:
                return
            self._writer = self._connect()
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._reader = self._connect()

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
        connection.row_factory = dict_factory
        connection.execute("PRAGMA foreign_keys = 1")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.connections_opened += 1
        self._all.append(connection)
        return connection

    def _ensure_open(self) -> sqlite3.Connection:
        if self._writer is None:
            self._open()
        assert self._writer is not None
        return self._writer

    # --- units of work on the writer -------------------------------------------------------

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[WriterUnit]:
        """One all-or-nothing unit of work on the writer, durable when this block is left.

        Nested use joins the unit already running (its changes commit with it).
        """
        current = self.current_unit.get()
        if current is not None:
            yield current
            return
        writer = self._ensure_open()
        lock = self._lock()
        await lock.acquire()
        group: _Group | None = None
        try:
            if self._group is None:
                await asyncio.to_thread(writer.execute, "BEGIN IMMEDIATE")
                self._group = _Group(asyncio.get_running_loop().create_future())
            group = self._group
            savepoint = f"u{next(self._savepoints)}"
            writer.execute(f"SAVEPOINT {savepoint}")
            unit = WriterUnit(writer)
            token = self.current_unit.set(unit)
            try:
                yield unit
            except BaseException:
                writer.execute(f"ROLLBACK TO {savepoint}")
                writer.execute(f"RELEASE {savepoint}")
                group = None  # nothing of this unit to wait for
                raise
            finally:
                self.current_unit.reset(token)
            writer.execute(f"RELEASE {savepoint}")
            group.units += 1
            if not group.commit_scheduled:
                # Queued behind every unit already waiting for the writer: they join this group.
                group.commit_scheduled = True
                # An empty context: the task must not inherit this unit as "current".
                asyncio.get_running_loop().create_task(self._commit_when_free(group), context=contextvars.Context())
        finally:
            if self._group is not None and self._group.units == 0 and not self._group.commit_scheduled:
                await self._finish_group(commit=False)  # only failed units: nothing to commit
            lock.release()
        if group is not None:
            await asyncio.shield(group.done)

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A step inside the running unit that can fail alone (one mutation of a sync push)."""
        unit = self.current_unit.get()
        if unit is None:
            raise RuntimeError("a savepoint needs a running unit of work")
        name = f"s{next(self._savepoints)}"
        unit.connection.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            unit.connection.execute(f"ROLLBACK TO {name}")
            unit.connection.execute(f"RELEASE {name}")
            raise
        unit.connection.execute(f"RELEASE {name}")

    async def _commit_when_free(self, group: _Group) -> None:
        async with self._lock():
            if self._group is group:
                await self._commit_group()

    async def _commit_group(self) -> None:
        if self._group is not None:
            await self._finish_group(commit=True)

    async def _finish_group(self, *, commit: bool) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        writer = self._ensure_open()
        try:
            await asyncio.to_thread(writer.execute, "COMMIT" if commit else "ROLLBACK")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                writer.execute("ROLLBACK")
            if not group.done.done():
                group.done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("commit interrupted"))
            if not isinstance(exc, Exception):
                raise
            return
        if commit:
            self.groups_committed += 1
            self.units_committed += group.units
        if not group.done.done():
            group.done.set_result(None)

    def _lock(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    # --- Piccolo's entry points ------------------------------------------------------------

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> Any:
        """Every Piccolo transaction (the app's, the migrations') is a unit of work on the writer."""
        return self.unit()

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        query, args = querystring.compile_string(engine_type=self.engine_type)
        return await self._run(query, list(args))

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        return await self._run(ddl, [])

    async def _run(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        unit = self.current_unit.get()
        if unit is not None:
            return _execute(unit.connection, query, args)
        if query.lstrip().upper().startswith(_READ_PREFIXES):
            return await self._read(query, args)
        async with self.unit() as alone:  # a write outside a unit of work is a unit of its own
            return _execute(alone.connection, query, args)

    async def _read(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        self._ensure_open()
        assert self._reader is not None
        return _execute(self._reader, query, args)  # on the loop: one read at a time, no await inside

    async def call_on_writer(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn(connection)` as a unit of work of its own (maintenance: checkpoints, checks)."""
        async with self.unit() as alone:
            return fn(alone.connection)


class _Group:
    """The units sharing one write transaction, and the future their callers wait on."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.units = 0
        self.commit_scheduled = False


def _execute(connection: sqlite3.Connection, query: str, args: list[Any]) -> list[dict[str, Any]]:
    cursor = connection.execute(query, args)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()
