"""The one interface every search engine implements (embedded tantivy, Meilisearch).

The indexer and the HTTP route only ever see `SearchEngine`; which engine runs is a
deployment choice (see `search.machine`). Both engines pass the same contract tests
(tests/search/test_contract.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from search.documents import ItemDocument, SearchRequest, SearchResult

MAX_FACET_VALUES = 300  # an event has at most ~300 stalls; every stall must get a count
FACET_NAMES = ("tags", "stalls", "state")


class EngineError(Exception):
    """A failure the indexer must record and retry (failed or unfinished write, I/O)."""


class SearchEngine(Protocol):
    """Item search for one or many events; every call is safe to run concurrently."""

    name: str

    async def ensure_settings(self) -> None:
        """Prepare the index (create it, apply settings that differ). Idempotent."""
        ...

    async def index(self, docs: Sequence[ItemDocument]) -> None:
        """Insert or replace documents by id, visible to searches once this returns.

        Hidden or sold items are indexed too: filtering happens at query time.
        """
        ...

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        ...

    async def search(self, req: SearchRequest) -> SearchResult:
        """Search one event. Never raises for any user input in `req.q`."""
        ...

    async def clear(self) -> None:
        """Drop every document (used before a full reindex)."""
        ...

    async def health(self) -> bool:
        """Whether the engine can serve searches right now."""
        ...

    async def close(self) -> None:
        """Release files, threads and connections."""
        ...
