"""The Meilisearch engine, for deployments that run a Meilisearch server.

It satisfies the same contract as the embedded engine:

* the query is normalized by `search.query` first and sent as plain words (the visitor's
  quotes, minus signs and so on never reach Meilisearch as syntax); a trailing space is
  kept so that a finished last word is not a prefix;
* hashtag words are searched as words against `tag_words` (the tag as one word plus its
  camel-case words), a searchable attribute ranked between title and stall name;
* filters are built from quoted, escaped values only;
* every write waits on its task, bounded in time; a failed, cancelled or unfinished task
  raises EngineError (a 202 is not success);
* totals are exact (page/hitsPerPage mode), highlights are escaped here because
  Meilisearch returns `_formatted` values unescaped.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx2
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.errors import MeilisearchError
from meilisearch_python_sdk.models.search import SearchParams
from meilisearch_python_sdk.models.settings import (
    Faceting,
    MeilisearchSettings,
    MinWordSizeForTypos,
    Pagination,
    TypoTolerance,
)
from meilisearch_python_sdk.models.task import TaskInfo

from search.documents import (
    Hit,
    ItemDocument,
    SearchRequest,
    SearchResult,
    clamp_request,
    document_from_dict,
    document_to_dict,
)
from search.engine import MAX_FACET_VALUES, EngineError
from search.fuzzy import one_typo_variants
from search.highlight import CROP_MARKER, CROP_WORDS, MARK_CLOSE, MARK_OPEN
from search.query import QueryWord, allowed_typos, query_words, tag_search_words

T = TypeVar("T")

BATCH_SIZE = 10_000
TASK_TIMEOUT_SECONDS = 60.0
MAX_TOTAL_HITS = 100_000  # exact totals up to this; an event has ~20k items at most
# Private-use characters as highlight tags: Meilisearch does not escape `_formatted`,
# so hits are escaped here and these sentinels become <mark> afterwards. They are
# removed from documents before indexing, so they cannot come from seller text.
PRE_TAG, POST_TAG = "\ue000", "\ue001"

SEARCHABLE = ["title", "tag_words", "stall_name", "description"]
FILTERABLE = ["event_id", "stall_id", "tag_keys", "causes", "state", "price", "hidden"]
SORTABLE = ["price", "created_at"]
FACET_ATTRIBUTES: Mapping[str, str] = {"tags": "tag_keys", "stalls": "stall_id", "state": "state"}
SORTS: Mapping[str, list[str]] = {
    "price_asc": ["price:asc"],
    "price_desc": ["price:desc"],
    "newest": ["created_at:desc"],
}


class MeiliEngine:
    """Search engine backed by a Meilisearch index (one index for all events)."""

    name = "meilisearch"

    def __init__(
        self,
        url: str,
        api_key: str | None,
        index_uid: str = "souk-items",
        *,
        task_timeout: float = TASK_TIMEOUT_SECONDS,
    ) -> None:
        self._client = AsyncClient(url, api_key, timeout=30)
        self._uid = index_uid
        self._index = self._client.index(index_uid)
        self._task_timeout = task_timeout

    @property
    def index_uid(self) -> str:
        """The Meilisearch index this engine uses."""
        return self._uid

    async def ensure_settings(self) -> None:
        """Create the index if needed and apply only the settings that differ.

        Changing filterable attributes reindexes everything, so unchanged settings are
        never re-sent.
        """
        await self._call(
            asyncio.wait_for(
                self._client.get_or_create_index(self._uid, primary_key="id"),
                self._task_timeout,
            )
        )
        version = await self._call(self._client.get_version())
        desired = desired_settings(version.pkg_version)
        current = await self._call(self._index.get_settings())
        changes = settings_changes(current, desired)
        if changes is not None:
            await self._wait(await self._call(self._index.update_settings(changes)))

    async def index(self, docs: Sequence[ItemDocument]) -> None:
        """Upsert documents in batches of BATCH_SIZE, waiting for every task."""
        for batch in _batches([meili_document(doc) for doc in docs]):
            task = await self._call(self._index.add_documents(batch, primary_key="id"))
            await self._wait(task)

    async def delete(self, ids: Sequence[str]) -> None:
        """Delete documents by id, waiting for every task."""
        for batch in _batches(list(ids)):
            await self._wait(await self._call(self._index.delete_documents(batch)))

    async def clear(self) -> None:
        """Delete every document."""
        await self._wait(await self._call(self._index.delete_all_documents()))

    async def search(self, req: SearchRequest) -> SearchResult:
        """Search one event; raises EngineError only when the server fails."""
        req = clamp_request(req)
        words = query_words(req.q)
        searched = await self._relaxed_words(req, words) if req.relaxed else words
        page, hits_per_page, skip = _paging(req.offset, req.limit)
        result = await self._call(
            self._index.search(
                meili_query(searched),
                filter=meili_filter(req),
                sort=meili_sort(req, words),
                facets=list(FACET_ATTRIBUTES.values()) if req.facets else None,
                page=page,
                hits_per_page=hits_per_page,
                attributes_to_highlight=["title", "description"],
                attributes_to_crop=["description"],
                crop_length=CROP_WORDS,
                crop_marker=CROP_MARKER,
                highlight_pre_tag=PRE_TAG,
                highlight_post_tag=POST_TAG,
                matching_strategy="last",
            )
        )
        return SearchResult(
            hits=tuple(_hit(raw) for raw in result.hits[skip:]),
            total=int(result.total_hits or 0),
            facets=_facets(result.facet_distribution) if req.facets else {},
            query_words=tuple(word.text for word in words),
        )

    async def _relaxed_words(self, req: SearchRequest, words: Sequence[QueryWord]) -> tuple[QueryWord, ...]:
        """The words with each 3-4 letter word replaced by its best one-typo variant.

        Meilisearch's typo tolerance is an index setting, so the relaxed rule cannot be
        passed with the query. Instead every variant one typo away (first letter kept) is
        counted under the request's filters in one multi-search, and unless the word itself
        matches, the variant with the most matches stands in for it. The embedded engine matches all variants at
        once, so with several real corrections of one word the engines may differ.
        """
        out = list(words)
        for position, word in enumerate(words):
            if allowed_typos(word.text, True) <= allowed_typos(word.text):
                continue
            variants = [word.text, *one_typo_variants(word.text)]  # the word itself first: kept if it matches
            queries = [
                SearchParams(
                    index_uid=self._uid,
                    q=meili_query([QueryWord(variant, prefix=word.prefix)]),
                    filter=meili_filter(req),
                    page=1,
                    hits_per_page=0,
                )
                for variant in variants
            ]
            results = await self._call(self._client.multi_search(queries))
            counts = [int(getattr(result, "total_hits", 0) or 0) for result in results]
            best = max(range(len(variants)), key=lambda i: (counts[i], -i))
            if counts[best] and not counts[0]:
                out[position] = QueryWord(variants[best], hashtag=word.hashtag, prefix=word.prefix)
        return tuple(out)

    async def health(self) -> bool:
        """True when the server answers that it is available."""
        try:
            health = await self._client.health()
        except (MeilisearchError, httpx2.HTTPError, OSError):
            return False
        return health.status == "available"

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def _call(self, awaitable: Awaitable[T]) -> T:
        """Await a client call, turning server and network failures into EngineError."""
        try:
            return await awaitable
        except (MeilisearchError, httpx2.HTTPError, OSError, TimeoutError) as exc:
            raise EngineError(f"Meilisearch request failed: {exc}") from exc

    async def _wait(self, task: TaskInfo) -> None:
        """Wait until the task succeeded; EngineError if it failed, was cancelled or hangs.

        The SDK's wait loop treats a cancelled task as still pending, so this loop is
        bounded and checks the terminal states itself.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._task_timeout
        delay = 0.02
        while True:
            result = await self._call(self._client.get_task(task.task_uid))
            if result.status == "succeeded":
                return
            if result.status in ("failed", "canceled"):
                raise EngineError(f"Meilisearch task {task.task_uid} {result.status}: {result.error}")
            if loop.time() >= deadline:
                raise EngineError(f"Meilisearch task {task.task_uid} not finished after {self._task_timeout} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)


def desired_settings(server_version: str) -> MeilisearchSettings:
    """The index settings; ranking rules as the contract defines them.

    Sort comes after every relevance rule. Servers from 1.36 on split `attribute` into
    `attributeRank` and `wordPosition`; only the field rank is part of the contract.
    """
    attribute = ["attributeRank"] if _at_least(server_version, 1, 36) else ["attribute"]
    return MeilisearchSettings(
        searchable_attributes=SEARCHABLE,
        filterable_attributes=list(FILTERABLE),
        sortable_attributes=SORTABLE,
        ranking_rules=["words", "typo", "proximity", *attribute, "exactness", "sort"],
        typo_tolerance=TypoTolerance(
            enabled=True,
            min_word_size_for_typos=MinWordSizeForTypos(one_typo=5, two_typos=9),
        ),
        faceting=Faceting(max_values_per_facet=MAX_FACET_VALUES),
        pagination=Pagination(max_total_hits=MAX_TOTAL_HITS),
    )


def settings_changes(current: MeilisearchSettings, desired: MeilisearchSettings) -> MeilisearchSettings | None:
    """Only the settings that differ from the server's, or None when all match."""
    changes: dict[str, Any] = {}
    if current.searchable_attributes != desired.searchable_attributes:
        changes["searchable_attributes"] = desired.searchable_attributes
    if _filterable_names(current) != _filterable_names(desired):
        changes["filterable_attributes"] = desired.filterable_attributes
    if set(current.sortable_attributes or []) != set(desired.sortable_attributes or []):
        changes["sortable_attributes"] = desired.sortable_attributes
    if current.ranking_rules != desired.ranking_rules:
        changes["ranking_rules"] = desired.ranking_rules
    if _typo_rules(current) != _typo_rules(desired):
        changes["typo_tolerance"] = desired.typo_tolerance
    if _facet_limit(current) != _facet_limit(desired):
        changes["faceting"] = desired.faceting
    if _max_total_hits(current) != _max_total_hits(desired):
        changes["pagination"] = desired.pagination
    return MeilisearchSettings(**changes) if changes else None


def _filterable_names(settings: MeilisearchSettings) -> set[str] | None:
    """Plain filterable names; None if the server uses the granular object form."""
    names: set[str] = set()
    for attribute in settings.filterable_attributes or []:
        if not isinstance(attribute, str):
            return None
        names.add(attribute)
    return names


def _typo_rules(settings: MeilisearchSettings) -> tuple[bool, int | None, int | None]:
    typo = settings.typo_tolerance
    if typo is None:
        return (True, 5, 9)  # the server's defaults
    sizes = typo.min_word_size_for_typos or MinWordSizeForTypos(one_typo=5, two_typos=9)
    return typo.enabled, sizes.one_typo, sizes.two_typos


def _facet_limit(settings: MeilisearchSettings) -> int | None:
    return settings.faceting.max_values_per_facet if settings.faceting else None


def _max_total_hits(settings: MeilisearchSettings) -> int | None:
    return settings.pagination.max_total_hits if settings.pagination else None


def _at_least(version: str, major: int, minor: int) -> bool:
    """Whether a "1.36.0"-style version is at least major.minor (unknown: no)."""
    parts = version.lstrip("v").split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= (major, minor)
    except (ValueError, IndexError):
        return False


def meili_document(doc: ItemDocument) -> dict[str, Any]:
    """The document as sent to Meilisearch: all fields plus the searchable tag words."""
    data = document_to_dict(doc)
    for key in ("title", "description"):
        data[key] = data[key].replace(PRE_TAG, "").replace(POST_TAG, "")
    data["tag_words"] = list(tag_search_words(doc.hashtags, doc.tag_keys))
    return data


def meili_query(words: Sequence[QueryWord]) -> str:
    """Plain words; a trailing space when the last word is finished (not a prefix)."""
    text = " ".join(word.text for word in words)
    return text if not words or words[-1].prefix else text + " "


def quote(value: str) -> str:
    """A filter string literal: double quotes, with `\\` and `"` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def meili_filter(req: SearchRequest) -> list[str | list[str]]:
    """Filter expression as a list (outer AND, inner lists OR) of quoted conditions."""
    conditions: list[str | list[str]] = [f"event_id = {quote(req.event_id)}", "hidden = false"]
    if req.states:
        conditions.append([f"state = {quote(state)}" for state in req.states])
    if req.stall_ids:
        conditions.append([f"stall_id = {quote(stall)}" for stall in req.stall_ids])
    conditions.extend(f"tag_keys = {quote(tag)}" for tag in req.tags)
    if req.causes:
        conditions.append([f"causes = {quote(cause)}" for cause in req.causes])
    if req.price_min is not None:
        conditions.append(f"price >= {int(req.price_min)}")
    if req.price_max is not None:
        conditions.append(f"price <= {int(req.price_max)}")
    return conditions


def meili_sort(req: SearchRequest, words: Sequence[QueryWord]) -> list[str] | None:
    """The sort; without words, relevance means newest first (as the embedded engine)."""
    if req.sort in SORTS:
        return SORTS[req.sort]
    return None if words else SORTS["newest"]


def _paging(offset: int, limit: int) -> tuple[int, int, int]:
    """(page, hits per page, hits to skip): page mode, because it counts exactly."""
    if offset % limit == 0:
        return offset // limit + 1, limit, 0
    return 1, offset + limit, offset


def _hit(raw: Mapping[str, Any]) -> Hit:
    """A Meilisearch hit as a contract Hit, with escaped highlights."""
    formatted = raw.get("_formatted") or {}
    document = document_from_dict(raw)
    return Hit(
        document=document,
        title_html=_safe_html(str(formatted.get("title", document.title))),
        description_html=_safe_html(str(formatted.get("description", document.description))),
    )


def _safe_html(formatted: str) -> str:
    """Escape Meilisearch's formatted text, then turn the sentinels into <mark> tags."""
    return html.escape(formatted).replace(PRE_TAG, MARK_OPEN).replace(POST_TAG, MARK_CLOSE)


def _facets(distribution: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    """Meilisearch's facetDistribution under the contract's names (tags, stalls, state)."""
    distribution = distribution or {}
    return {
        name: {str(k): int(v) for k, v in (distribution.get(attribute) or {}).items()}
        for name, attribute in FACET_ATTRIBUTES.items()
    }


def _batches(items: list[T]) -> Iterator[list[T]]:
    """Slices of BATCH_SIZE: large batches, since every task has a fixed cost."""
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]
