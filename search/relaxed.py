"""The second pass: a search that never leaves a visitor at an empty page for a typo.

The strict pass follows Meilisearch's default typo budget, where words of 1-4 letters
allow no typo, so "hony" finds nothing although the market sells honey. When the strict
pass finds nothing and some word is 3-4 letters long, the engine is asked again with the
relaxed rule (`SearchRequest.relaxed`: one typo in words of 3-4 letters; the first letter
still has to be right). The answer then says it was relaxed and which word each typed word
was taken for, read from the best hit, so the app can say "Showing results for honey".

This runs above the engines, for every engine, and the offline search
(pwa/kit/search.js, `findItems`) applies the same rules over the phone's copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from search.documents import ItemDocument, SearchRequest, SearchResult
from search.engine import SearchEngine
from search.fuzzy import term_typos
from search.query import QueryWord, can_relax, query_words, tag_search_words, tokens, word_budget


@dataclass(frozen=True)
class Answer:
    """A search's result, and whether the relaxed pass gave it."""

    result: SearchResult
    relaxed: bool = False
    corrections: dict[str, str] = field(default_factory=dict)  # typed word -> the word found
    showing_for: str = ""  # the query with the corrections applied ("honey jar")


async def search_or_relax(engine: SearchEngine, req: SearchRequest, *, relax: bool = True) -> Answer:
    """The strict search; if it finds nothing and the words allow it, the relaxed one."""
    strict = await engine.search(req)
    if strict.total or not relax or not can_relax(query_words(req.q)):
        return Answer(strict)
    relaxed_req = replace(req, relaxed=True)
    loose = await engine.search(relaxed_req)
    if not loose.total:
        return Answer(strict)
    top = loose.hits[0].document if req.offset == 0 and loose.hits else None
    if top is None:  # a later page: the corrections come from the first hit all the same
        first = await engine.search(replace(relaxed_req, offset=0, limit=1, facets=False))
        top = first.hits[0].document if first.hits else None
    words = query_words(req.q, relaxed=True)
    fixes = corrections(words, top) if top is not None else {}
    return Answer(loose, True, fixes, " ".join(fixes.get(word.text, word.text) for word in words))


def corrections(words: Sequence[QueryWord], doc: ItemDocument) -> dict[str, str]:
    """For each word matched only through a typo, the word of `doc` it was taken for.

    The document's words are read in field order (title, hashtags, stall name,
    description); the first with the fewest typos wins, a whole word before a longer
    word the last typed word is a prefix of ("hony" is "honey", not "honeycomb"). A word
    matched without a typo (exactly, or as a prefix) is not corrected.
    """
    fields = document_words(doc)
    fixes: dict[str, str] = {}
    for word in words:
        budget = word_budget(word)
        best: tuple[int, bool, str] | None = None  # (typos, only as a prefix, term)
        for term in fields:
            whole = term_typos(word.text, term, budget, False)
            part = term_typos(word.text, term, budget, True) if word.prefix and whole is None else None
            typos = whole if whole is not None else part
            if typos is None:
                continue
            key = (typos, whole is None, term)
            if best is None or key[:2] < best[:2]:
                best = key
        if best is not None and best[0] > 0:
            fixes[word.text] = best[2]
    return fixes


def document_words(doc: ItemDocument) -> list[str]:
    """The searchable words of a document, in field rank order."""
    tags = [word for entry in tag_search_words(doc.hashtags, doc.tag_keys) for word in entry.split(" ")]
    return [*tokens(doc.title), *tags, *tokens(doc.stall_name), *tokens(doc.description)]
