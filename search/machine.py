"""How a process takes part in search: what it searches, and whether it keeps the index.

With Meilisearch there is one shared index: every process runs the indexer and the cursor
row's lock (see `sync.reader`) lets one of them handle each batch (`SharedIndex`).

With the embedded engine every *machine* keeps its own index in its data dir, and the change
log is the source of truth, so each machine converges by itself (`MachineIndex`). On a machine,
the process holding the writer lease (`search.lease`) runs the indexer under a cursor of its
own, `search@<index id>`; the other processes search the same folder read-only and follow its
commits. When the writer dies, another process takes the lease within `retry_seconds` and goes
on from the saved cursor. A new or wiped folder gets a new index id, so its first writer finds
no cursor and builds the index from the database instead of replaying the whole log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from search.embedded import EmbeddedEngine
from search.engine import SearchEngine
from search.indexer import CURSOR_NAME, Indexer
from search.lease import WriterLease
from sync.reader import log_head
from sync.tables import LogCursor

log = logging.getLogger("souk.search")

INDEX_ID_FILE = "souk-index-id"
MACHINE_CURSOR_PREFIX = f"{CURSOR_NAME}@"

MakeIndexer = Callable[[SearchEngine, str], Indexer]


class SearchNode(Protocol):
    """The search side of one process, as the application uses it."""

    @property
    def engine(self) -> SearchEngine: ...

    @property
    def indexer(self) -> Indexer | None:
        """None while this process only reads the index."""
        ...

    async def start(self) -> None:
        """Take up a role before the process serves requests."""
        ...

    async def run(self) -> None:
        """Index (or wait to) until `stop()`."""
        ...

    def wake(self) -> None: ...

    def stop(self) -> None: ...

    async def status(self) -> dict[str, object]:
        """What /api/health shows about search on this process."""
        ...

    async def close(self) -> None:
        """After `stop()` and `run()` returned (or without `run()`): release everything."""
        ...


class SharedIndex:
    """One index for every process and machine (Meilisearch)."""

    def __init__(self, engine: SearchEngine, make_indexer: MakeIndexer) -> None:
        self.engine = engine
        self.indexer: Indexer | None = make_indexer(engine, CURSOR_NAME)

    async def start(self) -> None:
        return None

    async def run(self) -> None:
        assert self.indexer is not None
        await self.indexer.run()

    def wake(self) -> None:
        if self.indexer is not None:
            self.indexer.wake()

    def stop(self) -> None:
        if self.indexer is not None:
            self.indexer.stop()

    async def status(self) -> dict[str, object]:
        indexer = self.indexer
        seq = await indexer.cursor() if indexer else 0
        return {"engine": self.engine.name, "role": "shared", "indexed_seq": seq}

    async def close(self) -> None:
        await self.engine.close()


class MachineIndex:
    """This machine's own embedded index: one process writes it, the others search it."""

    def __init__(self, folder: Path, make_indexer: MakeIndexer, *, retry_seconds: float = 1.0) -> None:
        self.folder = Path(folder)
        self.make_indexer = make_indexer
        self.retry_seconds = retry_seconds
        self.lease = WriterLease(self.folder.with_name(self.folder.name + ".lock"))
        self.engine: EmbeddedEngine = EmbeddedEngine(self.folder, read_only=True)
        self.indexer: Indexer | None = None
        self._stopping = asyncio.Event()

    @property
    def role(self) -> str:
        return "writer" if self.indexer is not None else "reader"

    async def start(self) -> None:
        await self._try_to_write()

    async def run(self) -> None:
        """Wait for the lease (a reader), then index until stopped (the writer)."""
        while self.indexer is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.retry_seconds)
            if self._stopping.is_set():
                return
            await self._try_to_write()
        if not self._stopping.is_set():
            await self.indexer.run()

    def wake(self) -> None:
        if self.indexer is not None:
            self.indexer.wake()

    def stop(self) -> None:
        self._stopping.set()
        if self.indexer is not None:
            self.indexer.stop()

    async def status(self) -> dict[str, object]:
        seq = await self.indexer.cursor() if self.indexer else await _cursor_of(self._cursor_name())
        return {"engine": self.engine.name, "role": self.role, "indexed_seq": seq}

    async def close(self) -> None:
        await self.engine.close()  # finishes the writer's merges before another process may write
        self.lease.release()

    async def _try_to_write(self) -> None:
        """Become the writer if no other process on this machine is."""
        if self.indexer is not None or not await asyncio.to_thread(self.lease.try_acquire):
            return
        try:
            previous = _read_id(self.folder)
            await asyncio.to_thread(self.engine.promote)
            index_id = previous
            if self.engine.recreated or index_id is None:
                # A new index: it is built from the tables, under a cursor no one else has. The
                # cursor of the folder it replaces (or, before index ids, the one "search"
                # cursor) would only hold back compaction.
                self.engine.recreated = True
                index_id = uuid.uuid4().hex
                (self.folder / INDEX_ID_FILE).write_text(index_id)
                gone = MACHINE_CURSOR_PREFIX + previous if previous else CURSOR_NAME
                await LogCursor.delete().where(LogCursor.name == gone)
            self.indexer = self.make_indexer(self.engine, MACHINE_CURSOR_PREFIX + index_id)
        except BaseException:
            self.lease.release()
            raise
        log.info("this process now writes the search index at %s (log head %d)", self.folder, await log_head())

    def _cursor_name(self) -> str:
        index_id = _read_id(self.folder)
        return MACHINE_CURSOR_PREFIX + index_id if index_id else ""


async def _cursor_of(name: str) -> int:
    if not name:
        return 0
    row = await LogCursor.select(LogCursor.seq).where(LogCursor.name == name).first()
    return int(row["seq"]) if row else 0


def _read_id(folder: Path) -> str | None:
    try:
        return (folder / INDEX_ID_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def open_search(data_dir: Path, meili_url: str | None, meili_key: str | None, make_indexer: MakeIndexer) -> SearchNode:
    """Meilisearch when a URL is configured, else this machine's index in data_dir/search."""
    if meili_url:
        from search.meili import MeiliEngine

        return SharedIndex(MeiliEngine(meili_url, meili_key), make_indexer)
    return MachineIndex(Path(data_dir) / "search", make_indexer)
