"""The plan of bench_scaleout.py: databases, sizes, the load's shape."""

from __future__ import annotations

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/souk_bench_scaleout"
REDIS_URL = "redis://127.0.0.1:6379/0"
RATE_LIMIT_FACTOR = "1000"
REQUEST_TIMEOUT = 120.0

PROCESSES = (1, 2, 4)
FORMS = ("workers", "processes")  # SOUK_WORKERS=N on one port | N `souk serve` on N ports

WRITE_EVENTS = 2  # bench events of writes_bench.seed.seed_event (5 stalls × 10 items, 500 visitors each)
WRITE_CLIENTS = 40
SEARCH_CLIENTS = 10
SECONDS = 10.0
QUICK_SECONDS = 4.0
QUICK_WRITE_CLIENTS = 20
QUICK_SEARCH_CLIENTS = 5
QUERIES = 400  # the search clients cycle over these, drawn from the demo market's own items
QUERY_SEED = 20261202

BIG_ITEMS = 100_000  # total live items for the second index build
QUICK_BIG_ITEMS = 20_000
COPY_BATCH = 10_000

NODE_WAIT_SECONDS = 900.0  # a new node building its index gives up after this
