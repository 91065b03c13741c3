"""Choosing the search engine for a deployment."""

from __future__ import annotations

from pathlib import Path

from search.embedded import EmbeddedEngine
from search.engine import SearchEngine
from search.meili import MeiliEngine


def open_engine(data_dir: Path, meili_url: str | None, meili_key: str | None) -> SearchEngine:
    """Meilisearch when a URL is configured, else the embedded engine in data_dir/search.

    The embedded engine needs no server, which is what an offline event laptop wants;
    Meilisearch is for deployments that already run one.
    """
    if meili_url:
        return MeiliEngine(meili_url, meili_key)
    return EmbeddedEngine(Path(data_dir) / "search")
