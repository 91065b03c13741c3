"""Which language a page is written for: the reader's, from their browser's Accept-Language.

The stall page a QR code opens is read before any of the app has loaded, so the server writes
its prices the way the phone's own Intl would ("£4.50", "4,50 €"): both come from CLDR (Babel
here, ICU in the browser), so the app's later drawing of the same stall does not change them.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

DEFAULT = "en"
_MAX_TAGS = 12  # a header is the browser's short list; more is noise (or an attack on our CPU)


def reader_locale(accept_language: str | None) -> Locale:
    """The most preferred language of the header that CLDR knows, else English."""
    return _negotiated((accept_language or "")[:512])


@lru_cache(maxsize=256)
def _negotiated(header: str) -> Locale:
    for tag in _by_preference(header):
        try:
            return Locale.parse(tag, sep="-")
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    return Locale.parse(DEFAULT)


def _by_preference(header: str) -> list[str]:
    """The header's language tags, most wanted first ("de-CH, de;q=0.9, *;q=0.5" -> de-CH, de)."""
    weighted: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")[:_MAX_TAGS]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0 and tag.replace("-", "").isalnum():
            weighted.append((-weight, order, tag))
    return [tag for _, _, tag in sorted(weighted)]
