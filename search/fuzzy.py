"""Which indexed words a query word matches, and with how many typos.

This reproduces Meilisearch's derivation rules exactly, in Python, over the index's
vocabulary (a sorted word list), instead of relying on tantivy's fuzzy query:

* the budget is `allowed_typos(word)` (0 / 1 / 2 by length; the relaxed second pass
  allows one typo from 3 letters);
* a swap of two neighbouring letters is one typo (optimal string alignment distance);
* the last word is a prefix: a term matches when one of its prefixes is within budget;
* a typo on the first letter counts as two: terms starting with another letter are only
  accepted when the budget is two, at distance one, and they then count two typos.
  ("caturday" has a budget of one, so it never reaches "saturday".)

tantivy's FuzzyTermQuery cannot express the first-letter rule and does not say which
terms it matched, which the ranking needs; so the engine expands each word here and
queries tantivy with exact term sets.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from search.query import QueryWord, word_budget

FIRST_LETTER_TYPOS = 2


@dataclass(frozen=True)
class WordMatches:
    """The terms one query word matches: term -> typos, and the exact term if present."""

    word: QueryWord
    typos: dict[str, int]

    def exact(self, term: str) -> bool:
        """Whether `term` is the query word itself (no typo, not a longer prefix match)."""
        return term == self.word.text


class Vocabulary:
    """A sorted, de-duplicated word list with fast prefix slices. Immutable.

    Beside each word it keeps a bit mask of its letters (`letter_mask`), so that a typo
    scan can drop most candidates with one integer operation each (`typo_candidates`).
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._set = frozenset(words)
        self._words = sorted(self._set)
        self._masks = [prefix_masks(word) for word in self._words]
        self._first_letters = sorted({word[0] for word in self._words if word})

    def with_words(self, words: Iterable[str]) -> Vocabulary:
        """A vocabulary with `words` added (self when none is new): a merge, no re-sort."""
        new = sorted(set(words) - self._set)
        if not new:
            return self
        merged = Vocabulary(())
        pairs = list(
            heapq.merge(zip(self._words, self._masks, strict=True), ((word, prefix_masks(word)) for word in new))
        )
        merged._words = [word for word, _ in pairs]
        merged._masks = [mask for _, mask in pairs]
        merged._set = self._set.union(new)
        merged._first_letters = sorted({*self._first_letters, *(word[0] for word in new if word)})
        return merged

    def __contains__(self, word: object) -> bool:
        return word in self._set

    def __len__(self) -> int:
        return len(self._words)

    def _bounds(self, prefix: str) -> tuple[int, int]:
        start = bisect.bisect_left(self._words, prefix)
        return start, bisect.bisect_left(self._words, prefix + "\U0010ffff", lo=start)

    def with_prefix(self, prefix: str) -> Sequence[str]:
        """All words starting with `prefix` (a slice of the sorted list)."""
        start, end = self._bounds(prefix)
        return self._words[start:end]

    def typo_candidates(self, prefix: str, query: str, budget: int, *, as_prefix: bool) -> list[str]:
        """Words starting with `prefix` that may be within `budget` typos of `query`.

        Every distinct letter of the query that the compared part of a word lacks needs an
        edit of its own (see `typo_distance`), so words lacking more than `budget` of them
        are dropped here by their letter masks, before any alignment: most of a large
        vocabulary. As a prefix, only the word's first len(query) + budget letters are
        compared; as a whole word, its length must be within the budget too.
        """
        start, end = self._bounds(prefix)
        wanted = letter_mask(query)
        words, masks = self._words, self._masks
        if as_prefix:
            reach = len(query) + budget
            return [
                words[n]
                for n in range(start, end)
                if (wanted & ~masks[n][min(reach, len(masks[n])) - 1]).bit_count() <= budget
            ]
        low, high = len(query) - budget, len(query) + budget
        return [
            words[n]
            for n in range(start, end)
            if low <= len(words[n]) <= high and (wanted & ~masks[n][-1]).bit_count() <= budget
        ]

    @property
    def first_letters(self) -> Sequence[str]:
        """Every first character that some word starts with."""
        return self._first_letters


def prefix_masks(word: str) -> tuple[int, ...]:
    """The letter masks of the word's prefixes of 1, 2, ... len(word) characters."""
    masks = []
    mask = 0
    for ch in word:
        mask |= 1 << (ord(ch) & 63)
        masks.append(mask)
    return tuple(masks) or (0,)


def letter_mask(word: str) -> int:
    """A bit per letter of `word` (letters may share a bit: the bound stays safe, only weaker)."""
    mask = 0
    for ch in set(word):
        mask |= 1 << (ord(ch) & 63)
    return mask


def match_word(vocabulary: Vocabulary, word: QueryWord, within: Collection[str] | None = None) -> WordMatches:
    """Expand one query word into the vocabulary terms it matches, with their typos.

    `within` narrows the scan to known candidates: while a visitor types, the terms
    matching "vintag" are among those matching "vinta" (same budget, prefix), so the
    engine passes the previous keystroke's matches.
    """
    text = word.text
    budget = word_budget(word)
    if budget == 0:
        return WordMatches(word, _exact_or_prefix(vocabulary, word))
    candidates = _typo_candidates(vocabulary, word) if within is None else within
    found: dict[str, int] = {}
    for term in candidates:
        typos = term_typos(text, term, budget, word.prefix)
        if typos is not None:
            found[term] = typos
    return WordMatches(word, found)


def term_typos(query: str, term: str, budget: int, prefix: bool) -> int | None:
    """Typos of `term` for `query` under Meilisearch's rules, None if out of budget.

    A different first letter is only accepted with a budget of two, at distance one,
    and then counts two typos.
    """
    if term[:1] == query[:1]:
        return typo_distance(query, term, budget, prefix)
    if budget >= FIRST_LETTER_TYPOS and typo_distance(query, term, 1, prefix) is not None:
        return FIRST_LETTER_TYPOS
    return None


def _typo_candidates(vocabulary: Vocabulary, word: QueryWord) -> Iterable[str]:
    """Terms that may be within the budget: same first letter, or one edit on it."""
    same_first = vocabulary.typo_candidates(word.text[0], word.text, word_budget(word), as_prefix=word.prefix)
    if word_budget(word) < FIRST_LETTER_TYPOS:
        return same_first
    return [*same_first, *_first_letter_candidates(vocabulary, word)]


def _exact_or_prefix(vocabulary: Vocabulary, word: QueryWord) -> dict[str, int]:
    """Terms for a word allowed no typo: itself, or everything it is a prefix of."""
    if word.prefix:
        return dict.fromkeys(vocabulary.with_prefix(word.text), 0)
    return {word.text: 0} if word.text in vocabulary else {}


def _first_letter_candidates(vocabulary: Vocabulary, word: QueryWord) -> set[str]:
    """Terms within one edit of `word` where that edit touches the first letter.

    One edit at the first letter leaves only four shapes: the first letter deleted,
    replaced, preceded by another letter, or swapped with the second. Each shape is a
    prefix lookup, so no full scan of the vocabulary is needed.
    """
    text = word.text
    prefixes = {text[1:], text[1] + text[0] + text[2:]}
    for letter in vocabulary.first_letters:
        if letter != text[0]:
            prefixes.add(letter + text[1:])
            prefixes.add(letter + text)
    candidates: set[str] = set()
    for prefix in prefixes:
        if word.prefix:
            candidates.update(vocabulary.with_prefix(prefix))
        elif prefix in vocabulary:
            candidates.add(prefix)
    return {term for term in candidates if not term.startswith(text[0])}


def typo_distance(query: str, term: str, limit: int, prefix: bool) -> int | None:
    """Optimal-string-alignment distance from `query` to `term` (or to its best prefix).

    Returns None as soon as the distance is known to exceed `limit`. Before aligning, a
    cheap bound rules most terms out: every distinct letter of the query that the term
    (its compared part) lacks needs an edit of its own (a deletion or a substitution;
    a swap keeps the letters), so more such letters than `limit` is out of budget.
    """
    common = _common_prefix_length(query, term)
    query, term = query[common:], term[common:]
    if prefix:
        term = term[: len(query) + limit]
    elif abs(len(query) - len(term)) > limit:
        return None
    if len(set(query).difference(term)) > limit:
        return None
    if not query:
        return 0 if prefix else _within(len(term), limit)
    if not term:
        return _within(len(query), limit)
    last_row = _osa_last_row(query, term, limit)
    if last_row is None:
        return None
    distance = min(last_row) if prefix else last_row[-1]
    return _within(distance, limit)


def _common_prefix_length(a: str, b: str) -> int:
    """Length of the shared beginning of two strings (safe to drop before alignment)."""
    length = min(len(a), len(b))
    index = 0
    while index < length and a[index] == b[index]:
        index += 1
    return index


def _within(distance: int, limit: int) -> int | None:
    return distance if distance <= limit else None


def _osa_last_row(query: str, term: str, limit: int) -> list[int] | None:
    """Last row of the optimal string alignment table, or None once every cell > limit.

    Only the band |i - j| <= limit is computed: a cell outside it is at least |i - j| away,
    so it holds limit + 1 ("out"), as does any cell above that; within budget, every value
    is exact. For the 1-2 typos allowed that is 3-5 cells a row instead of the whole row,
    and the scans of typo expansion spend most of their time here.
    """
    out = limit + 1
    width = len(term)
    previous2: list[int] = []
    previous = [j if j <= limit else out for j in range(width + 1)]
    for i in range(1, len(query) + 1):
        current = [out] * (width + 1)
        if i <= limit:
            current[0] = i
        row_min = current[0]
        q_char = query[i - 1]
        q_before = query[i - 2] if i > 1 else ""
        for j in range(max(1, i - limit), min(width, i + limit) + 1):
            t_char = term[j - 1]
            best = previous[j - 1] + (q_char != t_char)
            if previous[j] + 1 < best:
                best = previous[j] + 1
            if current[j - 1] + 1 < best:
                best = current[j - 1] + 1
            if j > 1 and q_before == t_char and q_char == term[j - 2] and previous2[j - 2] + 1 < best:
                best = previous2[j - 2] + 1
            if best > out:
                best = out
            current[j] = best
            if best < row_min:
                row_min = best
        if row_min > limit:
            return None
        previous2, previous = previous, current
    return previous


VARIANT_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def one_typo_variants(word: str) -> list[str]:
    """Every word one typo from `word` that keeps its first letter, sorted.

    For an engine that cannot take a per-query typo rule (Meilisearch sets typo
    tolerance per index): it can count each variant's matches exactly instead. The
    letters tried are a-z, 0-9 and the word's own.
    """
    letters = sorted(set(VARIANT_LETTERS) | set(word))
    out: set[str] = set()
    for i in range(1, len(word) + 1):
        for letter in letters:
            out.add(word[:i] + letter + word[i:])  # one letter added
    for i in range(1, len(word)):
        out.add(word[:i] + word[i + 1 :])  # one letter dropped
        for letter in letters:
            out.add(word[:i] + letter + word[i + 1 :])  # one letter replaced
        if i + 1 < len(word):
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # two neighbours swapped
    out.discard(word)
    return sorted(variant for variant in out if variant)
