"""The SQLite FTS5 baseline of bench_search.py: bm25-ranked top 20 with the filters in SQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from search.query import query_words
from search_bench.corpus import Corpus
from search_bench.paths import PAGE
from search_bench.queries import BenchQuery


def fts5_match(raw: str) -> str | None:
    """Safe FTS5 MATCH text: every word quoted, `"` doubled, `*` after a last prefix word."""
    words = query_words(raw)
    if not words:
        return None
    quoted = ['"' + word.text.replace('"', '""') + '"' for word in words]
    if words[-1].prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def bench_fts5(corpus: Corpus, queries: Sequence[BenchQuery]) -> tuple[float, list[float]]:
    """Build time and latencies of bm25-ranked top-20 FTS5 queries with the filters in SQL."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE items USING fts5(title, hashtags, stall_name, description, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TABLE meta (id INTEGER PRIMARY KEY, event_id TEXT, stall_id TEXT, state TEXT, "
        "price INTEGER, created_at INTEGER, hidden INTEGER)"
    )
    db.execute("CREATE TABLE tags (id INTEGER, tag TEXT)")
    started = time.perf_counter()
    db.executemany(
        "INSERT INTO items (rowid, title, hashtags, stall_name, description) VALUES (?, ?, ?, ?, ?)",
        ((n, d.title, " ".join(d.tag_keys), d.stall_name, d.description) for n, d in enumerate(corpus.docs)),
    )
    db.executemany(
        "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((n, d.event_id, d.stall_id, d.state, d.price, d.created_at, d.hidden) for n, d in enumerate(corpus.docs)),
    )
    db.executemany("INSERT INTO tags VALUES (?, ?)", ((n, t) for n, d in enumerate(corpus.docs) for t in d.tag_keys))
    db.execute("CREATE INDEX tags_by_tag ON tags (tag, id)")
    db.commit()
    build = time.perf_counter() - started
    latencies = []
    for query in queries:
        t0 = time.perf_counter()
        match = fts5_match(query.q)
        where = ["m.event_id = ?", "m.hidden = 0", f"m.state IN ({', '.join('?' * len(query.states))})"]
        args: list[Any] = [corpus.event_id, *query.states]
        if query.stalls:
            where.append("m.stall_id = ?")
            args.append(corpus.stall_ids[query.stalls[0]])
        for tag in query.tags:
            where.append("m.id IN (SELECT id FROM tags WHERE tag = ?)")
            args.append(tag)
        if query.price_min is not None:
            where.append("m.price >= ?")
            args.append(query.price_min)
        if query.price_max is not None:
            where.append("m.price <= ?")
            args.append(query.price_max)
        if match is None:
            sql = f"SELECT m.id FROM meta m WHERE {' AND '.join(where)} ORDER BY m.created_at DESC LIMIT {PAGE}"
        else:
            sql = (
                f"SELECT m.id FROM items JOIN meta m ON m.id = items.rowid WHERE items MATCH ? AND "
                f"{' AND '.join(where)} ORDER BY bm25(items, 10, 5, 2, 1) LIMIT {PAGE}"
            )
            args.insert(0, match)
        db.execute(sql, args).fetchall()
        latencies.append(time.perf_counter() - t0)
    db.close()
    return build, latencies
