"""Small hand-written documents for the search tests."""

from __future__ import annotations

import uuid
from typing import Any

from search.documents import ItemDocument, SearchResult
from search.query import tag_key

EVENT = "11111111-1111-4111-8111-111111111111"
OTHER_EVENT = "22222222-2222-4222-8222-222222222222"
STALL_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
STALL_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


def item_id(n: int) -> str:
    """A deterministic UUID string per small number (valid Meilisearch id)."""
    return str(uuid.UUID(int=n))


def item(n: int, title: str, **fields: Any) -> ItemDocument:
    """An available, visible item of EVENT at STALL_A unless `fields` say otherwise.

    `hashtags` may be given alone: the canonical `tag_keys` are derived from them.
    """
    hashtags = tuple(fields.pop("hashtags", ()))
    values: dict[str, Any] = {
        "id": item_id(n),
        "event_id": EVENT,
        "stall_id": STALL_A,
        "stall_code": "A01",
        "stall_name": "Corner stall",
        "stall_number": "1",
        "title": title,
        "description": "",
        "hashtags": hashtags,
        "tag_keys": tuple(tag_key(tag) for tag in hashtags),
        "causes": (),
        "state": "available",
        "price": 1000,
        "currency": "EUR",
        "created_at": 1_700_000_000 + n,
        "photo": None,
        "hidden": False,
    }
    values.update(fields)
    return ItemDocument(**values)


def titles(result: SearchResult) -> list[str]:
    return [hit.document.title for hit in result.hits]


def ids(result: SearchResult) -> list[str]:
    return [hit.document.id for hit in result.hits]
