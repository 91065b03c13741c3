"""What a format-2 full pull's gzipped bytes are made of: each part's contribution, measured as
how much smaller the gzipped pages get without it (so shared context is counted where it lies)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from typing import Any

from sync_bench.pulls import GZIP_LEVEL

Page = dict[str, Any]
Change = list[Any]


def _gzipped(pages: Sequence[Page]) -> int:
    return sum(
        len(gzip.compress(json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode(), GZIP_LEVEL)) for p in pages
    )


def _each_change(pages: Sequence[Page], change: Callable[[Change], Change | None]) -> list[Page]:
    return [{**p, "changes": [c for c in (change(list(x)) for x in p["changes"]) if c is not None]} for p in pages]


def _without_item_key(key: str) -> Callable[[Change], Change]:
    def cut(c: Change) -> Change:
        if c[0] == "item" and c[3]:
            c[3] = {k: v for k, v in c[3].items() if k != key}
        return c

    return cut


def _without_entity(entity: str) -> Callable[[Change], Change | None]:
    return lambda c: None if c[0] == entity else c


def contributions(bodies: Sequence[bytes]) -> tuple[int, list[tuple[str, int]]]:
    """The pages' gzipped total and [(part, bytes it adds)], largest first (an item key counts in
    whole records and in patches, `[entity, id, version, patch, base]`, alike)."""
    pages = [json.loads(b) for b in bodies]
    total = _gzipped(pages)
    keys = sorted({k for p in pages for c in p["changes"] if c[0] == "item" and c[3] for k in c[3]})
    variants: dict[str, list[Page]] = {f"item.{k}": _each_change(pages, _without_item_key(k)) for k in keys}
    variants["ids (every change)"] = _each_change(pages, lambda c: [c[0], "", *c[2:]])
    variants["versions"] = _each_change(pages, lambda c: [c[0], c[1], 0, *c[3:]])
    variants["photo tables"] = [{**p, "photos": []} for p in pages]
    for entity in sorted({c[0] for p in pages for c in p["changes"]} - {"item"}):
        variants[f"{entity} records"] = _each_change(pages, _without_entity(entity))
    parts = [(name, total - _gzipped(cut)) for name, cut in variants.items()]
    return total, sorted(parts, key=lambda part: -part[1])
