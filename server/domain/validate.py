"""Small input checks shared by the domain functions; each names the field it refuses."""

from __future__ import annotations

import re
import unicodedata

from server.domain.errors import Invalid
from server.domain.hashtags import normalise_tag
from server.domain.money import MAX_AMOUNT

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def text(value: str, field: str, *, max_len: int, min_len: int = 0, multiline: bool = False) -> str:
    """Trimmed, NFC-normalised text without control characters (newlines allowed if multiline)."""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text", field=field)
    value = unicodedata.normalize("NFC", value).strip()
    allowed = {"\n", "\t"} if multiline else set()
    if any(unicodedata.category(ch) in _CONTROL and ch not in allowed and ch != "\u200d" for ch in value):
        raise Invalid(f"{field} contains control characters", field=field)
    if len(value) < min_len:
        raise Invalid(f"{field} must not be empty" if min_len == 1 else f"{field} is too short", field=field)
    if len(value) > max_len:
        raise Invalid(f"{field} is longer than {max_len} characters", field=field)
    return value


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
