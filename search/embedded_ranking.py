"""Meilisearch's bucket order over tantivy, computing only what the page needs.

The order is: words (the "last" matching strategy: documents matching all query words,
then all but the last, ...), typo, proximity, attribute, exactness, then the requested
sort, then index order. Each level is a sequence of disjoint groups; a group is a
tantivy query that is counted, and only the groups overlapping the page are ranked
further (`embedded_queries.walk`). So a page of 20 usually costs a handful of counts.

* One word in play: the score is the whole relevance key; with a sort, each score
  class (typos, field, exact) is its own group sorted on a fast field.
* Two words: typo tiers; a large tier is split into proximity classes 1..8 with
  phrase queries and each class is ordered by score then sort, all in tantivy; a
  small tier is ranked in Python (`search.ranking`), which is cheaper than the counts.
* Three words or more: the page is read straight from tantivy when it lies among the
  best-typo documents whose words are all adjacent (the common case while typing);
  otherwise the typo tiers overlapping the page are ranked in Python.

Two words by relevance first try `closest_page`: one pass for the total that also ranks the
closest class of the best typo tier first, which holds the page in the usual case.

Python ranking reads every document of the tiers it ranks; it is exact, and the same
order as the tantivy paths (ties by index order everywhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import groupby, pairwise, product
from typing import Any

import tantivy
from tantivy import DocAddress, Occur, Query

from search.embedded_queries import (
    BIG,
    MAX_TYPOS,
    Addresses,
    ScoredHits,
    Take,
    address_key,
    all_of,
    any_of,
    best_typo_queries,
    by_field,
    by_score,
    by_score_then_field,
    count,
    count_and_page,
    hits_through_score,
    near_query,
    order_by_score_then_field,
    restriction,
    term_class_queries,
    typo_tier,
    walk,
)
from search.embedded_schema import stored_int, stored_words
from search.fuzzy import WordMatches
from search.ranking import FAR, relevance_key

PYTHON_TIER_LIMIT = 400  # below this many documents, reading them beats phrase counts
# Added to the score of the closest documents of the best typo tier (see closest_page):
# above any sum of two word scores (each at most 2 * BIG + MID * 3 + 1 < 3 * BIG), and
# small enough that every sum stays an exact integer in tantivy's f32 scores.
CLOSEST_BONUS = float(8 * BIG)


def ranked_page(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    filters: Query,
    words: Sequence[WordMatches],
    word_queries: Sequence[Query],
    sort: str,
    start: int,
    stop: int,
    total: int,
) -> Addresses:
    """Addresses of the page [start, stop) of a search with at least one word.

    `total` is the number of matches; with one word they form the only bucket, which
    then needs no second count.
    """
    ranker = _Ranker(searcher, schema, sort)
    if len(words) == 1:
        bucket = all_of([filters, word_queries[0]])
        return ranker.rank_one_word(words[0], bucket, start, min(stop, total), total)
    return walk(searcher, ranker.buckets(filters, words, word_queries), start, stop)


def closest_page(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    filters: Query,
    words: Sequence[WordMatches],
    word_queries: Sequence[Query],
    start: int,
    stop: int,
    known: int | None,
) -> tuple[Addresses | None, int]:
    """(page, total) of a two-word search by relevance in one tantivy pass, when it can be.

    The page of two words usually lies among the documents of the best typo tier with the
    words adjacent (proximity 1), which open the ranking. `ranked_page` learns that with
    three passes (the total, the count of the both-words bucket or its tiers, the closest
    class with its page); here one pass over every match of the first word counts the total
    and ranks the closest documents first: they score CLOSEST_BONUS plus their word scores,
    every other match 0. If the page's last hit carries the bonus, the page is exactly the
    closest class's slice by score then index order, as `ranked_page` would return it (the
    class has at least `stop` documents, so every earlier bucket, tier and class is empty
    or this one). Otherwise the page is None and the caller ranks as usual, with the total.
    """
    matched = restriction(all_of([filters, word_queries[0]]))
    tier = _closest_tier(searcher, schema, filters, words, word_queries)
    if tier is None:
        return None, count(searcher, matched) if known is None else known
    bonus = Query.const_score_query(Query.all_query(), CLOSEST_BONUS)
    query = Query.boolean_query([(Occur.Must, matched), (Occur.Should, all_of([tier, bonus]))])
    # `count` exists at runtime but is missing from tantivy's type stubs
    result: Any = searcher.search(query, limit=stop - start, count=known is None, offset=start)
    total = int(result.count) if known is None else known
    hits = result.hits
    if len(hits) < stop - start or not hits or hits[-1][0] < CLOSEST_BONUS:
        return None, total
    return [address for _, address in hits], total


def _closest_tier(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    filters: Query,
    words: Sequence[WordMatches],
    word_queries: Sequence[Query],
) -> Query | None:
    """The documents of the best typo tier of two words with the words adjacent, or None
    when `ranked_page` would not rank the two-word bucket by proximity classes."""
    if len(words) != 2:
        return None
    first, second = words
    near = near_query(schema, first, second, 1)
    if near is None or near_query(schema, first, second, FAR - 1) is None:
        return None
    bucket = all_of([filters, *word_queries])
    if _typo_free(words):
        return all_of([bucket, near])
    tier = next(_Ranker(searcher, schema, "relevance").typo_tiers(bucket, words), None)
    return None if tier is None else all_of([tier, near])


def _typo_free(words: Sequence[WordMatches]) -> bool:
    """Whether every term of every word matches without a typo (a single typo tier)."""
    return all(set(matches.typos.values()) == {0} for matches in words)


class _Ranker:
    """Ranks groups of one search; holds the searcher, the schema and the sort."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, sort: str) -> None:
        self.searcher = searcher
        self.schema = schema
        self.sort = sort

    def buckets(
        self, filters: Query, words: Sequence[WordMatches], word_queries: Sequence[Query]
    ) -> Iterator[tuple[Query, Take]]:
        """Words buckets: the first k words matched and not word k+1, k from all to 1."""
        for in_play in range(len(words), 0, -1):
            excluded = word_queries[in_play : in_play + 1]
            bucket = all_of([filters, *word_queries[:in_play]], excluded)
            yield bucket, self._bucket_ranker(words[:in_play])

    def _bucket_ranker(self, words: Sequence[WordMatches]) -> Take:
        if len(words) == 1:
            return partial(self.rank_one_word, words[0])
        if len(words) == 2 and near_query(self.schema, words[0], words[1], FAR - 1) is not None:
            return partial(self._rank_two_words, words)
        return partial(self._rank_many_words, words)

    # One word -------------------------------------------------------------------

    def rank_one_word(self, matches: WordMatches, bucket: Query, start: int, stop: int, size: int) -> Addresses:
        """Rank a bucket with one word in play (its score is the whole relevance key)."""
        if start >= stop:
            return []
        if self.sort == "relevance":
            return by_score(self.searcher, bucket, start, stop)
        return walk(self.searcher, self._score_classes(bucket, matches), start, stop)

    def _score_classes(self, bucket: Query, matches: WordMatches) -> Iterator[tuple[Query, Take]]:
        """Groups of documents whose best match is one (typos, field, exact) class."""
        better: list[Query] = []
        for _, class_query in term_class_queries(self.schema, matches):
            yield all_of([bucket, restriction(class_query)], list(better)), self._by_field
            better.append(class_query)

    def _by_field(self, group: Query, start: int, stop: int, size: int) -> Addresses:
        return by_field(self.searcher, group, self.sort, start, stop)

    # Two words ------------------------------------------------------------------

    def _rank_two_words(
        self, words: Sequence[WordMatches], bucket: Query, start: int, stop: int, size: int
    ) -> Addresses:
        if _typo_free(words):
            return self._rank_tier(words, bucket, start, stop, size)  # a single typo tier
        tiers = list(self.typo_tiers(bucket, words))  # building queries is cheap; counting is not
        if len(tiers) == 1:  # the tiers partition the bucket: a single one is all of it, of its size
            return self._rank_tier(words, tiers[0], start, stop, size)
        take = partial(self._rank_tier, words)
        return walk(self.searcher, ((tier, take) for tier in tiers), start, stop)

    def typo_tiers(self, bucket: Query, words: Sequence[WordMatches]) -> Iterator[Query]:
        """Groups by total typos: each an OR of per-word "best typo count" combinations."""
        best = [best_typo_queries(self.schema, matches) for matches in words]
        for total in range(MAX_TYPOS * len(words) + 1):
            combos = [c for c in product(*[sorted(b) for b in best]) if sum(c) == total]
            if combos:
                per_combo = [all_of(best[i][t] for i, t in enumerate(c)) for c in combos]
                yield all_of([bucket, restriction(any_of(per_combo))])

    def _rank_tier(self, words: Sequence[WordMatches], tier: Query, start: int, stop: int, size: int) -> Addresses:
        """One typo tier of two words: by proximity classes, or in Python when small."""
        if size <= PYTHON_TIER_LIMIT:
            hits = self.searcher.search(tier, limit=size, count=False).hits
            return self._python_order([address for _, address in hits], words)[start:stop]
        return self._by_proximity(tier, words[0], words[1], start, stop, size)

    def _by_proximity(
        self,
        tier: Query,
        first: WordMatches,
        second: WordMatches,
        start: int,
        stop: int,
        size: int,
    ) -> Addresses:
        """Proximity classes 1..7, then the rest (8), each by score then sort.

        Classes are counted cumulatively (documents within cost c), one phrase query
        each; only the classes on the page are queried as differences.
        """
        page: Addresses = []
        closer: Query | None = None
        within = 0  # documents of the tier closer than the current cost
        for cost in range(1, FAR + 1):
            near = near_query(self.schema, first, second, cost) if cost < FAR else None
            if near is not None and closer is None and self.sort == "relevance":
                # The closest class opens the tier: its count and its page in one pass.
                upto, page = count_and_page(self.searcher, all_of([tier, near]), start, stop)
                within, closer = upto, near
                if within >= stop:
                    break
                continue
            upto = size if near is None else count(self.searcher, all_of([tier, near]))
            if upto > within and upto > start:
                musts = [tier] if near is None else [tier, near]
                group = all_of(musts, [] if closer is None else [closer])
                low, high = max(0, start - within), min(upto, stop) - within
                page.extend(self._score_then_sort(group, low, high))
            within, closer = upto, near
            if within >= stop:
                break
        return page

    def _score_then_sort(self, group: Query, start: int, stop: int) -> Addresses:
        if self.sort == "relevance":
            return by_score(self.searcher, group, start, stop)
        return by_score_then_field(self.searcher, group, self.sort, start, stop)

    # Three words or more --------------------------------------------------------

    def _rank_many_words(
        self, words: Sequence[WordMatches], bucket: Query, start: int, stop: int, size: int
    ) -> Addresses:
        page = self._adjacent_page(words, bucket, start, stop)
        if page is not None:
            return page
        return self._python_page(words, bucket, start, stop)

    def _adjacent_page(self, words: Sequence[WordMatches], bucket: Query, start: int, stop: int) -> Addresses | None:
        """The page when it lies among the best-typo documents with all pairs adjacent.

        Those documents have the fewest typos and the smallest possible proximity, so
        they open the bucket, in score-then-sort order. None when this does not apply.
        """
        pairs = [near_query(self.schema, a, b, 1) for a, b in pairwise(words)]
        adjacent = [pair for pair in pairs if pair is not None]
        if len(adjacent) < len(pairs):
            return None
        best = self.searcher.search(bucket, limit=1, count=False).hits
        if not best:
            return []
        best_tier = typo_tier(best[0][0], len(words))
        try:
            hits = hits_through_score(self.searcher, all_of([bucket, *adjacent]), stop)
        except ValueError:  # a term pattern compiled into too many automaton states
            return None
        if len(hits) < stop or typo_tier(hits[stop - 1][0], len(words)) != best_tier:
            return None
        if self.sort != "relevance":
            hits = order_by_score_then_field(self.searcher, hits, self.sort)
        return [address for _, address in hits[start:stop]]

    def _python_page(self, words: Sequence[WordMatches], bucket: Query, start: int, stop: int) -> Addresses:
        """Exact ranking in Python of the typo tiers that overlap the page."""
        scored = _hits_through_tier(self.searcher, bucket, len(words), stop)
        page: Addresses = []
        position = 0
        for _, tier in groupby(scored, key=lambda hit: typo_tier(hit[0], len(words))):
            addresses = [address for _, address in tier]
            if position + len(addresses) > start:
                ranked = self._python_order(addresses, words)
                page.extend(ranked[max(0, start - position) : stop - position])
            position += len(addresses)
            if position >= stop:
                break
        return page

    def _python_order(self, addresses: Sequence[DocAddress], words: Sequence[WordMatches]) -> Addresses:
        """Addresses by full relevance key, then the sort, then index order."""
        sort_value = _sort_value(self.sort)
        worst = (MAX_TYPOS * len(words) + 1, 0, 0, 0)
        keyed = []
        for address in addresses:
            stored = self.searcher.doc(address)
            key = relevance_key(stored_words(stored), words) or worst
            keyed.append(((*key, sort_value(stored), *address_key(address)), address))
        keyed.sort(key=lambda pair: pair[0])
        return [address for _, address in keyed]


def _hits_through_tier(searcher: tantivy.Searcher, bucket: Query, words_in_play: int, stop: int) -> ScoredHits:
    """Hits by score, complete up to the typo tier of the `stop`-th hit."""
    limit = max(stop, 64)
    while True:
        hits = searcher.search(bucket, limit=limit, count=False).hits
        if len(hits) < limit:
            return hits
        boundary = typo_tier(hits[stop - 1][0], words_in_play)
        if typo_tier(hits[-1][0], words_in_play) > boundary:
            return hits
        limit *= 4


def _sort_value(sort: str) -> Callable[[tantivy.Document], int]:
    """Tie-break value for the sort (0 for relevance), smaller first."""
    if sort == "price_asc":
        return lambda stored: stored_int(stored, "price")
    if sort == "price_desc":
        return lambda stored: -stored_int(stored, "price")
    if sort == "newest":
        return lambda stored: -stored_int(stored, "created_at")
    return lambda stored: 0
