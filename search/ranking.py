"""Meilisearch's relevance buckets, computed for one document in Python.

Order of the rules (all "lower is better" here):

1. words: handled by the caller, which ranks documents bucket by bucket (documents
   matching the first k query words, for k from all of them down to one; the
   "last" matching strategy);
2. typo: total typos over the words in play (each word's best occurrence);
3. proximity: for each pair of consecutive query words, the distance between their
   closest occurrences in the same field (1 = adjacent in order, a reversed pair costs
   one more), 8 when they are further than 7 apart or in different fields;
4. attribute: sum over words of the rank of the best field they matched in
   (title 0, hashtags 1, stall name 2, description 3);
5. exactness: more words matched exactly (not through a typo or as a longer prefix).

The requested sort and then the document id break the remaining ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

from search.fuzzy import WordMatches

FAR = 8  # proximity cost of a pair that is not close
MAX_CLOSE = 7

Occurrence = tuple[int, int]  # (field rank, position within the field)


class RelevanceKey(NamedTuple):
    """A document's place in the relevance order; compare as a tuple, smaller first."""

    typos: int
    proximity: int
    attribute: int
    inexact: int


class DocumentWords(NamedTuple):
    """The searchable words of one document: one word list per field, in rank order.

    Values of a multi-valued field (hashtags) are separated by filler words, so that
    words of different values are never close.
    """

    fields: tuple[list[str], ...]


def relevance_key(doc: DocumentWords, words: Sequence[WordMatches]) -> RelevanceKey | None:
    """The bucket key of `doc` for the words in play, or None if one of them is missing."""
    typos = attribute = inexact = 0
    occurrences: list[list[Occurrence]] = []
    for matches in words:
        found = _occurrences(doc, matches)
        if not found:
            return None
        best_typos, best_field, best_inexact = min(
            (matches.typos[term], field, not matches.exact(term)) for field, _, term in found
        )
        typos += best_typos
        attribute += best_field
        inexact += best_inexact
        occurrences.append([(field, position) for field, position, _ in found])
    proximity = sum(_pair_cost(first, second) for first, second in pairwise(occurrences))
    return RelevanceKey(typos, proximity, attribute, inexact)


def _occurrences(doc: DocumentWords, matches: WordMatches) -> list[tuple[int, int, str]]:
    """(field, position, term) of every document word the query word matches."""
    typos = matches.typos
    return [
        (field, position, term)
        for field, words in enumerate(doc.fields)
        for position, term in enumerate(words)
        if term in typos
    ]


def _pair_cost(first: Sequence[Occurrence], second: Sequence[Occurrence]) -> int:
    """Smallest distance from an occurrence of one word to one of the next word."""
    best = FAR
    for field_a, pos_a in first:
        for field_b, pos_b in second:
            if field_a != field_b or pos_a == pos_b:
                continue
            distance = pos_b - pos_a if pos_b > pos_a else pos_a - pos_b + 1
            if distance < best:
                best = distance
    return best if best <= MAX_CLOSE else FAR
