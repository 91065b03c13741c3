"""Hashtags: how vendors label items (#Vintage, #SocialCause, #MabelsHoney) and how visitors find them.

A tag is `#` followed by Unicode letters and digits (underscores allowed inside). Matching is
case- and width-insensitive (`#CaféLumière`, `#cafélumière` and `＃CAFÉLUMIÈRE` are one tag), but the
spelling the vendor typed first is kept for display, because `#LiveEvent` reads better than
`#liveevent`. A tag of digits only (`#12`) is a stall or lot number, not a hashtag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TAG_LENGTH = 50
SOCIAL_CAUSE_KEY = "socialcause"
SOCIAL_CAUSE_TAG = "#SocialCause"

# (?<![\w#]) keeps "a#b" and "##x" from producing tags; [^\W_] is "a letter or digit".
_TAG_RE = re.compile(r"(?<![\w#])[#＃]([^\W_][\w]*)")


def tag_key(tag: str) -> str:
    """The canonical form used for matching and indexing: no '#', NFKC, casefolded."""
    return unicodedata.normalize("NFKC", tag).lstrip("#").casefold()


def normalise_tag(text: str) -> str | None:
    """Turn user input ("SocialCause", "#socialcause ") into a display tag, or None if not a tag."""
    text = unicodedata.normalize("NFKC", text.strip())
    if not text.startswith("#"):
        text = "#" + text
    match = _TAG_RE.fullmatch(text)
    if match is None or match.group(1).isdigit() or len(match.group(1)) > MAX_TAG_LENGTH:
        return None
    return "#" + match.group(1)


def find_tags(text: str) -> list[str]:
    """Hashtags written inline in a title or description, in order, first spelling wins."""
    tags = [
        "#" + body
        for body in (unicodedata.normalize("NFKC", m.group(1)) for m in _TAG_RE.finditer(text))
        if not body.isdigit() and len(body) <= MAX_TAG_LENGTH
    ]
    return unique_tags(tags)


def unique_tags(tags: Iterable[str]) -> list[str]:
    """Drop repeats by canonical key, keeping the first spelling and the order."""
    seen: set[str] = set()
    result: list[str] = []
    for tag in tags:
        key = tag_key(tag)
        if key and key not in seen:
            seen.add(key)
            result.append(tag)
    return result
