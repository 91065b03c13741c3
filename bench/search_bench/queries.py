"""The query mix of bench_search.py, drawn from a corpus's own titles, tags, stalls and prices."""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

from search.documents import ItemDocument
from search.query import tokens

# Query kinds and their share of the mix.
SHARES = {"typed": 0.35, "word": 0.15, "typo": 0.20, "tag": 0.08, "price": 0.07, "state": 0.07, "stall": 0.08}
STATE_CHOICES = (("available", "reserved"), ("sold",), ("reserved",), ("available", "reserved", "sold"))


@dataclass(frozen=True)
class BenchQuery:
    """One visitor query: text and the filters the API takes (stalls by code)."""

    kind: str
    q: str = ""
    tags: tuple[str, ...] = ()
    stalls: tuple[str, ...] = ()
    states: tuple[str, ...] = ("available",)
    price_min: int | None = None
    price_max: int | None = None


class QueryMaker:
    """Realistic queries drawn from one corpus's titles, tags, stalls and prices."""

    def __init__(self, docs: Sequence[ItemDocument], seed: int) -> None:
        self.rng = random.Random(seed)
        # In content order: item ids and stall codes are random, the queries must not be.
        visible = sorted((d for d in docs if not d.hidden), key=lambda d: (d.title, d.description, d.price))
        self.titles = [words for d in visible if (words := [w for w in tokens(d.title) if w.isalpha()])]
        common = {key for key in {k for d in visible for k in d.tag_keys} if _share(visible, key) > 0.5}
        self.tags = [key for d in visible for key in d.tag_keys if key not in common]  # by frequency
        self.stalls = [code for _, code in sorted({(d.stall_name, d.stall_code) for d in visible})]
        self.prices = sorted(d.price for d in visible)

    def make(self, count: int) -> list[BenchQuery]:
        """`count` queries; a typed-as-you-go sequence stays in keystroke order."""
        targets = {kind: round(count * share) for kind, share in SHARES.items()}
        units: list[list[BenchQuery]] = []
        typed = 0
        while typed < targets["typed"]:
            words = self.rng.choice(self.titles)
            start = self.rng.randrange(len(words))
            phrase = " ".join(words[start : start + self.rng.choice((1, 1, 2))])
            sequence = [BenchQuery("typed", phrase[:end]) for end in range(1, len(phrase) + 1)]
            units.append(sequence[: targets["typed"] - typed])
            typed += len(units[-1])
        units += [[BenchQuery("word", self.word())] for _ in range(targets["word"])]
        units += [[BenchQuery("typo", self.two_words_with_typo())] for _ in range(targets["typo"])]
        units += [[self.tagged()] for _ in range(targets["tag"])]
        units += [[self.priced()] for _ in range(targets["price"])]
        units += [
            [BenchQuery("state", self.filter_text(), states=self.rng.choice(STATE_CHOICES))]
            for _ in range(targets["state"])
        ]
        units += [
            [BenchQuery("stall", self.filter_text(), stalls=(self.rng.choice(self.stalls),))]
            for _ in range(targets["stall"])
        ]
        self.rng.shuffle(units)
        queries = [query for unit in units for query in unit]
        while len(queries) < count:
            queries.append(BenchQuery("word", self.word()))
        return queries[:count]

    def word(self) -> str:
        return self.rng.choice(self.rng.choice(self.titles))

    def two_words_with_typo(self) -> str:
        while True:
            words = self.rng.choice(self.titles)
            if len(words) < 2:
                continue
            start = self.rng.randrange(len(words) - 1)
            pair = words[start : start + 2]
            long = [i for i, word in enumerate(pair) if len(word) >= 5]
            if long:
                i = self.rng.choice(long)
                pair[i] = with_typo(self.rng, pair[i])
                return " ".join(pair)

    def filter_text(self) -> str:
        """What goes with a filter: nothing (browsing), a word, or its first letters."""
        choice = self.rng.randrange(3)
        if choice == 0:
            return ""
        word = self.word()
        return word if choice == 1 else word[:3]

    def tagged(self) -> BenchQuery:
        tag = self.rng.choice(self.tags)
        if self.rng.random() < 0.5:
            return BenchQuery("tag", self.filter_text(), tags=(tag,))
        return BenchQuery("tag", f"#{tag}")

    def priced(self) -> BenchQuery:
        price = self.rng.choice(self.prices)
        shape = self.rng.randrange(3)
        low = None if shape == 0 else price // 2 // 100 * 100
        high = None if shape == 1 else price * 2 // 100 * 100 + 100
        return BenchQuery("price", self.filter_text(), price_min=low, price_max=high)


def _share(docs: Sequence[ItemDocument], key: str) -> float:
    return sum(key in d.tag_keys for d in docs) / max(1, len(docs))


def with_typo(rng: random.Random, word: str) -> str:
    """One edit away from `word` (5+ letters), never on the first letter: one typo."""
    i = rng.randrange(1, len(word))
    operation = rng.choice(("swap", "delete", "replace", "insert"))
    if operation == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if operation == "delete" and len(word) >= 6:
        return word[:i] + word[i + 1 :]
    if operation == "insert":
        return word[:i] + rng.choice(string.ascii_lowercase) + word[i:]
    return word[:i] + rng.choice([c for c in string.ascii_lowercase if c != word[i]]) + word[i + 1 :]


def describe_mix(queries: Sequence[BenchQuery]) -> str:
    counts = {kind: sum(q.kind == kind for q in queries) for kind in SHARES}
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
