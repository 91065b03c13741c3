"""The search indexer's document source: items as the search engine stores them.

`search/` reads no server table; the server hands its indexer this source (and wraps the
indexer and `souk reindex` so callers need not pass it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from piccolo.engine.base import Engine

from search import indexer as search_indexer
from search.documents import ItemDocument
from search.engine import SearchEngine
from server.domain.views import photo_view, utc
from server.tables import Item


class ItemSource:
    """The `search.indexer.DocumentSource` reading Souk's item and stall tables."""

    async def documents(self, item_ids: Sequence[str]) -> tuple[list[ItemDocument], list[str]]:
        return await item_documents(item_ids)

    async def items_of_stalls(self, stall_ids: Sequence[str]) -> list[str]:
        return [str(r["id"]) for r in await Item.select(Item.id).where(Item.stall.is_in(list(stall_ids)))]

    async def live_item_ids(self) -> list[str]:
        return [str(r["id"]) for r in await Item.select(Item.id).where(Item.deleted_at.is_null()).order_by(Item.id)]


SOURCE = ItemSource()


class Indexer(search_indexer.Indexer):
    """The search indexer reading Souk's items."""

    def __init__(
        self,
        engine: SearchEngine,
        db: Engine[Any],
        *,
        poll_seconds: float = 1.0,
        batch: int = search_indexer.BATCH,
        name: str = search_indexer.CURSOR_NAME,
    ) -> None:
        super().__init__(engine, db, SOURCE, poll_seconds=poll_seconds, batch=batch, name=name)


async def reindex(
    engine: SearchEngine,
    progress: Callable[[int, int], None] | None = None,
    *,
    cursor: str = search_indexer.CURSOR_NAME,
) -> int:
    """Rebuild the whole index from the tables (`souk reindex`); returns documents indexed."""
    return await search_indexer.reindex(engine, SOURCE, progress, cursor=cursor)


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
        state=availability(row),
        price=int(row["price"]),
        currency=row["currency"],
        created_at=int(utc(row["created_at"]).timestamp()),
        photo=photo_view(photos[0]).thumb if photos else None,
        hidden=bool(row["hidden"]) or bool(row["stall_hidden"]),
    )


def availability(row: dict[str, Any]) -> str:
    """The state search knows an item by: holds are per unit, so an item with units left beyond
    its holds is "available" (found by the default available-only search) and reads "reserved"
    only while its holds cover every unit left."""
    if row["state"] == "sold":
        return "sold"
    held, left = int(row.get("held") or 0), int(row["quantity"])
    return "reserved" if held > 0 and held >= left else "available"
