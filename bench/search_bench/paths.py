"""The paths bench_search.py times, each query through all of them, interleaved: raw tantivy,
raw tantivy with the rest of the answer, ours in-process, ours through the HTTP API, the HTTP floor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tantivy
from harness.process import souk_serve
from tantivy import FieldType, Occur, Order, Query

from search.documents import SearchRequest
from search.embedded import EmbeddedEngine
from search.embedded_schema import TEXT_FIELDS
from search.embedded_search import FACET_FIELDS
from search.engine import MAX_FACET_VALUES
from search.query import allowed_typos, query_words
from search_bench.corpus import Corpus
from search_bench.queries import BenchQuery

PAGE = 20
PATHS = ("raw", "raw_full", "ours", "ours_facets", "api", "floor")
IN_PROCESS = ("raw", "raw_full", "ours", "ours_facets")  # their CPU time is this process's
PATH_LABELS = {
    "raw": "raw tantivy (fuzzy/prefix, top 20 + count)",
    "raw_full": "raw tantivy + facets + 20 stored docs",
    "ours": "ours in-process (EmbeddedEngine.search)",
    "ours_facets": "ours in-process, facets asked for",
    "api": "ours through the HTTP API (souk serve)",
    "floor": "HTTP floor: GET /api/health (1 SQLite query)",
}
GAP_SECONDS = 0.001  # between two timed calls, so one path's leftovers do not land on the next


def search_request(corpus: Corpus, query: BenchQuery, facets: bool = False) -> SearchRequest:
    """What the API route builds for the query (stall codes resolved to ids; facets on request)."""
    return SearchRequest(
        event_id=corpus.event_id,
        q=query.q,
        stall_ids=tuple(corpus.stall_ids[code] for code in query.stalls),
        tags=query.tags,
        states=query.states,
        price_min=query.price_min,
        price_max=query.price_max,
        facets=facets,
    )


def api_params(query: BenchQuery) -> dict[str, Any]:
    params: dict[str, Any] = {"q": query.q}
    if query.tags:
        params["tag"] = list(query.tags)
    if query.stalls:
        params["stall"] = list(query.stalls)
    if query.states != ("available",):
        params["state"] = list(query.states)
    if query.price_min is not None:
        params["price_min"] = query.price_min
    if query.price_max is not None:
        params["price_max"] = query.price_max
    return params


class RawTantivy:
    """The tantivy package alone on the same index folder: hand-built equivalent queries."""

    def __init__(self, folder: Path) -> None:
        self.index = tantivy.Index.open(str(folder))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def query(self, corpus: Corpus, query: BenchQuery) -> tuple[Query, bool]:
        """(query, whether it has words); filters are terms, words fuzzy/prefix terms."""
        schema = self.schema
        clauses = [
            (Occur.Must, Query.term_query(schema, "event_id", corpus.event_id)),
            (Occur.Must, Query.term_query(schema, "hidden", False)),
            (Occur.Must, Query.term_set_query(schema, "state", list(query.states))),
        ]
        if query.stalls:
            stall_ids = [corpus.stall_ids[code] for code in query.stalls]
            clauses.append((Occur.Must, Query.term_set_query(schema, "stall_id", stall_ids)))
        clauses += [(Occur.Must, Query.term_query(schema, "tag_keys", tag)) for tag in query.tags]
        if query.price_min is not None or query.price_max is not None:
            price = Query.range_query(schema, "price", FieldType.Integer, query.price_min, query.price_max)
            clauses.append((Occur.Must, price))
        words = query_words(query.q)
        for n, word in enumerate(words):
            fields = [
                (
                    Occur.Should,
                    Query.fuzzy_term_query(
                        schema, name, word.text, distance=allowed_typos(word.text), prefix=word.prefix
                    ),
                )
                for name in TEXT_FIELDS
            ]
            clauses.append((Occur.Must if n == 0 else Occur.Should, Query.boolean_query(fields)))
        return Query.boolean_query(clauses), bool(words)

    def search(self, corpus: Corpus, query: BenchQuery, full: bool) -> int:
        """Top 20 and the exact count (with `full`: facets and stored docs too); the count."""
        built, has_words = self.query(corpus, query)
        if has_words:
            result: Any = self.searcher.search(built, limit=PAGE, count=True)
        else:
            result = self.searcher.search(built, limit=PAGE, count=True, order_by_field="created_at", order=Order.Desc)
        if full:
            request = {n: {"terms": {"field": f, "size": MAX_FACET_VALUES}} for n, f in FACET_FIELDS.items()}
            self.searcher.aggregate(built, request)
            for _, address in result.hits:
                self.searcher.doc(address)
        return int(result.count)


@dataclass
class Figures:
    """Per-path latencies (seconds) and totals, per query in query order."""

    wall: dict[str, list[float]] = field(default_factory=lambda: {path: [] for path in PATHS})
    # CPU time of this process per in-process path (a loaded machine inflates wall clock only)
    cpu: dict[str, list[float]] = field(default_factory=lambda: {path: [] for path in IN_PROCESS})
    totals: dict[str, list[int]] = field(default_factory=lambda: {path: [] for path in PATHS})


async def measure(corpus: Corpus, queries: Sequence[BenchQuery], warm_up: Sequence[BenchQuery]) -> Figures:
    """Every query through each path, interleaved, the path order rotating per query."""
    engine = EmbeddedEngine(corpus.data_dir / "search")
    raw = RawTantivy(corpus.data_dir / "search")
    figures = Figures()
    log = corpus.data_dir / "serve.log"
    with souk_serve(corpus.data_dir, log) as server, httpx.Client(base_url=server.base, timeout=60) as http:
        url = f"/api/events/{corpus.slug}/search"

        async def run(path: str, query: BenchQuery) -> tuple[float, int]:
            began = time.perf_counter()
            if path in ("ours", "ours_facets"):
                total = (await engine.search(search_request(corpus, query, facets=path == "ours_facets"))).total
            elif path == "floor":
                http.get("/api/health").raise_for_status()  # noqa: ASYNC212 (see below)
                total = 0
            elif path == "api":
                # A blocking client on purpose: nothing else runs on this loop, and the
                # sync client adds less of its own time than httpx.AsyncClient.
                response = http.get(url, params=api_params(query))  # noqa: ASYNC212
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} for {query}: {response.text[:300]}")
                total = int(response.json()["total"])
            else:
                total = raw.search(corpus, query, full=path == "raw_full")
            return time.perf_counter() - began, total

        for query in warm_up:
            for path in PATHS:
                await run(path, query)
        for n, query in enumerate(queries):
            for path in PATHS[n % len(PATHS) :] + PATHS[: n % len(PATHS)]:
                cpu_began = time.process_time()
                seconds, total = await run(path, query)
                if path in IN_PROCESS:
                    figures.cpu[path].append(time.process_time() - cpu_began)
                figures.wall[path].append(seconds)
                figures.totals[path].append(total)
                await asyncio.sleep(GAP_SECONDS)
    await engine.close()
    return figures
