"""Embedded-engine specifics: failed writes roll back, outdated folders are rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.documents import SearchRequest
from search.embedded import VERSION_FILE, EmbeddedEngine
from search.engine import EngineError
from tests.search.helpers import EVENT, item


async def test_a_failed_batch_is_rolled_back_entirely(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    try:
        with pytest.raises(EngineError):
            await engine.index([item(1, "Lamp"), item(2, "Lamp", price=2**70)])
        result = await engine.search(SearchRequest(event_id=EVENT, q="lamp"))
        assert result.total == 0
        await engine.index([item(3, "Lamp")])
        result = await engine.search(SearchRequest(event_id=EVENT, q="lamp"))
        assert [hit.document.title for hit in result.hits] == ["Lamp"]
    finally:
        await engine.close()


async def test_an_index_of_an_older_schema_is_recreated_empty(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    await engine.index([item(1, "Lamp")])
    await engine.close()
    (tmp_path / VERSION_FILE).write_text("0")
    reopened = EmbeddedEngine(tmp_path)
    try:
        assert reopened.recreated
        assert (await reopened.search(SearchRequest(event_id=EVENT))).total == 0
    finally:
        await reopened.close()


async def test_a_closed_engine_refuses_work_and_reports_unhealthy(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    assert await engine.health()
    await engine.close()
    assert not await engine.health()
    with pytest.raises(EngineError):
        await engine.search(SearchRequest(event_id=EVENT))
