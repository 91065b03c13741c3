"""Small input checks shared by the domain functions; each names the field it refuses."""

from __future__ import annotations

import re
import unicodedata

from server.domain.errors import Invalid
from server.domain.hashtags import normalise_tag
from server.domain.money import MAX_AMOUNT

# Characters that change how text around them is shown without being seen themselves: bidi
# embeddings, overrides and isolates (the "Trojan Source" trick: a price or a name that reads
# differently from what it is), zero-width spaces and joiners-that-are-not, invisible operators,
# interlinear annotations, the BOM, and the Hangul fillers used to make blank names.
_INVISIBLE_TRICKS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\ufff9\ufffa\ufffb"
    "\u115f\u1160\u3164\uffa0"
)
_TAG_BASE = "\U0001f3f4"  # 🏴: the flags of England, Scotland and Wales are tag sequences on it
_TAG_CHARS = range(0xE0020, 0xE007F)
_TAG_END = "\U000e007f"
_EMOJI_PLANE = range(0x1F000, 0x20000)  # emoji newer than Python's Unicode tables show as unassigned


def text(value: str, field: str, *, max_len: int, min_len: int = 0, multiline: bool = False) -> str:
    """Trimmed, NFC-normalised text as phone keyboards produce it, without hidden tricks.

    Allowed: emoji sequences (ZWJ families, skin tones, tag-sequence flags), ZWNJ and ZWJ in
    Persian, Arabic and Indic scripts, the LRM/RLM/ALM marks people use to fix mixed-direction
    text, newlines and tabs where the field is multiline. Refused: other control characters,
    bidi overrides and isolates, invisible spaces and fillers, and tag characters outside a flag.
    """
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text", field=field)
    value = unicodedata.normalize("NFC", value).strip()
    if bad := _first_refused(value, multiline):
        raise Invalid(f"{field} contains an invisible or control character (U+{ord(bad):04X})", field=field)
    if len(value) < min_len:
        raise Invalid(f"{field} must not be empty" if min_len == 1 else f"{field} is too short", field=field)
    if len(value) > max_len:
        raise Invalid(f"{field} is longer than {max_len} characters", field=field)
    return value


def _first_refused(value: str, multiline: bool) -> str | None:
    """The first character `text` refuses, or None; tag characters are judged as sequences."""
    may_tag = in_tags = False  # just after 🏴 / inside its tag sequence
    for ch in value:
        code = ord(ch)
        if code in _TAG_CHARS or ch == _TAG_END:
            if not (may_tag or in_tags) or (ch == _TAG_END and not in_tags):
                return ch
            may_tag, in_tags = False, ch != _TAG_END
            continue
        if in_tags:  # a flag's tag sequence must end with CANCEL TAG before anything else
            return _TAG_END
        may_tag = ch == _TAG_BASE
        if ch in _INVISIBLE_TRICKS:
            return ch
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch in "\n\t"):
            return ch
        if category == "Cs" or (category == "Cn" and code not in _EMOJI_PLANE):
            return ch
    return None


def amount(value: object, field: str, *, allow_zero: bool = False) -> int:
    """A money amount in minor units: a whole number, never a float or a string."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{field} must be a whole number of minor units (e.g. 450 for 4.50)", field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise Invalid(f"{field} must be {'0 or more' if allow_zero else 'more than 0'}", field=field)
    if value > MAX_AMOUNT:
        raise Invalid(f"{field} is too large", field=field)
    return value


def count(value: object, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{field} must be a whole number", field=field)
    if not low <= value <= high:
        raise Invalid(f"{field} must be between {low} and {high}", field=field)
    return value


def hashtag(value: str, field: str) -> str:
    tag = normalise_tag(value) if isinstance(value, str) else None
    if tag is None:
        raise Invalid(f"{field} must be a hashtag of letters and digits, like #MabelsHoney", field=field)
    return tag


_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])")


def slug(value: str, field: str = "slug") -> str:
    if not isinstance(value, str) or not _SLUG_RE.fullmatch(value):
        raise Invalid(f"{field} must be 3-64 lowercase letters, digits and dashes", field=field)
    return value
