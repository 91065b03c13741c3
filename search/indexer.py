"""The search indexer: a reader of the change log that keeps the search engine in step.

It never gets called from request handlers. Writes append to the change log; this reader turns
changed items (and items of changed stalls) into documents and sends them to the engine before
its cursor moves, so a crash or kill replays a few upserts on restart and skips none.

What a document holds comes from a `DocumentSource` the application gives it (the server's:
`server/search_source.py`); this module reads no application table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from piccolo.engine.base import Engine

from search.documents import ItemDocument
from search.engine import EngineError, SearchEngine
from sync.reader import HandlerFailed, LogReader, log_head
from sync.tables import LogCursor

log = logging.getLogger("souk.search")

CURSOR_NAME = "search"  # one shared index (Meilisearch); a machine's own index: `search@<index id>`
BATCH = 500


class DocumentSource(Protocol):
    """Where the indexer gets its documents from."""

    async def documents(self, item_ids: Sequence[str]) -> tuple[list[ItemDocument], list[str]]:
        """Documents for live items, and the ids of items that are gone (deleted or missing)."""
        ...

    async def items_of_stalls(self, stall_ids: Sequence[str]) -> list[str]:
        """The ids of the items of these stalls (a stall's change changes its items' documents)."""
        ...

    async def live_item_ids(self) -> list[str]:
        """Every item id that should be in the index, in id order."""
        ...


class Indexer(LogReader):
    """Follows the change log into a search engine (see `sync.reader` for the cursor rules)."""

    name = CURSOR_NAME
    entities = ("item", "stall")

    def __init__(
        self,
        engine: SearchEngine,
        db: Engine[Any],
        source: DocumentSource,
        *,
        poll_seconds: float = 1.0,
        batch: int = BATCH,
        name: str = CURSOR_NAME,
    ) -> None:
        super().__init__(db, poll_seconds=poll_seconds)
        self.engine = engine
        self.source = source
        self.batch = batch
        self.name = name

    async def prepare(self) -> None:
        await self.engine.ensure_settings()
        if getattr(self.engine, "recreated", False):
            # A new or wiped index folder: a rebuild from the tables is faster than replaying the log.
            await reindex(self.engine, self.source, cursor=self.name)
            setattr(self.engine, "recreated", False)  # noqa: B010

    async def behind_floor(self) -> None:
        await reindex(self.engine, self.source, cursor=self.name)

    async def handle(self, entries: list[dict[str, Any]]) -> None:
        item_ids = {e["entity_id"] for e in entries if e["entity"] == "item"}
        stall_ids = [e["entity_id"] for e in entries if e["entity"] == "stall"]
        if stall_ids:
            item_ids.update(await self.source.items_of_stalls(stall_ids))
        try:
            await self.apply(sorted(item_ids))
        except EngineError as exc:
            raise HandlerFailed(f"search engine refused a batch: {exc}") from exc

    async def apply(self, item_ids: Sequence[str]) -> None:
        """Upsert live items, delete deleted ones: the index ends up matching the tables."""
        documents, gone = await self.source.documents(item_ids)
        if documents:
            await self.engine.index(documents)
        if gone:
            await self.engine.delete(gone)


async def reindex(
    engine: SearchEngine,
    source: DocumentSource,
    progress: Callable[[int, int], None] | None = None,
    *,
    cursor: str = CURSOR_NAME,
) -> int:
    """Rebuild the whole index from the tables (`souk reindex`); returns documents indexed.

    The cursor is set to the log head read *before* the rebuild, so changes committed during
    it are applied again afterwards by the indexer: harmless, and nothing slips through.
    """
    await engine.ensure_settings()
    head = await log_head()
    await engine.clear()
    ids = await source.live_item_ids()
    for start in range(0, len(ids), BATCH):
        documents, _ = await source.documents(ids[start : start + BATCH])
        await engine.index(documents)
        if progress:
            progress(min(start + BATCH, len(ids)), len(ids))
    if not await LogCursor.exists().where(LogCursor.name == cursor):
        await LogCursor.insert(LogCursor(name=cursor, seq=head))
    else:
        await LogCursor.update({LogCursor.seq: head, LogCursor.last_error: ""}).where(LogCursor.name == cursor)
    return len(ids)
