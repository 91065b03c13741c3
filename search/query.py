"""Turning raw user text into plain, normalized words.

Visitors type on phones: quotes, stars, dashes, emoji, pasted paragraphs. None of it is
ever handed to an engine as query syntax. Text is cut into Unicode words (runs of
letters and digits), each word is NFKC-normalized, casefolded and stripped of accents,
so "Café", "CAFE" and "cafe" are the same word on both the index and the query side.
The same functions tokenize documents, which is what makes matching consistent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_QUERY_WORDS = 10  # Meilisearch ignores words after the tenth
MAX_WORD_CHARS = 64  # longer "words" (pasted hashes, URLs) are cut; nothing real is longer

_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_ASCII_SPAN = re.compile(r"[A-Za-z0-9]+")
_HASH_SIGNS = frozenset("#")  # NFKC already maps fullwidth/small number signs to '#'


@dataclass(frozen=True)
class QueryWord:
    """One searched word: normalized text, typed as `#word`, and matched as a prefix.

    Only the last word of a query is a prefix, and only when nothing follows it
    (a trailing space means the visitor finished the word), as in Meilisearch.
    """

    text: str
    hashtag: bool = False
    prefix: bool = False
    relaxed: bool = False  # the second pass's budget (see `allowed_typos`)


RELAXED_ONE_TYPO = 3  # the second pass allows one typo from 3 letters ("hony" finds "honey")


def allowed_typos(word: str, relaxed: bool = False) -> int:
    """Meilisearch's default typo budget: 1-4 characters none, 5-8 one, 9 or more two.

    `relaxed` is the second pass, run only when the strict one finds nothing: words of
    3-4 characters then allow one typo too (the first letter still has to be right).
    """
    length = len(word)
    if relaxed and RELAXED_ONE_TYPO <= length <= 4:
        return 1
    if length <= 4:
        return 0
    if length <= 8:
        return 1
    return 2


@lru_cache(maxsize=65536)
def normalize_word(raw: str) -> tuple[str, ...]:
    """Normalize one raw word into zero or more index words.

    NFKC and casefolding can turn one word into several ("½" becomes "1", "2"), so the
    result is re-split; each piece is cut to MAX_WORD_CHARS.
    """
    folded = unicodedata.normalize("NFKC", raw).casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        folded = unicodedata.normalize("NFC", stripped)
    return tuple(part[:MAX_WORD_CHARS] for part in _WORD.findall(folded))


def tokens(text: str) -> list[str]:
    """All normalized words of a text, in order (the index-side tokenizer)."""
    if text.isascii():
        return [word[:MAX_WORD_CHARS] for word in _ASCII_WORD.findall(text.lower())]
    out: list[str] = []
    for raw in _WORD.findall(unicodedata.normalize("NFC", text)):
        out.extend(normalize_word(raw))
    return out


def word_spans(text: str) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """(start, end, normalized words) for each word of `text`, offsets into `text`.

    Used for highlighting, where the original spelling must be kept; the words yielded
    are the same as `tokens(text)` gives for NFC text.
    """
    if text.isascii():
        for match in _ASCII_SPAN.finditer(text):
            yield match.start(), match.end(), (match.group().lower()[:MAX_WORD_CHARS],)
        return
    for match in _WORD.finditer(text):
        yield match.start(), match.end(), normalize_word(match.group())


def matched_spans(text: str, matched: Container[str]) -> list[tuple[int, int, bool]]:
    """(start, end, whether one of its normalized words is in `matched`) per word of `text`.

    The words of `word_spans`, checked in one pass: highlighting runs this over every
    hit's title and description, and ASCII text (nearly all of it) needs no per-word
    normalization, only lower-casing, which keeps the offsets.
    """
    if text.isascii():
        return [(m.start(), m.end(), m.group()[:MAX_WORD_CHARS] in matched) for m in _ASCII_WORD.finditer(text.lower())]
    return [(start, end, any(word in matched for word in words)) for start, end, words in word_spans(text)]


def word_budget(word: QueryWord) -> int:
    """The typo budget of one query word, under its pass's rule."""
    return allowed_typos(word.text, word.relaxed)


def can_relax(words: Sequence[QueryWord]) -> bool:
    """Whether the relaxed pass would allow more typos than the strict one for some word."""
    return any(allowed_typos(word.text, True) > allowed_typos(word.text) for word in words)


def query_words(raw: str, relaxed: bool = False) -> tuple[QueryWord, ...]:
    """The words to search for in a raw query: at most ten, plain text only."""
    text = unicodedata.normalize("NFKC", raw)
    words: list[QueryWord] = []
    last_end = 0
    for match in _WORD.finditer(text):
        hashtag = match.start() > 0 and text[match.start() - 1] in _HASH_SIGNS
        for part in normalize_word(match.group()):
            words.append(QueryWord(part, hashtag=hashtag, relaxed=relaxed))
            last_end = match.end()
            if len(words) == MAX_QUERY_WORDS:
                break
        if len(words) == MAX_QUERY_WORDS:
            break
    if words and last_end == len(text):
        last = words[-1]
        words[-1] = QueryWord(last.text, hashtag=last.hashtag, prefix=True, relaxed=relaxed)
    return tuple(words)


@lru_cache(maxsize=4096)
def _tag_entry(tag: str) -> tuple[str, str]:
    """(the tag as one word, its searchable text); tags repeat, so this is cached."""
    whole = "".join(tokens(tag))
    parts = [word for part in camel_parts(tag) for word in tokens(part)]
    words = [whole, *parts] if len(parts) > 1 else [whole]
    return whole, " ".join(words)


def tag_key(tag: str) -> str:
    """Canonical key of a hashtag: no '#', NFKC, casefolded ("#MabelsHoney" -> "mabelshoney")."""
    return unicodedata.normalize("NFKC", tag).lstrip("#").strip().casefold()


def camel_parts(tag: str) -> list[str]:
    """Split a camel-case hashtag into its words: "#LiveEvent" -> ["Live", "Event"].

    Boundaries are lower-to-upper, letter-to-digit and the end of an upper-case run
    ("HTMLParser" -> "HTML", "Parser"); other characters separate too.
    """
    parts: list[str] = []
    current = ""
    for index, ch in enumerate(tag):
        if not ch.isalnum():
            parts.append(current)
            current = ""
            continue
        if current and _starts_new_part(current[-1], ch, tag[index + 1 : index + 2]):
            parts.append(current)
            current = ""
        current += ch
    parts.append(current)
    return [part for part in parts if part]


def _starts_new_part(prev: str, ch: str, following: str) -> bool:
    """Whether `ch` begins a new camel-case word after `prev`."""
    if prev.isdigit() != ch.isdigit():
        return True
    if prev.islower() and ch.isupper():
        return True
    return prev.isupper() and ch.isupper() and following.islower()


def tag_search_words(hashtags: Sequence[str], tag_keys: Sequence[str]) -> tuple[str, ...]:
    """Searchable text per tag: the whole tag as one word, then its camel-case words.

    "#LiveEvent" gives "liveevent live event", so "liveevent", "#LiveEvent" and
    "live event" all find it. Keys without a display spelling are added as they are.
    """
    entries: list[str] = []
    seen: set[str] = set()
    for tag in hashtags:
        whole, entry = _tag_entry(tag)
        if whole and whole not in seen:
            seen.add(whole)
            entries.append(entry)
    for key in tag_keys:
        whole = "".join(tokens(key))
        if whole and whole not in seen:
            seen.add(whole)
            entries.append(whole)
    return tuple(entries)
