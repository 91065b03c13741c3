"""MeiliEngine parts that need no server: filters, query text, settings diff, task waits.

The contract tests cover behaviour against a real server (SOUK_MEILI_URL); these pin
the request building and the failure handling, with the client's calls replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from meilisearch_python_sdk.models.settings import MeilisearchSettings
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult

from search.documents import SearchRequest
from search.engine import EngineError
from search.meili import (
    POST_TAG,
    PRE_TAG,
    MeiliEngine,
    _paging,
    _safe_html,
    desired_settings,
    meili_document,
    meili_filter,
    meili_query,
    meili_sort,
    quote,
    settings_changes,
)
from search.query import query_words
from tests.search.helpers import EVENT, item


def test_filter_values_are_quoted_and_escaped() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    req = SearchRequest(
        event_id='ev" OR hidden = true',
        stall_ids=("s1",),
        tags=("local", 'x"y'),
        causes=("a", "b"),
        states=("available", "sold"),
        price_min=100,
        price_max=500,
    )
    assert meili_filter(req) == [
        'event_id = "ev\\" OR hidden = true"',
        "hidden = false",
        ['state = "available"', 'state = "sold"'],
        ['stall_id = "s1"'],
        'tag_keys = "local"',
        'tag_keys = "x\\"y"',
        ['causes = "a"', 'causes = "b"'],
        "price >= 100",
        "price <= 500",
    ]


def test_query_text_is_plain_words_and_keeps_a_finished_last_word() -> None:
    assert meili_query(query_words('"vint*" -leather')) == "vint leather"
    assert meili_query(query_words("leather ")) == "leather "
    assert meili_query(query_words("#SocialCause")) == "socialcause"
    assert meili_query(query_words("")) == ""


def test_sort_and_paging() -> None:
    assert meili_sort(SearchRequest(event_id=EVENT, sort="price_asc"), query_words("x")) == ["price:asc"]
    assert meili_sort(SearchRequest(event_id=EVENT), query_words("mug")) is None
    assert meili_sort(SearchRequest(event_id=EVENT), ()) == ["created_at:desc"]
    assert _paging(40, 20) == (3, 20, 0)
    assert _paging(15, 10) == (1, 25, 15)


def test_highlights_are_escaped_before_marks_are_added() -> None:
    formatted = f"<script> {PRE_TAG}leather{POST_TAG} & co"
    assert _safe_html(formatted) == "&lt;script&gt; <mark>leather</mark> &amp; co"


def test_documents_carry_tag_words_and_no_sentinels() -> None:
    doc = item(1, f"Mug{PRE_TAG}", hashtags=("#LiveEvent",))
    data = meili_document(doc)
    assert data["tag_words"] == ["liveevent live event"]
    assert data["title"] == "Mug"
    assert data["hashtags"] == ["#LiveEvent"]


def test_only_differing_settings_are_sent() -> None:
    desired = desired_settings("1.37.0")
    assert desired.ranking_rules == [
        "words", "typo", "proximity", "attributeRank", "exactness", "sort"
    ]  # fmt: skip
    assert "attribute" in (desired_settings("1.20.1").ranking_rules or [])
    same = MeilisearchSettings(**desired.model_dump())
    same.filterable_attributes = list(reversed(desired.filterable_attributes or []))
    assert settings_changes(same, desired) is None
    stale = MeilisearchSettings(**desired.model_dump())
    stale.sortable_attributes = ["price"]
    changes = settings_changes(stale, desired)
    assert changes is not None
    assert changes.sortable_attributes == desired.sortable_attributes
    assert changes.filterable_attributes is None  # unchanged: never re-sent


def _task(uid: int) -> TaskInfo:
    data = {"taskUid": uid, "status": "enqueued", "type": "documentAdditionOrUpdate"}
    return TaskInfo.model_validate({**data, "enqueuedAt": datetime.now(UTC)})


def _result(uid: int, status: str) -> TaskResult:
    error = {"message": "bad document id"} if status == "failed" else None
    data = {"uid": uid, "status": status, "type": "documentAdditionOrUpdate", "error": error}
    return TaskResult.model_validate({**data, "enqueuedAt": datetime.now(UTC)})


class FakeServer:
    """Stands in for the HTTP calls: records batches, answers task states."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.batches: list[list[Any]] = []

    async def add_documents(self, batch: list[Any], primary_key: str | None = None) -> TaskInfo:
        self.batches.append(batch)
        return _task(len(self.batches))

    async def get_task(self, task_id: int) -> TaskResult:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return _result(task_id, status)


def _engine(server: FakeServer, timeout: float = 5.0) -> MeiliEngine:
    """An engine whose document writes and task reads go to `server`."""
    engine = MeiliEngine("http://127.0.0.1:9", None, task_timeout=timeout)
    vars(engine._index)["add_documents"] = server.add_documents
    vars(engine._client)["get_task"] = server.get_task
    return engine


async def test_writes_wait_for_their_task_and_send_large_batches() -> None:
    server = FakeServer(["enqueued", "processing", "succeeded"])
    engine = _engine(server)
    await engine.index([item(n, "Mug") for n in range(10_001)])
    assert [len(batch) for batch in server.batches] == [10_000, 1]
    await engine.close()


@pytest.mark.parametrize("status", ["failed", "canceled"])
async def test_a_failed_or_cancelled_task_raises(status: str) -> None:
    engine = _engine(FakeServer(["processing", status]))
    with pytest.raises(EngineError, match=status):
        await engine.index([item(1, "Mug")])
    await engine.close()


async def test_a_task_that_never_finishes_raises_after_the_timeout() -> None:
    engine = _engine(FakeServer(["processing"]), timeout=0.1)
    with pytest.raises(EngineError, match="not finished"):
        await engine.index([item(1, "Mug")])
    await engine.close()


async def test_unreachable_server_is_unhealthy_and_search_raises_engine_error() -> None:
    engine = MeiliEngine("http://127.0.0.1:9", None)
    assert await engine.health() is False
    with pytest.raises(EngineError):
        await engine.search(SearchRequest(event_id=EVENT, q="mug"))
    await engine.close()


def test_one_typo_variants_keep_the_first_letter() -> None:
    from search.fuzzy import one_typo_variants, term_typos

    variants = one_typo_variants("hony")
    assert {"honey", "hone", "hny", "hoy", "hnoy", "hong"} <= set(variants)
    assert "hony" not in variants and not [v for v in variants if not v.startswith("h")]
    assert all(term_typos("hony", v, 1, False) == 1 for v in variants)


async def test_relaxed_search_counts_the_variants_and_searches_the_best() -> None:
    """Meilisearch has no per-query typo rule: the engine counts each variant, then searches the best."""
    from types import SimpleNamespace

    engine = MeiliEngine("http://127.0.0.1:9", None)
    asked: list[list[Any]] = []
    searched: list[str] = []

    async def multi_search(queries: list[Any]) -> list[Any]:
        asked.append(queries)
        counts = {"honey": 3, "hone": 1, "jar": 2, "jam": 5}
        return [SimpleNamespace(total_hits=counts.get(q.query.strip(), 0)) for q in queries]

    async def search(query: str, **options: Any) -> Any:
        searched.append(query)
        return SimpleNamespace(hits=[], total_hits=0, facet_distribution={})

    vars(engine._client)["multi_search"] = multi_search
    vars(engine._index)["search"] = search
    await engine.search(SearchRequest(event_id=EVENT, q="hony jar", relaxed=True))
    assert len(asked) == 2  # both words have 3-4 letters; "jar" matches itself, so it stays
    assert searched == ["honey jar"]
    assert all(q.filter == meili_filter(SearchRequest(event_id=EVENT)) for q in asked[0])
    await engine.search(SearchRequest(event_id=EVENT, q="hony"))  # strict: no counting
    assert len(asked) == 2 and searched[-1] == "hony"
    await engine.close()
