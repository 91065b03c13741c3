"""The two corpora of bench_search.py, each one indexed event in a data folder: synthetic items
of 300 real stalls, indexed with `EmbeddedEngine.index`; the demo market, indexed by `reindex`."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from harness.data import copy_database, demo_database, first_event_slug, load_demo_market, open_market, running

from search.documents import ItemDocument
from search.embedded import EmbeddedEngine
from search.machine import INDEX_ID_FILE, MACHINE_CURSOR_PREFIX
from search_bench.synthetic import event_with_stalls, make_documents
from server.domain import events
from server.search_source import item_documents, reindex
from server.tables import Item
from sync.reader import log_head
from sync.tables import LogCursor


@dataclass
class Corpus:
    """One indexed event in a data folder, ready to be served."""

    label: str
    data_dir: Path
    event_id: str
    slug: str
    docs: list[ItemDocument]
    build_seconds: float
    build_label: str
    stall_ids: dict[str, str] = field(default_factory=dict)  # code -> id


async def prepare_synthetic(data_dir: Path, count: int) -> Corpus:
    """A real event with 300 real stalls in the database, `count` documents in its index."""
    market = open_market(data_dir)
    async with running(market):
        refs = await event_with_stalls(market, 300)
        event = str((await events.get_event("bench-market")).id)
    docs = make_documents(count, event, refs)
    search = EmbeddedEngine(market.settings.search_dir)
    started = time.perf_counter()
    for start in range(0, len(docs), 10_000):
        await search.index(docs[start : start + 10_000])
    build = time.perf_counter() - started
    await search.close()
    async with running(market):
        await adopt_index(market.settings.search_dir)
    return Corpus(
        label=f"{count:,} synthetic items, one event of 300 stalls",
        data_dir=data_dir,
        event_id=event,
        slug="bench-market",
        docs=docs,
        build_seconds=build,
        build_label=f"EmbeddedEngine.index, {len(docs) // 10_000 or 1} commits of 10,000",
        stall_ids={ref.code: ref.id for ref in refs},
    )


async def prepare_demo(data_dir: Path, reuse: Path | None) -> Corpus:
    """The demo market in the database (loaded, or copied from `reuse`), indexed by reindex."""
    market = open_market(data_dir)
    if reuse is not None:
        copy_database(demo_database(reuse), market.settings.sqlite_path)
    async with running(market):
        if reuse is None:
            began = time.perf_counter()
            slug = await load_demo_market(market)
            print(f"  demo market loaded through the domain in {time.perf_counter() - began:.1f} s")
        else:
            slug = await first_event_slug()
        event_id = str((await events.get_event(slug)).id)
        search = EmbeddedEngine(market.settings.search_dir)
        started = time.perf_counter()
        indexed = await reindex(search)
        build = time.perf_counter() - started
        await search.close()
        await adopt_index(market.settings.search_dir)
        ids = [str(r["id"]) for r in await Item.select(Item.id).where(Item.deleted_at.is_null())]
        docs, _ = await item_documents(ids)
    return Corpus(
        label=f"demo market ({len({d.stall_id for d in docs})} stalls, {indexed:,} items)",
        data_dir=data_dir,
        event_id=event_id,
        slug=slug,
        docs=docs,
        build_seconds=build,
        build_label="search.indexer.reindex: database rows -> documents -> index, commits of 500",
        stall_ids={d.stall_code: d.stall_id for d in docs},
    )


async def adopt_index(folder: Path) -> None:
    """Make `souk serve` keep the index built here instead of rebuilding it from the tables.

    A folder without an index id is a new index to the server's writer (`search.machine`):
    it clears it and indexes the item rows, of which the synthetic corpus has none, so every
    search would find nothing. With an id and its cursor at the log head, the server adopts
    the folder as it is and only follows later changes (there are none).
    """
    index_id = uuid.uuid4().hex
    (folder / INDEX_ID_FILE).write_text(index_id)
    await LogCursor.insert(LogCursor(name=MACHINE_CURSOR_PREFIX + index_id, seq=await log_head()))
