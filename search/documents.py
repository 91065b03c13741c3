"""The types every search engine speaks: the indexed item, the request, the result.

They are plain frozen dataclasses so that the indexer, the HTTP route and both engines
exchange the same values, whatever engine is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

STATES = ("available", "reserved", "sold")
SORTS = ("relevance", "price_asc", "price_desc", "newest")
MAX_LIMIT = 100
MAX_OFFSET = 100_000  # no event has that many items; bounds the work a request can ask for


@dataclass(frozen=True)
class ItemDocument:
    """One item as the search index sees it (a flattened copy of the database rows)."""

    id: str
    event_id: str
    stall_id: str
    stall_code: str
    stall_name: str
    stall_number: str
    title: str
    description: str
    hashtags: tuple[str, ...]
    tag_keys: tuple[str, ...]
    causes: tuple[str, ...]
    state: str
    price: int
    currency: str
    created_at: int
    photo: str | None
    hidden: bool


@dataclass(frozen=True)
class SearchRequest:
    """What a visitor asked for; `tags` and `causes` hold canonical keys."""

    event_id: str
    q: str = ""
    stall_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    states: tuple[str, ...] = ("available",)
    price_min: int | None = None
    price_max: int | None = None
    sort: str = "relevance"
    offset: int = 0
    limit: int = 20
    # Counts per tag, stall and state over every match: a second pass over all of them (at
    # 100,000 items it costs more than the rest of the search), so only when a screen shows them.
    facets: bool = False
    relaxed: bool = False  # the second pass: one typo allowed in words of 3-4 letters too


@dataclass(frozen=True)
class Hit:
    """One result, with HTML-safe highlighted title and cropped description."""

    document: ItemDocument
    title_html: str
    description_html: str


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the exact match count and facet counts over all filtered matches."""

    hits: tuple[Hit, ...]
    total: int
    facets: Mapping[str, Mapping[str, int]]
    query_words: tuple[str, ...]


def clamp_request(req: SearchRequest) -> SearchRequest:
    """Bring paging and sort into their allowed ranges instead of failing on them.

    The HTTP layer validates too; engines still clamp so a bad value never reaches a
    query (negative or huge offsets, huge limits) and an unknown sort falls back to
    relevance.
    """
    limit = min(max(req.limit, 1), MAX_LIMIT)
    offset = min(max(req.offset, 0), MAX_OFFSET)
    sort = req.sort if req.sort in SORTS else "relevance"
    if (limit, offset, sort) == (req.limit, req.offset, req.sort):
        return req
    return replace(req, sort=sort, offset=offset, limit=limit)


def document_to_dict(doc: ItemDocument) -> dict[str, Any]:
    """JSON-ready dict of a document (tuples become lists).

    Built field by field: `dataclasses.asdict` deep-copies and is several times slower,
    which shows when indexing a whole event.
    """
    data = {field.name: getattr(doc, field.name) for field in fields(doc)}
    for key in ("hashtags", "tag_keys", "causes"):
        data[key] = list(data[key])
    return data


def document_from_dict(data: Mapping[str, Any]) -> ItemDocument:
    """Rebuild a document from `document_to_dict` output (or a Meilisearch hit).

    Extra keys (such as Meilisearch's `_formatted` or derived search fields) are ignored.
    """
    photo = data.get("photo")
    return ItemDocument(
        id=str(data["id"]),
        event_id=str(data["event_id"]),
        stall_id=str(data["stall_id"]),
        stall_code=str(data["stall_code"]),
        stall_name=str(data["stall_name"]),
        stall_number=str(data["stall_number"]),
        title=str(data["title"]),
        description=str(data["description"]),
        hashtags=tuple(str(t) for t in data["hashtags"]),
        tag_keys=tuple(str(t) for t in data["tag_keys"]),
        causes=tuple(str(c) for c in data["causes"]),
        state=str(data["state"]),
        price=int(data["price"]),
        currency=str(data["currency"]),
        created_at=int(data["created_at"]),
        photo=None if photo is None else str(photo),
        hidden=bool(data["hidden"]),
    )
