"""HTML for hits: escaped text with matched words wrapped in <mark>, descriptions cropped.

Everything the seller typed is escaped before any markup is added, so a title such as
"<script>" reaches the page as text. Matching uses the same normalization as the index
(`search.query.matched_spans`), so "Café" is marked for the query "cafe".
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Container

from search.query import matched_spans

CROP_WORDS = 30
CROP_MARKER = "…"
MARK_OPEN = "<mark>"
MARK_CLOSE = "</mark>"

Span = tuple[int, int, bool]  # (start, end, matched)


def highlight(text: str, matched: Container[str]) -> str:
    """The whole text, escaped, with every matched word marked."""
    text = unicodedata.normalize("NFC", text)
    return _render(text, matched_spans(text, matched), 0, len(text))


def crop_highlight(text: str, matched: Container[str], words: int = CROP_WORDS) -> str:
    """About `words` words around the first match (or the start), escaped and marked.

    "…" shows where the text was cut. The window starts a few words before the first
    match so the visitor sees the match in context.
    """
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
