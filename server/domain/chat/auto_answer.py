"""The availability auto-answer: "is this still available?" about an item, answered at once
from the item's state, recognised in the languages the pattern below covers (Latin-script and Arabic)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_AVAILABLE_QUESTION = re.compile(
    r"\b(still\s+)?(available|for\s+sale|in\s+stock)\b|\bdisponible\b|\bverfügbar\b|متوفر|متاح",
    re.IGNORECASE,
)


def asks_if_available(body: str) -> bool:
    """ "Is this still available?" in its common forms (a question about an item)."""
    folded = unicodedata.normalize("NFKC", body).casefold()
    return len(folded) <= 120 and ("?" in folded or "؟" in folded) and bool(_AVAILABLE_QUESTION.search(folded))


def availability_answer(card: dict[str, Any]) -> str:
    title = card["title"]
    if card["state"] == "sold":
        return f"Sorry — {title} has been sold."
    if card["state"] == "reserved":
        return f"{title} is reserved for someone right now; the seller will reply to you."
    left = card["quantity"]
    return f"Yes — {title} is available ({left} left, {card['price_text']}). The seller will reply soon."
