"""The `engine` fixture: a fresh, empty engine per test, for every engine kind.

Meilisearch runs only when SOUK_MEILI_URL names a server (SOUK_MEILI_KEY optional);
each test then gets its own index, deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from search.embedded import EmbeddedEngine
from search.engine import SearchEngine
from search.meili import MeiliEngine

MEILI_URL = os.environ.get("SOUK_MEILI_URL", "")
MEILI_KEY = os.environ.get("SOUK_MEILI_KEY") or None
NO_MEILI = "SOUK_MEILI_URL not set: no Meilisearch server on this machine"
ENGINE_KINDS = ["embedded", "meili"]


async def open_engine(kind: str, folder: Path) -> SearchEngine:
    """A ready, empty engine of the given kind (skips the test if it cannot run)."""
    if kind == "meili":
        if not MEILI_URL:
            pytest.skip(NO_MEILI)
        engine: SearchEngine = MeiliEngine(MEILI_URL, MEILI_KEY, index_uid=f"souk-test-{uuid.uuid4().hex[:12]}")
    else:
        engine = EmbeddedEngine(folder / "search")
    await engine.ensure_settings()
    return engine


async def dispose_engine(engine: SearchEngine) -> None:
    """Close the engine; a test Meilisearch index is deleted."""
    if isinstance(engine, MeiliEngine):
        from meilisearch_python_sdk import AsyncClient

        async with AsyncClient(MEILI_URL, MEILI_KEY) as client:
            await client.delete_index_if_exists(engine.index_uid)
    await engine.close()


@pytest.fixture(params=ENGINE_KINDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchEngine]:
    opened = await open_engine(request.param, tmp_path)
    try:
        yield opened
    finally:
        await dispose_engine(opened)
