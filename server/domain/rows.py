"""Fetching exactly one row (or a 404 that says what was missing), locking rows, reading ids."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from server.domain.errors import NotFound

Q = TypeVar("Q")


async def one(query: Any, missing: str) -> dict[str, Any]:
    """Await a Piccolo `select(...).first()`-able query; NotFound(missing) when it has no row."""
    row: dict[str, Any] | None = await query.first()
    if row is None:
        raise NotFound(missing)
    return row


def locked(query: Q) -> Q:
    """The same select, taking its rows' write locks until the transaction ends (PostgreSQL).

    Every read that a write transaction will change what it read from (stock before a sale, a
    conversation's last message number, a version) goes through this: on PostgreSQL writers of
    different rows run side by side, so the row itself must keep two writers of it apart. On
    SQLite there is one writer at a time already, and it has no row locks to take.
    """
    from piccolo.engine.postgres import PostgresEngine

    if isinstance(query.table._meta.db, PostgresEngine):  # type: ignore[attr-defined]
        return query.lock_rows()  # type: ignore[attr-defined,no-any-return]
    return query


def as_uuid(value: object) -> UUID:
    """A row's id as a UUID (SQLite hands some back as text)."""
    return value if isinstance(value, UUID) else UUID(str(value))
