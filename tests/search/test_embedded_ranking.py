"""The embedded engine's tantivy ranking paths agree with a brute-force reference.

The reference ranks every document in Python with `search.ranking.relevance_key` (the
bucket key: words, typos, proximity, attribute, exactness), then the sort. The engine
groups documents with tantivy queries and only ranks what the page needs, through
several paths (one word; two words by proximity classes or in Python; three words by
adjacency or in Python). Whatever the path, pages read one after the other must list
exactly the matching documents, in non-decreasing reference order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
import tantivy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import embedded_queries, embedded_ranking
from search.documents import ItemDocument, SearchRequest
from search.embedded import EmbeddedEngine
from search.embedded_queries import address_key, all_of, count, filter_query, near_query, word_query
from search.embedded_ranking import closest_page, ranked_page
from search.embedded_schema import FILLER, build_schema, stored_words, to_tantivy
from search.fuzzy import Vocabulary, match_word
from search.query import query_words
from search.ranking import FAR, relevance_key
from tests.search.helpers import item

WORDS = [
    "red", "reed", "rest", "leather", "lether", "jacket", "jackets", "vintage",
    "vintge", "blue", "honey", "money", "a", "an", "old", "gold", "handkerchief",
]  # fmt: skip
TAGS = ["#Vintage", "#RedLeather", "#Honey", "#OldGold"]

Key = tuple[int, ...]


def sort_value(doc: ItemDocument, sort: str) -> int:
    return {
        "price_asc": doc.price,
        "price_desc": -doc.price,
        "newest": -doc.created_at,
    }.get(sort, 0)


def reference_keys(docs: Sequence[ItemDocument], q: str, sort: str) -> dict[str, Key]:
    """id -> full ranking key of every matching document, computed the slow way."""
    fields = {doc.id: stored_words(to_tantivy(doc)) for doc in docs}
    vocabulary = Vocabulary(word for doc_words in fields.values() for f in doc_words.fields for word in f)
    matches = [match_word(vocabulary, word) for word in query_words(q)]
    keys: dict[str, Key] = {}
    for doc in docs:
        for in_play in range(len(matches), 0, -1):
            key = relevance_key(fields[doc.id], matches[:in_play])
            if key is not None:
                keys[doc.id] = (-in_play, *key, sort_value(doc, sort))
                break
    return keys


def all_pages(
    engine: EmbeddedEngine, loop: asyncio.AbstractEventLoop, event: str, q: str, sort: str, size: int
) -> list[str]:
    found: list[str] = []
    offset = 0
    while True:
        req = SearchRequest(event_id=event, q=q, sort=sort, offset=offset, limit=size)
        result = loop.run_until_complete(engine.search(req))
        found.extend(hit.document.id for hit in result.hits)
        offset += size
        if offset >= result.total:
            assert len(found) == result.total
            return found


def phrase(words: list[str]) -> str:
    return " ".join(words)


documents = st.lists(
    st.builds(
        lambda title, description, tags, price, stall: (title, description, tags, price, stall),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(phrase),
        st.lists(st.sampled_from(WORDS), max_size=12).map(phrase),
        st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        st.integers(1, 4),
        st.sampled_from(["Red Stall", "Gold and Honey", "Corner"]),
    ),
    min_size=1,
    max_size=25,
)
typed = st.sampled_from(WORDS) | st.sampled_from(WORDS).map(lambda w: w[: max(1, len(w) - 2)])
queries = st.tuples(st.lists(typed, min_size=1, max_size=3), st.booleans()).map(
    lambda parts: phrase(parts[0]) + (" " if parts[1] else "")
)


@pytest.fixture
def engine_loop() -> Iterator[tuple[EmbeddedEngine, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    with TemporaryDirectory() as folder:
        engine = EmbeddedEngine(Path(folder))
        try:
            yield engine, loop
        finally:
            loop.run_until_complete(engine.close())
            loop.close()


@pytest.mark.parametrize("python_tier_limit", [0, 10_000], ids=["tantivy", "python"])
def test_pages_follow_the_reference_order(
    engine_loop: tuple[EmbeddedEngine, asyncio.AbstractEventLoop],
    python_tier_limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, loop = engine_loop
    monkeypatch.setattr(embedded_ranking, "PYTHON_TIER_LIMIT", python_tier_limit)

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        raw_docs=documents,
        q=queries,
        sort=st.sampled_from(["relevance", "price_asc", "newest"]),
        size=st.integers(1, 4),
    )
    def check(raw_docs: list[tuple[str, str, list[str], int, str]], q: str, sort: str, size: int) -> None:
        event = str(uuid.uuid4())  # a fresh event isolates each example in one index
        docs = [
            item(
                1000 * len(raw_docs) + n,
                title,
                id=str(uuid.uuid4()),
                event_id=event,
                description=description,
                hashtags=tuple(tags),
                price=price,
                stall_name=stall,
            )
            for n, (title, description, tags, price, stall) in enumerate(raw_docs)
        ]
        loop.run_until_complete(engine.index(docs))
        expected = reference_keys(docs, q, sort)
        found = all_pages(engine, loop, event, q, sort, size)
        assert sorted(found) == sorted(expected)
        keys = [expected[doc_id] for doc_id in found]
        assert keys == sorted(keys), (q, sort)

    check()


def test_words_of_different_hashtags_are_never_close() -> None:
    words = stored_words(to_tantivy(item(1, "Mug", hashtags=("#Vintage", "#OldGold"))))
    assert FILLER in words.fields[1]
    vocabulary = Vocabulary(["vintage", "old", "gold", "oldgold"])
    matches = [match_word(vocabulary, word) for word in query_words("vintage old ")]
    key = relevance_key(words, matches)
    assert key is not None and key.proximity == FAR
    matches = [match_word(vocabulary, word) for word in query_words("old gold ")]
    key = relevance_key(words, matches)
    assert key is not None and key.proximity == 1


def adjacent_words(data: st.DataObject, docs: Sequence[ItemDocument]) -> str | None:
    """Two words next to each other in a title or description, the second typed in part or
    whole (as the last word of a query, or finished); None sometimes, or if there are none."""
    texts = [words for doc in docs for text in (doc.title, doc.description) if len(words := text.split()) > 1]
    if not texts or data.draw(st.integers(0, 3), label="random words instead"):
        return None
    words = data.draw(st.sampled_from(texts), label="text")
    start = data.draw(st.integers(0, len(words) - 2), label="start")
    typed = words[start + 1][: data.draw(st.integers(1, len(words[start + 1])), label="letters typed")]
    return f"{words[start]} {typed}" + data.draw(st.sampled_from(["", " "]), label="finished")


def test_adjacent_pairs_match_what_the_phrase_queries_match(
    engine_loop: tuple[EmbeddedEngine, asyncio.AbstractEventLoop], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`near_query` at cost 1 looks two words up among the documents' adjacent pairs; it must
    find exactly the documents its phrase queries find: words being typed, typos, words
    repeated, the relaxed pass, and hashtags (whose filler keeps them apart)."""
    engine, loop = engine_loop

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(raw_docs=documents, q=queries, relaxed=st.booleans(), data=st.data())
    def check(raw_docs: list[tuple[str, str, list[str], int, str]], q: str, relaxed: bool, data: st.DataObject) -> None:
        event = str(uuid.uuid4())
        docs = [
            item(n, title, id=str(uuid.uuid4()), event_id=event, description=description, hashtags=tuple(tags))
            for n, (title, description, tags, _, _) in enumerate(raw_docs)
        ]
        q = adjacent_words(data, docs) or q  # mostly two words found next to each other
        loop.run_until_complete(engine.index(docs))
        searcher, schema = engine._searcher(), build_schema()
        vocabulary = Vocabulary(w for doc in docs for f in stored_words(to_tantivy(doc)).fields for w in f)
        words = [match_word(vocabulary, word) for word in query_words(q, relaxed)]
        restrict = filter_query(schema, SearchRequest(event_id=event))
        for first, second in pairwise(words):
            by_pairs = near_query(schema, first, second, 1)
            with monkeypatch.context() as patched:
                patched.setattr(embedded_queries, "adjacent_query", lambda *args: None)
                by_phrases = near_query(schema, first, second, 1)
            if by_pairs is None or by_phrases is None:
                assert by_pairs is by_phrases is None
                continue
            found = [
                {address_key(a) for _, a in searcher.search(all_of([restrict, near]), limit=100).hits}
                for near in (by_pairs, by_phrases)
            ]
            assert found[0] == found[1], (q, first.word, second.word)

    check()


CLOSEST_TITLES = [
    "red leather jacket",  # adjacent, no typo: the closest class of the best tier
    "red jacket",
    "red old jacket",  # proximity 2
    "jacket red",  # reversed
    "red reed lether jacket",
    "reed jacket",  # a typo-free match of "reed", a typo of "red"
    "old red",  # the second word missing: a later bucket
    "leather red jacket for a red day",
    "red lether",
]


@pytest.mark.parametrize("q", ["red jacket", "red jack", "reed jacket", "red lether", "jacket red", "red le"])
def test_one_pass_page_is_the_ranked_page(
    engine_loop: tuple[EmbeddedEngine, asyncio.AbstractEventLoop], q: str
) -> None:
    """`closest_page` (total and page in one tantivy pass, when the page lies among the
    adjacent documents of the best typo tier) answers exactly what `ranked_page` answers,
    for every page size and offset; when it cannot tell, it says so and counts the total."""
    engine, loop = engine_loop
    docs = [item(n, title, description=title) for n, title in enumerate(CLOSEST_TITLES * 3)]
    loop.run_until_complete(engine.index(docs))
    loop.run_until_complete(engine.close())
    index = tantivy.Index.open(str(engine.path))
    searcher, schema = index.searcher(), index.schema
    words = [match_word(Vocabulary(w for t in CLOSEST_TITLES for w in t.split()), word) for word in query_words(q)]
    word_queries = [word_query(schema, matches) for matches in words]
    one_pass = 0
    for start, stop in [(0, 1), (0, 2), (0, 3), (1, 3), (2, 6), (0, 20), (5, 9)]:
        filters = filter_query(schema, SearchRequest(event_id=docs[0].event_id, q=q))
        total = count(searcher, all_of([filters, word_queries[0]]))
        expected = ranked_page(searcher, schema, filters, words, word_queries, "relevance", start, stop, total)
        page, counted = closest_page(searcher, schema, filters, words, word_queries, start, stop, None)
        assert counted == total
        if page is not None:
            one_pass += 1
            assert [address_key(a) for a in page] == [address_key(a) for a in expected], (start, stop)
    assert one_pass, "the one-pass page never applied"
