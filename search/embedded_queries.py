"""tantivy query building blocks and page fetching for the embedded engine.

Scores: each query word contributes a constant that encodes how it matched, best
first: BIG*(2 - typos) + MID*(3 - field rank) + exact. Summed over words these are
small integers (exact in tantivy's f32), and ordering by score is ordering by
(total typos, total field rank, exact words), which is Meilisearch's typo, attribute
and exactness rules; proximity is handled by grouping (see `search.embedded_ranking`).

Ties are always broken by index order (segment, document), which is what tantivy does
itself, so every ranking path agrees and pages never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import tantivy
from tantivy import DocAddress, FieldType, Occur, Order, Query

from search.documents import SearchRequest
from search.embedded_schema import (
    MAX_INDEXED_PREFIX,
    PAIR_FIELD,
    PAIR_JOINER,
    PREFIX_FIELDS,
    TEXT_FIELDS,
    pair_term,
)
from search.fuzzy import WordMatches
from search.query import word_budget

BIG = 1024  # one typo less outweighs any sum of the lower parts (at most 10 words)
MID = 16  # one field rank better outweighs the most exact words (10)
MAX_TYPOS = 2
MAX_PATTERN_TERMS = 150  # larger alternations exceed tantivy's regex automaton limit
# Up to this many terms, a union of term queries beats tantivy's TermSetQuery (see any_term).
MAX_TERM_UNION = 64
MAX_PAIR_TERMS = 1024  # larger products of two words' terms keep the phrase queries
REGEX_SPECIALS = frozenset("\\.+*?()|[]{}^$#&-~")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# sort name -> (fast field, order); relevance with no words shows the newest first
SORT_FIELDS: Mapping[str, tuple[str, Order]] = {
    "relevance": ("created_at", Order.Desc),
    "newest": ("created_at", Order.Desc),
    "price_asc": ("price", Order.Asc),
    "price_desc": ("price", Order.Desc),
}

Addresses = list[DocAddress]
ScoredHits = list[tuple[float, DocAddress]]
TermClass = tuple[int, int, bool]  # (typos, field rank, inexact): smaller is better
# (group query, start, stop, group size) -> the group's ordered slice [start, stop)
Take = Callable[[Query, int, int, int], Addresses]


def all_of(queries: Iterable[Query], none_of: Iterable[Query] = ()) -> Query:
    """Documents matching every query and none of `none_of` (scores add up)."""
    clauses = [(Occur.Must, query) for query in queries]
    clauses.extend((Occur.MustNot, query) for query in none_of)
    return Query.boolean_query(clauses)


def any_of(queries: Iterable[Query]) -> Query:
    """Documents matching at least one query."""
    return Query.boolean_query([(Occur.Should, query) for query in queries])


def any_term(schema: tantivy.Schema, field: str, values: Sequence[str]) -> Query:
    """Documents with one of the exact terms `values` in `field` (never parsed).

    tantivy's TermSetQuery intersects the field's whole term dictionary with an automaton
    in every segment: a fixed cost of tens of microseconds per field and segment, even for
    one term, and a search counts and ranks with dozens of such queries. A union of term
    queries only looks each term up: 3-4 times cheaper for the handful of terms most words
    expand to, even at 150-250 terms (measured on the demo market and on 100,000 items), so
    only larger sets (long typo lists) keep the TermSetQuery. Either way the query only
    restricts: its score is never used (see `restriction`).
    """
    if not values:
        return Query.empty_query()
    if len(values) == 1:
        return Query.term_query(schema, field, values[0], index_option="basic")
    if len(values) <= MAX_TERM_UNION:
        return any_of(Query.term_query(schema, field, value, index_option="basic") for value in values)
    return Query.term_set_query(schema, field, list(values))


def restriction(query: Query) -> Query:
    """The same documents, scoring nothing.

    Only word queries may score: a group is ordered by its score, so any query that
    merely restricts a group (filters, typo tiers, proximity, classes) must add 0.
    """
    return Query.const_score_query(query, 0.0)


def filter_query(schema: tantivy.Schema, req: SearchRequest) -> Query:
    """Event, moderation and visitor filters as one non-scoring query.

    Values are exact terms, never parsed. Empty `states`, `stall_ids` or `causes` mean
    no restriction; every tag in `tags` must be present; `causes` match any of them.
    """
    musts = [
        Query.term_query(schema, "event_id", req.event_id),
        Query.term_query(schema, "hidden", False),
    ]
    if req.states:
        musts.append(any_term(schema, "state", req.states))
    if req.stall_ids:
        musts.append(any_term(schema, "stall_id", req.stall_ids))
    musts.extend(Query.term_query(schema, "tag_keys", tag) for tag in req.tags)
    if req.causes:
        musts.append(any_term(schema, "causes", req.causes))
    musts.append(_price_query(schema, req.price_min, req.price_max))
    return restriction(all_of(musts))


def _price_query(schema: tantivy.Schema, low: int | None, high: int | None) -> Query:
    """Inclusive price range; out-of-range bounds (beyond i64) are handled, not passed."""
    if low is None and high is None:
        return Query.all_query()
    if (low is not None and low > INT64_MAX) or (high is not None and high < INT64_MIN):
        return Query.empty_query()
    low = None if low is None else max(low, INT64_MIN)
    high = None if high is None else min(high, INT64_MAX)
    if low is not None and high is not None and low > high:
        return Query.empty_query()
    return Query.range_query(schema, "price", FieldType.Integer, low, high)


def word_query(schema: tantivy.Schema, matches: WordMatches) -> Query:
    """A query matching the word anywhere, scoring its best match class."""
    parts = [
        Query.const_score_query(class_query, class_score(term_class))
        for term_class, class_query in term_class_queries(schema, matches)
    ]
    return Query.disjunction_max_query(parts) if parts else Query.empty_query()


def term_class_queries(schema: tantivy.Schema, matches: WordMatches) -> list[tuple[TermClass, Query]]:
    """One term-set query per (typos, field, inexact) class, best class first."""
    by_class: dict[tuple[int, bool], list[str]] = {}
    for term, typos in matches.typos.items():
        by_class.setdefault((typos, not matches.exact(term)), []).append(term)
    out = [
        ((typos, rank, inexact), terms_query(schema, field, matches, terms))
        for (typos, inexact), terms in by_class.items()
        for rank, field in enumerate(TEXT_FIELDS)
    ]
    return sorted(out, key=lambda pair: pair[0])


def terms_query(schema: tantivy.Schema, field: str, matches: WordMatches, terms: Sequence[str]) -> Query:
    """Documents with one of the word's `terms` in `field`.

    For a short last word ("le") every term starting with it is in `terms`, often
    hundreds: the indexed prefix is one term instead. It also matches the word itself,
    which is harmless because that exact match always ranks better and is either part
    of `terms` or excluded by the caller as a better class.
    """
    word = matches.word
    short = word.prefix and len(word.text) <= MAX_INDEXED_PREFIX
    if short and any(term != word.text for term in terms):
        return Query.term_query(schema, PREFIX_FIELDS[field], word.text)
    return any_term(schema, field, terms)


def class_score(term_class: TermClass) -> float:
    """The constant score of one match class (see the module docstring)."""
    typos, rank, inexact = term_class
    worst_rank = len(TEXT_FIELDS) - 1
    return float(BIG * (MAX_TYPOS - typos) + MID * (worst_rank - rank) + (not inexact))


def typo_tier(score: float, words_in_play: int) -> int:
    """Total typos of a document, read back from its score."""
    return MAX_TYPOS * words_in_play - int(score) // BIG


def best_typo_queries(schema: tantivy.Schema, matches: WordMatches) -> dict[int, Query]:
    """typos -> documents whose best match of the word has exactly that many typos."""
    by_typos: dict[int, list[str]] = {}
    for term, typos in matches.typos.items():
        by_typos.setdefault(typos, []).append(term)
    having = {
        typos: any_of(terms_query(schema, field, matches, terms) for field in TEXT_FIELDS)
        for typos, terms in sorted(by_typos.items())
    }
    return {
        typos: restriction(all_of([query], [having[fewer] for fewer in having if fewer < typos]))
        for typos, query in having.items()
    }


def near_query(schema: tantivy.Schema, first: WordMatches, second: WordMatches, cost: int) -> Query | None:
    """Documents where the two words are within proximity `cost` in one field.

    Proximity is the distance in words, plus one when the second word comes first:
    in order within `cost`, or reversed within `cost - 1`. tantivy's phrase slop
    charges a transposition two, so the in-order phrase with slop cost-1 and the
    reversed phrase with slop cost-2 together are exactly that set.

    None when a word has too many terms for a pattern, or when the words share a term
    and cost > 1: a sloppy phrase then also matches that one term alone. At cost 1 the
    words are looked up among the documents' adjacent pairs instead when they can be
    (`adjacent_query`): the same documents, found without reading positions.
    """
    a, b = term_pattern(first), term_pattern(second)
    if a is None or b is None:
        return None
    if cost > 1 and not first.typos.keys().isdisjoint(second.typos):
        return None
    adjacent = adjacent_query(schema, first, second) if cost == 1 else None
    if adjacent is not None:
        return restriction(adjacent)
    phrases = [Query.regex_phrase_query(schema, field, [a, b], slop=cost - 1) for field in TEXT_FIELDS]
    if cost >= 2:
        phrases += [Query.regex_phrase_query(schema, field, [b, a], slop=cost - 2) for field in TEXT_FIELDS]
    return restriction(any_of(phrases))


def adjacent_query(schema: tantivy.Schema, first: WordMatches, second: WordMatches) -> Query | None:
    """Documents where a term of `second` directly follows a term of `first` in one field.

    The same documents as the phrase queries of `near_query` at cost 1, found among the
    documents' adjacent pairs (`embedded_schema.pair_terms`). A phrase query over a pattern
    reads the positions of every term the pattern matches, in every field: for a word being
    typed ("seasonal c") that is hundreds of terms and most of the descriptions' positions,
    which made these the slowest searches at 100,000 items. Here a word being typed is, for
    each term of the first word, one range of the pair terms ("seasonal_c.*": pairs sort by
    first word), and a finished word is its exact pair terms; either reads only the postings
    of pairs that exist. None when the words have too many terms for that to pay.
    """
    if not first.typos or len(first.typos) > MAX_PATTERN_TERMS:
        return None
    word = second.word
    if word.prefix and word_budget(word) == 0:  # every term starting with the word, as in `term_pattern`
        typed = PAIR_JOINER + _regex_escape(word.text) + ".*"
        ranges = [Query.regex_query(schema, PAIR_FIELD, _regex_escape(term) + typed) for term in sorted(first.typos)]
        return ranges[0] if len(ranges) == 1 else any_of(ranges)
    if len(first.typos) * len(second.typos) > MAX_PAIR_TERMS:
        return None
    return any_term(schema, PAIR_FIELD, [pair_term(a, b) for a in sorted(first.typos) for b in sorted(second.typos)])


def term_pattern(matches: WordMatches) -> str | None:
    """A regex matching exactly the word's terms, or None if it would be too large."""
    word = matches.word
    if word.prefix and word_budget(word) == 0:
        return _regex_escape(word.text) + ".*"
    if not matches.typos or len(matches.typos) > MAX_PATTERN_TERMS:
        return None
    return "(?:" + "|".join(_regex_escape(term) for term in sorted(matches.typos)) + ")"


def _regex_escape(text: str) -> str:
    return "".join("\\" + ch if ch in REGEX_SPECIALS else ch for ch in text)


def count(searcher: tantivy.Searcher, query: Query) -> int:
    """Exact number of documents matching `query`."""
    # `count` exists at runtime but is missing from tantivy's type stubs
    result: Any = searcher.search(query, limit=1, count=True)
    return int(result.count)


def walk(searcher: tantivy.Searcher, groups: Iterator[tuple[Query, Take]], start: int, stop: int) -> Addresses:
    """Slice [start, stop) of the concatenation of disjoint, ordered groups.

    Groups are counted one by one (lazily built, so later ones cost nothing once the
    page is full) and only those overlapping the slice are ranked, by their `take`.
    """
    page: Addresses = []
    position = 0
    for query, take in groups:
        if position >= stop:
            break
        size = count(searcher, query)
        if size and position + size > start:
            first = max(0, start - position)
            page.extend(take(query, first, min(size, stop - position), size))
        position += size
    return page


def by_score(searcher: tantivy.Searcher, query: Query, start: int, stop: int) -> Addresses:
    """Slice of `query` by score, then index order."""
    result = searcher.search(query, limit=stop - start, count=False, offset=start)
    return [address for _, address in result.hits]


def by_field(searcher: tantivy.Searcher, query: Query, sort: str, start: int, stop: int) -> Addresses:
    """Slice of `query` by the sort's fast field, then index order (scores ignored)."""
    if stop <= start:
        return []
    field, order = SORT_FIELDS[sort]
    result = searcher.search(query, limit=stop - start, count=False, order_by_field=field, offset=start, order=order)
    return [address for _, address in result.hits]


def by_score_counted(
    searcher: tantivy.Searcher, query: Query, start: int, stop: int, known: int | None
) -> tuple[Addresses, int]:
    """Slice of `query` by score and the number of matches, in one pass (`known`: no count)."""
    result: Any = searcher.search(query, limit=max(stop - start, 1), count=known is None, offset=start)
    return [address for _, address in result.hits][: stop - start], _total(result, known)


def count_and_page(searcher: tantivy.Searcher, query: Query, start: int, stop: int) -> tuple[int, Addresses]:
    """The number of matches of `query` and its slice [start, stop) by score, in one pass."""
    addresses, total = by_score_counted(searcher, query, start, stop, None)
    return total, addresses


def by_field_counted(
    searcher: tantivy.Searcher, query: Query, sort: str, start: int, stop: int, known: int | None
) -> tuple[Addresses, int]:
    """Slice of `query` by the sort's fast field and the number of matches, in one pass."""
    field, order = SORT_FIELDS[sort]
    result: Any = searcher.search(
        query,
        limit=max(stop - start, 1),
        count=known is None,
        order_by_field=field,
        offset=start,
        order=order,
    )
    return [address for _, address in result.hits][: stop - start], _total(result, known)


def _total(result: Any, known: int | None) -> int:
    # `count` exists at runtime but is missing from tantivy's type stubs
    return int(result.count) if known is None else known


def by_score_then_field(searcher: tantivy.Searcher, query: Query, sort: str, start: int, stop: int) -> Addresses:
    """Slice of `query` by score, then the sort's fast field, then index order."""
    hits = hits_through_score(searcher, query, stop)
    return [address for _, address in order_by_score_then_field(searcher, hits, sort)][start:stop]


def hits_through_score(searcher: tantivy.Searcher, query: Query, stop: int) -> ScoredHits:
    """Hits by score, complete up to every hit scoring like the `stop`-th one."""
    limit = stop
    while True:
        hits = searcher.search(query, limit=limit, count=False).hits
        if len(hits) < limit or hits[-1][0] < hits[stop - 1][0]:
            return hits
        limit *= 4


def order_by_score_then_field(searcher: tantivy.Searcher, hits: ScoredHits, sort: str) -> ScoredHits:
    """Hits ordered by score, then the sort's fast field, then index order."""
    field, order = SORT_FIELDS[sort]
    values = searcher.fast_field_values(field, [address for _, address in hits])
    sign = 1 if order == Order.Asc else -1
    keyed = [
        ((-score, sign * int(value or 0), address_key(address)), (score, address))
        for (score, address), value in zip(hits, values, strict=True)
    ]
    keyed.sort(key=lambda pair: pair[0])
    return [hit for _, hit in keyed]


def address_key(address: DocAddress) -> tuple[int, int]:
    """Index order, the tie-break tantivy itself uses."""
    return address.segment_ord, address.doc
