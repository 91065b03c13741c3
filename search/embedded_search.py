"""One search over a tantivy searcher: filters, exact total, ranked page, facets, hits.

The work is split between tantivy (Rust) and Python like this:

* Each query word is expanded in Python to the exact terms it matches, with typos
  (`search.fuzzy`, which applies Meilisearch's typo rules); tantivy gets exact term
  sets, never query syntax.
* Totals and facets are tantivy counts and aggregations over every match after filters.
* The page is ranked in Meilisearch's bucket order by `search.embedded_ranking`, which
  groups documents with tantivy queries and ranks only the groups on the page.
* Highlights are computed in Python for the page's hits only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tantivy
from tantivy import Query

from search.documents import Hit, SearchRequest, SearchResult
from search.embedded_queries import all_of, by_field, count, filter_query, word_query
from search.embedded_ranking import ranked_page
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
    """Run one (clamped) search request; `words` are the expanded query words."""
    filters = filter_query(schema, req)
    start, stop = req.offset, req.offset + req.limit
    if words:
        word_queries = [word_query(schema, matches) for matches in words]
        matched = all_of([filters, word_queries[0]])
        total = count(searcher, matched)
        page = ranked_page(searcher, schema, filters, words, word_queries, req.sort, start, stop, total)
    else:
        matched = filters
        total = count(searcher, matched)
        page = by_field(searcher, matched, req.sort, start, min(stop, total))
    terms = frozenset(term for matches in words for term in matches.typos)
    return SearchResult(
        hits=tuple(_hit(searcher.doc(address), terms) for address in page),
        total=total,
        facets=facets(searcher, matched, total) if req.facets else {},
        query_words=tuple(matches.word.text for matches in words),
    )


def facets(searcher: tantivy.Searcher, matched: Query, total: int) -> dict[str, dict[str, int]]:
    """Value counts of tags, stalls and states over every filtered match."""
    if total == 0:
        return {name: {} for name in FACET_NAMES}
    request = {name: {"terms": {"field": field, "size": MAX_FACET_VALUES}} for name, field in FACET_FIELDS.items()}
    result = searcher.aggregate(matched, request)
    return {name: {str(b["key"]): int(b["doc_count"]) for b in result[name]["buckets"]} for name in FACET_NAMES}


def _hit(stored: tantivy.Document, terms: frozenset[str]) -> Hit:
    document = stored_document(stored)
    return Hit(
        document=document,
        title_html=highlight(document.title, terms),
        description_html=crop_highlight(document.description, terms),
    )
