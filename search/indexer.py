"""The search indexer: a reader of the change log that keeps the search engine in step.

It never gets called from request handlers. Writes append to the change log; this reader turns
changed items (and items of changed stalls) into documents and sends them to the engine before
its cursor moves, so a crash or kill replays a few upserts on restart and skips none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from piccolo.engine.base import Engine

from search.documents import ItemDocument
from search.engine import EngineError, SearchEngine
from server.domain.views import photo_view, utc
from server.tables import Item, LogCursor
from sync.reader import HandlerFailed, LogReader, log_head

log = logging.getLogger("souk.search")

CURSOR_NAME = "search"
BATCH = 500


class Indexer(LogReader):
    """Follows the change log into a search engine (see `sync.reader` for the cursor rules)."""

    name = CURSOR_NAME
    entities = ("item", "stall")

    def __init__(self, engine: SearchEngine, db: Engine[Any], *, poll_seconds: float = 1.0, batch: int = BATCH) -> None:
        super().__init__(db, poll_seconds=poll_seconds)
        self.engine = engine
        self.batch = batch

    async def prepare(self) -> None:
        await self.engine.ensure_settings()
        if getattr(self.engine, "recreated", False):
            # The index folder was wiped (schema change): only a rebuild brings it back in step.
            await reindex(self.engine)
            setattr(self.engine, "recreated", False)  # noqa: B010

    async def behind_floor(self) -> None:
        await reindex(self.engine)

    async def handle(self, entries: list[dict[str, Any]]) -> None:
        item_ids = {e["entity_id"] for e in entries if e["entity"] == "item"}
        stall_ids = [e["entity_id"] for e in entries if e["entity"] == "stall"]
        if stall_ids:
            rows = await Item.select(Item.id).where(Item.stall.is_in(stall_ids))
            item_ids.update(str(r["id"]) for r in rows)
        try:
            await self.apply(sorted(item_ids))
        except EngineError as exc:
            raise HandlerFailed(f"search engine refused a batch: {exc}") from exc

    async def apply(self, item_ids: Sequence[str]) -> None:
        """Upsert live items, delete deleted ones: the index ends up matching the tables."""
        documents, gone = await item_documents(item_ids)
        if documents:
            await self.engine.index(documents)
        if gone:
            await self.engine.delete(gone)


async def reindex(engine: SearchEngine, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the tables (`souk reindex`); returns documents indexed.

    The cursor is set to the log head read *before* the rebuild, so changes committed during
    it are applied again afterwards by the indexer: harmless, and nothing slips through.
    """
    await engine.ensure_settings()
    head = await log_head()
    await engine.clear()
    ids = [str(r["id"]) for r in await Item.select(Item.id).where(Item.deleted_at.is_null()).order_by(Item.id)]
    for start in range(0, len(ids), BATCH):
        documents, _ = await item_documents(ids[start : start + BATCH])
        await engine.index(documents)
        if progress:
            progress(min(start + BATCH, len(ids)), len(ids))
    if not await LogCursor.exists().where(LogCursor.name == CURSOR_NAME):
        await LogCursor.insert(LogCursor(name=CURSOR_NAME, seq=head))
    else:
        await LogCursor.update({LogCursor.seq: head, LogCursor.last_error: ""}).where(LogCursor.name == CURSOR_NAME)
    return len(ids)


async def item_documents(item_ids: Iterable[str]) -> tuple[list[ItemDocument], list[str]]:
    """Documents for live items, and the ids of items that are gone (deleted or missing)."""
    wanted = list(item_ids)
    if not wanted:
        return [], []
    rows = await Item.select(
        *Item.all_columns(exclude=[Item.own_tags]),
        Item.stall.code.as_alias("stall_code"),
        Item.stall.name.as_alias("stall_name"),
        Item.stall.number.as_alias("stall_number"),
        Item.stall.hidden.as_alias("stall_hidden"),
    ).where(Item.id.is_in(wanted))
    documents = [to_document(r) for r in rows if r["deleted_at"] is None]
    live = {d.id for d in documents}
    return documents, [i for i in wanted if i not in live]


def to_document(row: dict[str, Any]) -> ItemDocument:
    photos = json.loads(row["photo_keys"])
    return ItemDocument(
        id=str(row["id"]),
        event_id=str(row["event"]),
        stall_id=str(row["stall"]),
        stall_code=row["stall_code"],
        stall_name=row["stall_name"],
        stall_number=row["stall_number"],
        title=row["title"],
        description=row["description"],
        hashtags=tuple(json.loads(row["hashtags"])),
        tag_keys=tuple(json.loads(row["tag_keys"])),
        causes=tuple(json.loads(row["causes"])),
        state=row["state"],
        price=int(row["price"]),
        currency=row["currency"],
        created_at=int(utc(row["created_at"]).timestamp()),
        photo=photo_view(photos[0]).thumb if photos else None,
        hidden=bool(row["hidden"]) or bool(row["stall_hidden"]),
    )
