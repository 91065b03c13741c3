"""HTML for hits: escaped text with matched words wrapped in <mark>, descriptions cropped.

Everything the seller typed is escaped before any markup is added, so a title such as
"<script>" reaches the page as text. Matching uses the same normalization as the index
(`search.query.matched_spans`), so "Café" is marked for the query "cafe".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Container

from search.query import MAX_WORD_CHARS, matched_spans

CROP_WORDS = 30
CROP_MARKER = "…"
MARK_OPEN = "<mark>"
MARK_CLOSE = "</mark>"

Span = tuple[int, int, bool]  # (start, end, matched)
# ASCII text (nearly all of it) is split into separators and words in one C call; words of
# letters and digits never need escaping, and most separators (spaces) do not either.
_ASCII_SPLIT = re.compile(r"([A-Za-z0-9]+)")
_NEEDS_ESCAPE = re.compile("[&<>\"']")


def highlight(text: str, matched: Container[str]) -> str:
    """The whole text, escaped, with every matched word marked."""
    if text.isascii():
        return "".join(_ascii_marked(text, matched)[0])
    text = unicodedata.normalize("NFC", text)
    return _render(text, matched_spans(text, matched), 0, len(text))


def crop_highlight(text: str, matched: Container[str], words: int = CROP_WORDS) -> str:
    """About `words` words around the first match (or the start), escaped and marked.

    "…" shows where the text was cut. The window starts a few words before the first
    match so the visitor sees the match in context.
    """
    if text.isascii():
        return _ascii_crop(text, matched, words)
    text = unicodedata.normalize("NFC", text)
    spans = matched_spans(text, matched)
    if len(spans) <= words:
        return _render(text, spans, 0, len(text))
    first = next((index for index, span in enumerate(spans) if span[2]), 0)
    start_word = max(0, min(first - words // 3, len(spans) - words))
    end_word = start_word + words
    begin = spans[start_word][0] if start_word > 0 else 0
    finish = spans[end_word - 1][1] if end_word < len(spans) else len(text)
    body = _render(text, spans[start_word:end_word], begin, finish)
    prefix = CROP_MARKER if start_word > 0 else ""
    suffix = CROP_MARKER if end_word < len(spans) else ""
    return f"{prefix}{body}{suffix}"


def _render(text: str, spans: list[Span], begin: int, finish: int) -> str:
    """Escape text[begin:finish], wrapping the matched spans in <mark>."""
    parts: list[str] = []
    cursor = begin
    for start, end, is_match in spans:
        if not is_match:
            continue
        parts.append(html.escape(text[cursor:start]))
        parts.append(f"{MARK_OPEN}{html.escape(text[start:end])}{MARK_CLOSE}")
        cursor = end
    parts.append(html.escape(text[cursor:finish]))
    return "".join(parts)


def _ascii_marked(text: str, matched: Container[str]) -> tuple[list[str], list[bool]]:
    """ASCII text as escaped separators (even indexes) and words (odd), matched words marked.

    The same output as `_render` over `matched_spans`, without building spans: a hit's
    title and description go through here on every search.
    """
    parts = _ASCII_SPLIT.split(text)
    if _NEEDS_ESCAPE.search(text):
        parts[0::2] = [html.escape(part) for part in parts[0::2]]
    flags = [part.lower()[:MAX_WORD_CHARS] in matched for part in parts[1::2]]
    for word, is_match in enumerate(flags):
        if is_match:
            parts[2 * word + 1] = f"{MARK_OPEN}{parts[2 * word + 1]}{MARK_CLOSE}"
    return parts, flags


def _ascii_crop(text: str, matched: Container[str], words: int) -> str:
    """`crop_highlight` for ASCII text: the same window, cut between the split parts."""
    parts, flags = _ascii_marked(text, matched)
    count = len(flags)
    if count <= words:
        return "".join(parts)
    first = flags.index(True) if True in flags else 0
    start_word = max(0, min(first - words // 3, count - words))
    end_word = start_word + words
    low = 2 * start_word + 1 if start_word > 0 else 0  # from the first word, or the very start
    high = 2 * end_word if end_word < count else len(parts)  # through the last word, or the end
    prefix = CROP_MARKER if start_word > 0 else ""
    suffix = CROP_MARKER if end_word < count else ""
    return f"{prefix}{''.join(parts[low:high])}{suffix}"
