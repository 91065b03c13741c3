"""The search contract: what every engine must do, pinned with small documents.

Each test runs once per engine kind (see conftest.py) on a fresh, empty engine. The
expectations follow Meilisearch's documented behaviour: typo budget by word length, a
first-letter typo counting two, only the last word a prefix (unless followed by a
space), the "last" matching strategy, and the bucket order words > typo > proximity >
attribute > exactness > sort.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.documents import SearchRequest, SearchResult
from search.embedded import EmbeddedEngine
from search.engine import SearchEngine
from search.query import query_words
from tests.search.conftest import ENGINE_KINDS, dispose_engine, open_engine
from tests.search.helpers import EVENT, OTHER_EVENT, STALL_A, STALL_B, ids, item, item_id, titles


async def search(engine: SearchEngine, q: str = "", **options: object) -> SearchResult:
    return await engine.search(SearchRequest(event_id=EVENT, q=q, **options))  # type: ignore[arg-type]


# Typo tolerance ------------------------------------------------------------------


async def test_words_of_four_letters_or_less_allow_no_typo(engine: SearchEngine) -> None:
    await engine.index([item(1, "Honey jar")])
    assert (await search(engine, "hony")).total == 0  # 4 letters: no typo, even as a prefix
    assert titles(await search(engine, "hone")) == ["Honey jar"]  # ...but a prefix
    assert (await search(engine, "hon ")).total == 0  # a finished word is not a prefix


async def test_words_of_five_to_eight_letters_allow_one_typo(engine: SearchEngine) -> None:
    await engine.index([item(1, "Leather belt"), item(2, "Honey jar")])
    assert titles(await search(engine, "lether ")) == ["Leather belt"]
    assert titles(await search(engine, "honney ")) == ["Honey jar"]
    assert (await search(engine, "lethar ")).total == 0  # two typos


async def test_words_of_nine_letters_or_more_allow_two_typos(engine: SearchEngine) -> None:
    await engine.index([item(1, "Handkerchief set"), item(2, "Embroidery kit")])
    assert titles(await search(engine, "hankerchef ")) == ["Handkerchief set"]
    assert titles(await search(engine, "embroydery ")) == ["Embroidery kit"]
    assert (await search(engine, "hankrchef ")).total == 0  # three typos


async def test_a_typo_on_the_first_letter_is_not_tolerated(engine: SearchEngine) -> None:
    await engine.index([item(1, "Saturday special")])
    assert (await search(engine, "caturday")).total == 0
    assert titles(await search(engine, "sturday")) == ["Saturday special"]


async def test_swapping_two_neighbouring_letters_is_one_typo(engine: SearchEngine) -> None:
    await engine.index([item(1, "Leather belt")])
    assert titles(await search(engine, "laether ")) == ["Leather belt"]
    assert titles(await search(engine, "leahter ")) == ["Leather belt"]


async def test_the_last_word_is_a_prefix_with_its_typo_budget(engine: SearchEngine) -> None:
    # "Iphone", not "iPhone": Meilisearch splits camel case inside words, tantivy does not
    await engine.index([item(1, "Vintage lamp"), item(2, "Iphone charger"), item(3, "Leather jacket")])
    assert titles(await search(engine, "vint")) == ["Vintage lamp"]
    assert titles(await search(engine, "iphoe")) == ["Iphone charger"]
    assert titles(await search(engine, "leather ja")) == ["Leather jacket"]


async def test_a_word_before_the_last_is_not_a_prefix(engine: SearchEngine) -> None:
    await engine.index([item(1, "Vintage lamp")])
    assert (await search(engine, "vint lamp")).total == 0


async def test_accents_and_case_are_ignored(engine: SearchEngine) -> None:
    await engine.index([item(1, "Café crème"), item(2, "CAFE SIGN")])
    result = await search(engine, "cafe ")
    assert sorted(titles(result)) == ["CAFE SIGN", "Café crème"]
    assert (await search(engine, "CRÈME")).total == 1


# Ranking -------------------------------------------------------------------------


async def test_more_matched_words_rank_first_and_the_first_word_is_required(
    engine: SearchEngine,
) -> None:
    await engine.index([item(1, "Leather belt"), item(2, "Denim jacket"), item(3, "Leather jacket")])
    result = await search(engine, "leather jacket ")
    # "last" strategy: all words, then "leather" alone; "jacket" alone is not enough
    assert titles(result) == ["Leather jacket", "Leather belt"]
    assert result.total == 2


async def test_exact_match_ranks_above_a_typo(engine: SearchEngine) -> None:
    await engine.index([item(1, "Lather soap"), item(2, "Leather soap")])
    assert titles(await search(engine, "leather ")) == ["Leather soap", "Lather soap"]


async def test_proximity_adjacent_words_rank_above_distant_ones(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Jacket made of soft brown old leather"),
            item(2, "Brown leather jacket"),
        ]
    )
    result = await search(engine, "leather jacket ")
    assert titles(result) == ["Brown leather jacket", "Jacket made of soft brown old leather"]


async def test_title_match_ranks_above_description_match(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Old light", description="A brass lamp for the desk"),
            item(2, "Desk lamp", description="Brass, works well"),
        ]
    )
    assert titles(await search(engine, "lamp ")) == ["Desk lamp", "Old light"]


async def test_hashtag_match_ranks_above_stall_name_and_description(
    engine: SearchEngine,
) -> None:
    await engine.index(
        [
            item(1, "Cushion", description="Upcycled from old curtains"),
            item(2, "Tote bag", stall_name="Upcycled Things"),
            item(3, "Lampshade", hashtags=("#Upcycled",)),
        ]
    )
    assert titles(await search(engine, "upcycled ")) == ["Lampshade", "Tote bag", "Cushion"]


async def test_exact_word_ranks_above_a_longer_prefix_match(engine: SearchEngine) -> None:
    await engine.index([item(1, "Jamaican coffee"), item(2, "Jam jar")])
    assert titles(await search(engine, "jam")) == ["Jam jar", "Jamaican coffee"]


async def test_sort_only_breaks_ties_between_equally_relevant_hits(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Honey jar", price=500),
            item(2, "Honey jar", price=300),
            item(3, "Honay jar", price=1),  # one typo: less relevant whatever its price
            item(4, "Honey jar", price=900),
        ]
    )
    ascending = await search(engine, "honey ", sort="price_asc")
    assert [hit.document.price for hit in ascending.hits] == [300, 500, 900, 1]
    descending = await search(engine, "honey ", sort="price_desc")
    assert [hit.document.price for hit in descending.hits] == [900, 500, 300, 1]


async def test_without_words_the_sort_decides_everything(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Mug", price=700, created_at=100),
            item(2, "Vase", price=200, created_at=300),
            item(3, "Bowl", price=900, created_at=200),
        ]
    )
    assert titles(await search(engine, "", sort="newest")) == ["Vase", "Bowl", "Mug"]
    assert titles(await search(engine, "", sort="price_asc")) == ["Vase", "Mug", "Bowl"]
    assert titles(await search(engine, "", sort="price_desc")) == ["Bowl", "Mug", "Vase"]


# Hashtags ------------------------------------------------------------------------


async def test_hashtags_are_found_with_or_without_the_hash(engine: SearchEngine) -> None:
    await engine.index([item(1, "Raffle ticket", hashtags=("#SocialCause",)), item(2, "Mug")])
    for q in ("#SocialCause", "socialcause", "#socialcause", "social cause"):
        result = await search(engine, q)
        assert titles(result) == ["Raffle ticket"], q
    assert (await search(engine, "#SocialCause")).query_words == ("socialcause",)


async def test_tag_filter_requires_every_tag(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Honey", hashtags=("#Local", "#Organic")),
            item(2, "Jam", hashtags=("#Local",)),
            item(3, "Tea", hashtags=("#Organic",)),
        ]
    )
    assert titles(await search(engine, tags=("local", "organic"))) == ["Honey"]
    assert sorted(titles(await search(engine, tags=("local",)))) == ["Honey", "Jam"]


# Filters, facets, paging -----------------------------------------------------------


async def test_other_events_never_appear(engine: SearchEngine) -> None:
    await engine.index([item(1, "Teapot"), item(2, "Teapot", event_id=OTHER_EVENT)])
    result = await search(engine, "teapot")
    assert ids(result) == [item_id(1)]
    assert (await search(engine)).total == 1


async def test_stall_cause_and_price_filters(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Mug", price=300),
            item(2, "Mug", price=500, stall_id=STALL_B, causes=("foodbank",)),
            item(3, "Mug", price=700, causes=("shelter",)),
            item(4, "Mug", price=299),
        ]
    )
    assert ids(await search(engine, "mug", stall_ids=(STALL_B,))) == [item_id(2)]
    only_causes = await search(engine, "mug", causes=("foodbank", "shelter"))
    assert sorted(ids(only_causes)) == [item_id(2), item_id(3)]
    in_range = await search(engine, "mug", price_min=300, price_max=500)
    assert sorted(ids(in_range)) == [item_id(1), item_id(2)]  # both bounds inclusive


async def test_state_filter_shows_available_items_unless_asked(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Lamp"),
            item(2, "Lamp", state="reserved"),
            item(3, "Lamp", state="sold"),
        ]
    )
    assert ids(await search(engine, "lamp")) == [item_id(1)]
    sold = await search(engine, "lamp", states=("reserved", "sold"))
    assert sorted(ids(sold)) == [item_id(2), item_id(3)]


async def test_facets_count_every_filtered_match(engine: SearchEngine) -> None:
    await engine.index(
        [
            item(1, "Green mug", hashtags=("#Local", "#Handmade")),
            item(2, "Blue mug", hashtags=("#Local",), stall_id=STALL_B),
            item(3, "Red mug", hashtags=("#Handmade",), state="sold"),
            item(4, "Green vase", hashtags=("#Local",)),
        ]
    )
    result = await search(engine, "mug", states=("available", "sold"), facets=True)
    assert result.total == 3
    assert dict(result.facets["tags"]) == {"local": 2, "handmade": 2}
    assert dict(result.facets["stalls"]) == {STALL_A: 2, STALL_B: 1}
    assert dict(result.facets["state"]) == {"available": 2, "sold": 1}
    assert (await search(engine, "mug", facets=False)).facets == {}
    assert (await search(engine, "mug")).facets == {}  # not asked for: not computed


async def test_pages_are_exact_and_do_not_overlap(engine: SearchEngine) -> None:
    await engine.index([item(n, f"Postcard number {n}", price=100 * (n % 3)) for n in range(25)])
    for sort in ("relevance", "price_asc", "newest"):
        seen: list[str] = []
        for offset in (0, 10, 20):
            page = await search(engine, "postcard", sort=sort, offset=offset, limit=10)
            assert page.total == 25
            seen.extend(ids(page))
        assert len(seen) == 25
        assert sorted(seen) == sorted(item_id(n) for n in range(25)), sort


async def test_out_of_range_paging_is_clamped_not_an_error(engine: SearchEngine) -> None:
    await engine.index([item(n, f"Postcard {n}") for n in range(3)])
    far = await search(engine, "postcard", offset=10**12, limit=10)
    assert far.total == 3 and far.hits == ()
    assert len((await search(engine, "postcard", offset=-4, limit=0)).hits) == 1
    assert len((await search(engine, "", limit=10**6)).hits) == 3


async def test_highlights_mark_matches_and_escape_html(engine: SearchEngine) -> None:
    long_text = " ".join(["filler"] * 60 + ["genuine", "leather"] + ["filler"] * 60)
    await engine.index(
        [
            item(1, "Vintage leather jacket", description=long_text),
            item(2, "<script>alert(1)</script> leather & lace"),
        ]
    )
    result = await search(engine, "leather ")
    by_id = {hit.document.id: hit for hit in result.hits}
    jacket, script = by_id[item_id(1)], by_id[item_id(2)]
    assert jacket.title_html == "Vintage <mark>leather</mark> jacket"
    assert "<mark>leather</mark>" in jacket.description_html
    assert jacket.description_html.startswith("…")
    assert len(jacket.description_html.split()) < 40
    assert "<script>" not in script.title_html
    assert script.title_html.startswith("&lt;script&gt;")
    assert "<mark>leather</mark> &amp; lace" in script.title_html


# Writes ------------------------------------------------------------------------------


async def test_hidden_items_never_appear(engine: SearchEngine) -> None:
    await engine.index([item(1, "Lamp", hidden=True), item(2, "Lamp")])
    assert ids(await search(engine, "lamp")) == [item_id(2)]
    assert ids(await search(engine, "", states=("available", "reserved", "sold"))) == [item_id(2)]


async def test_deleted_items_never_appear(engine: SearchEngine) -> None:
    await engine.index([item(1, "Lamp"), item(2, "Lamp")])
    await engine.delete([item_id(1), item_id(99)])
    assert ids(await search(engine, "lamp")) == [item_id(2)]


async def test_indexing_again_replaces_the_document(engine: SearchEngine) -> None:
    await engine.index([item(1, "Teapot")])
    await engine.index([item(1, "Kettle")])
    assert (await search(engine, "teapot")).total == 0
    assert titles(await search(engine, "kettle")) == ["Kettle"]
    assert (await search(engine)).total == 1


async def test_new_words_are_searchable_right_after_indexing(engine: SearchEngine) -> None:
    await engine.index([item(1, "Lamp")])
    assert (await search(engine, "lamp")).total == 1
    await engine.index([item(2, "Kettle")])
    assert titles(await search(engine, "kettl")) == ["Kettle"]
    assert titles(await search(engine, "ketle ")) == ["Kettle"]


async def test_searches_and_writes_can_run_concurrently(engine: SearchEngine) -> None:
    await engine.index([item(n, f"Mug number {n}") for n in range(50)])

    async def write() -> None:
        for n in range(50, 60):
            await engine.index([item(n, f"Mug number {n}")])

    async def read() -> None:
        for _ in range(10):
            assert (await search(engine, "mug")).total >= 50

    await asyncio.gather(write(), *(read() for _ in range(5)))
    assert (await search(engine, "mug")).total == 60


async def test_clear_drops_everything(engine: SearchEngine) -> None:
    await engine.index([item(1, "Lamp"), item(2, "Vase", event_id=OTHER_EVENT)])
    await engine.clear()
    assert (await search(engine)).total == 0
    assert await engine.health()


async def test_embedded_index_survives_a_restart(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path / "search")
    await engine.index([item(1, "Lamp"), item(2, "Vase")])
    await engine.delete([item_id(2)])
    await engine.close()
    reopened = EmbeddedEngine(tmp_path / "search")
    try:
        assert titles(await search(reopened, "lamp")) == ["Lamp"]
        assert (await search(reopened)).total == 1
        await reopened.index([item(3, "Lamp shade")])
        assert (await search(reopened, "lamp")).total == 2
    finally:
        await reopened.close()


# Bad input -------------------------------------------------------------------------

SYNTAX = ['"', "*", "-", "NEAR", ":", "(", ")", "AND", "OR", "~", "^", "\\", "'", "#", "\x00"]
PIECES = [*SYNTAX, " ", "😀", "🇫🇷", "leather", "vint", "jacket", "é", "\u0301", "ß", "ＡＢ"]
hostile_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=40).map("".join),
    st.builds(
        lambda piece, times: (piece * times)[:10_000],
        st.sampled_from([*PIECES, "lorem ipsum "]),
        st.integers(min_value=1, max_value=10_000),
    ),
)


@contextmanager
def sync_engine(kind: str) -> Iterator[tuple[SearchEngine, asyncio.AbstractEventLoop]]:
    """An engine with a few documents on a private event loop, for hypothesis tests.

    Hypothesis drives sync functions; a loop of our own keeps the session loop of
    pytest-asyncio out of it.
    """
    loop = asyncio.new_event_loop()
    with TemporaryDirectory() as folder:
        engine = loop.run_until_complete(open_engine(kind, Path(folder)))
        try:
            docs = [item(1, "Vintage leather jacket"), item(2, 'Mug "NEAR" (AND) -x')]
            loop.run_until_complete(engine.index(docs))
            yield engine, loop
        finally:
            loop.run_until_complete(dispose_engine(engine))
            loop.close()


def assert_valid(result: SearchResult, limit: int) -> None:
    assert isinstance(result, SearchResult)
    assert 0 <= len(result.hits) <= limit
    assert result.total >= len(result.hits)
    assert len(result.query_words) <= 10
    assert all(word.isalnum() for word in result.query_words)


@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_search_never_raises_on_hostile_text(kind: str) -> None:
    with sync_engine(kind) as (engine, loop):

        @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(q=hostile_text, offset=st.integers(-5, 50), limit=st.integers(-5, 500))
        def check(q: str, offset: int, limit: int) -> None:
            request = SearchRequest(event_id=EVENT, q=q, offset=offset, limit=limit)
            result = loop.run_until_complete(engine.search(request))
            assert_valid(result, limit=100)

        check()


@settings(max_examples=200, deadline=None)
@given(q=hostile_text)
def test_query_words_never_contain_syntax(q: str) -> None:
    words = query_words(q)
    assert len(words) <= 10
    for word in words:
        assert word.text and word.text.isalnum(), word
        assert not any(ch in word.text for ch in '"*-:()~^\\#\x00 ')


# The relaxed second pass (search.relaxed) ------------------------------------------


async def test_relaxed_rule_allows_one_typo_in_three_and_four_letter_words(engine: SearchEngine) -> None:
    await engine.index([item(1, "Honey jar"), item(2, "Jam pot"), item(3, "Saturday special")])
    assert titles(await search(engine, "hony", relaxed=True)) == ["Honey jar"]
    assert titles(await search(engine, "jma ", relaxed=True)) == ["Jam pot"]  # a swap
    assert (await search(engine, "hny ", relaxed=True)).total == 0  # "honey" is two typos away
    assert (await search(engine, "jm ", relaxed=True)).total == 0  # 2 letters: still no typo
    assert (await search(engine, "bam ", relaxed=True)).total == 0  # first letter: still not tolerated
    assert (await search(engine, "sturdy ", relaxed=True)).total == 0  # 5+ letters: budgets unchanged


async def test_second_pass_runs_only_when_the_strict_one_finds_nothing(engine: SearchEngine) -> None:
    from search.relaxed import search_or_relax

    await engine.index([item(1, "Honey jar", hashtags=["#LocalHoney"]), item(2, "Jam pot"), item(3, "Ham hock")])
    strict = await search_or_relax(engine, SearchRequest(event_id=EVENT, q="jam "))
    assert (strict.relaxed, titles(strict.result)) == (False, ["Jam pot"])  # found: no second pass ("ham")
    loose = await search_or_relax(engine, SearchRequest(event_id=EVENT, q="hony"))
    assert loose.relaxed and loose.result.total == 1 and titles(loose.result) == ["Honey jar"]
    assert loose.corrections == {"hony": "honey"} and loose.showing_for == "honey"
    two = await search_or_relax(engine, SearchRequest(event_id=EVENT, q="hony jra "))
    assert two.relaxed and titles(two.result) == ["Honey jar"]
    assert two.corrections == {"hony": "honey", "jra": "jar"} and two.showing_for == "honey jar"
    later_page = await search_or_relax(engine, SearchRequest(event_id=EVENT, q="hony", offset=1, limit=1))
    assert later_page.relaxed and later_page.result.total == 1 and later_page.corrections == {"hony": "honey"}
    nothing = await search_or_relax(engine, SearchRequest(event_id=EVENT, q="xylo"))
    assert (nothing.relaxed, nothing.result.total, nothing.corrections) == (False, 0, {})
    off = await search_or_relax(engine, SearchRequest(event_id=EVENT, q="hony"), relax=False)
    assert (off.relaxed, off.result.total) == (False, 0)
