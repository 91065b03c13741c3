"""Fetching exactly one row, or a 404 that says what was missing."""

from __future__ import annotations

from typing import Any

from server.domain.errors import NotFound


async def one(query: Any, missing: str) -> dict[str, Any]:
    """Await a Piccolo `select(...).first()`-able query; NotFound(missing) when it has no row."""
    row: dict[str, Any] | None = await query.first()
    if row is None:
        raise NotFound(missing)
    return row
