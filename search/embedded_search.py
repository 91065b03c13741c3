"""One search over a tantivy searcher: filters, exact total, ranked page, facets, hits.

The work is split between tantivy (Rust) and Python like this:

* Each query word is expanded in Python to the exact terms it matches, with typos
  (`search.fuzzy`, which applies Meilisearch's typo rules); tantivy gets exact term
  sets, never query syntax.
* Totals and facets are tantivy counts and aggregations over every match after filters;
  facets only when the request asks for them, and no pass over all matches is made twice.
* The page is ranked in Meilisearch's bucket order by `search.embedded_ranking`, which
  groups documents with tantivy queries and ranks only the groups on the page. Two words
  by relevance (a typo'd query, or the second word being typed) first try one pass that
  counts the total and ranks the adjacent documents of the best typo tier first
  (`closest_page`): the usual page, found without the bucket and tier counts.
* Highlights are computed in Python for the page's hits only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tantivy
from tantivy import Query

from search.documents import Hit, SearchRequest, SearchResult
from search.embedded_queries import (
    all_of,
    by_field_counted,
    by_score_counted,
    count,
    filter_query,
    word_query,
)
from search.embedded_ranking import closest_page, ranked_page
from search.embedded_schema import stored_document
from search.engine import FACET_NAMES, MAX_FACET_VALUES
from search.fuzzy import WordMatches
from search.highlight import crop_highlight, highlight

FACET_FIELDS: Mapping[str, str] = {"tags": "tag_keys", "stalls": "stall_id", "state": "state"}


def execute(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    words: Sequence[WordMatches],
    req: SearchRequest,
) -> SearchResult:
    """Run one (clamped) search request; `words` are the expanded query words.

    Every pass over all matches counts at 100,000 items, so none is made twice: with facets
    the total is their state counts (every document has one state); a search whose page is
    plain tantivy order (one word by relevance, or no words) gets its total from the same
    pass that fetches the page. Only the page's documents are read, decoded and highlighted.
    """
    filters = filter_query(schema, req)
    start, stop = req.offset, req.offset + req.limit
    word_queries = [word_query(schema, matches) for matches in words]
    matched = all_of([filters, word_queries[0]]) if words else filters
    counts = facets(searcher, matched) if req.facets else {}
    known = sum(counts["state"].values()) if counts else None
    if not words:
        page, total = by_field_counted(searcher, matched, req.sort, start, stop, known)
    elif len(words) == 1 and req.sort == "relevance":
        page, total = by_score_counted(searcher, matched, start, stop, known)
    elif len(words) == 2 and req.sort == "relevance":
        closest, total = closest_page(searcher, schema, filters, words, word_queries, start, stop, known)
        if closest is None:
            closest = ranked_page(searcher, schema, filters, words, word_queries, req.sort, start, stop, total)
        page = closest
    else:
        total = count(searcher, matched) if known is None else known
        page = ranked_page(searcher, schema, filters, words, word_queries, req.sort, start, stop, total)
    terms = frozenset(term for matches in words for term in matches.typos)
    return SearchResult(
        hits=tuple(_hit(searcher.doc(address), terms) for address in page),
        total=total,
        facets=counts,
        query_words=tuple(matches.word.text for matches in words),
    )


def facets(searcher: tantivy.Searcher, matched: Query) -> dict[str, dict[str, int]]:
    """Value counts of tags, stalls and states over every filtered match."""
    request = {name: {"terms": {"field": field, "size": MAX_FACET_VALUES}} for name, field in FACET_FIELDS.items()}
    result = searcher.aggregate(matched, request)
    return {
        name: {str(b["key"]): int(b["doc_count"]) for b in result.get(name, {}).get("buckets", [])}
        for name in FACET_NAMES
    }


def _hit(stored: tantivy.Document, terms: frozenset[str]) -> Hit:
    document = stored_document(stored)
    return Hit(
        document=document,
        title_html=highlight(document.title, terms),
        description_html=crop_highlight(document.description, terms),
    )
