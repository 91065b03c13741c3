"""The benchmark's PostgreSQL database: made afresh per run, and items written in bulk (COPY)
for the big index build, with their change-log entries, as if vendors had listed them."""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
from harness import ROOT
from harness.data import DEMO_ITEMS
from search_bench.synthetic import StallRef, make_documents
from writes_bench.raw_driver import asyncpg_dsn

from scaleout_bench.config import COPY_BATCH


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench_scaleout: refusing to drop the database {name!r}: its name must contain 'bench'.")
    return name


async def admin_connection(url: str) -> asyncpg.Connection:
    """A connection to the server's `postgres` database; exits when PostgreSQL is unreachable."""
    try:
        return await asyncpg.connect(asyncpg_dsn(url, "postgres"), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        parts = urlsplit(url)
        sys.exit(f"bench_scaleout: PostgreSQL is unreachable at {parts.hostname}:{parts.port or 5432}: {exc}.")


def demo_fingerprint() -> str:
    """What the demo market's database depends on: the fixtures, the tables, the migrations."""
    digest = hashlib.sha256()
    for pattern in ("fixtures/**/*.py", "server/migrations/**/*.py", "server/tables.py", "sync/tables.py"):
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def template_name(url: str) -> str:
    return f"{database_name(url)}_demo"


async def template_ready(url: str, fingerprint: str) -> bool:
    """Whether the saved demo-market template exists and was made from today's fixtures and schema."""
    conn = await admin_connection(url)
    try:
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", template_name(url)
        )
    finally:
        await conn.close()
    return str(comment) == fingerprint


async def fresh_database(url: str, from_template: bool = False) -> str:
    """DROP and CREATE the benchmark's database (empty, or a copy of the demo template); its name."""
    name = database_name(url)
    conn = await admin_connection(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        template = f' TEMPLATE "{template_name(url)}"' if from_template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await conn.close()
    return name


async def save_template(url: str, fingerprint: str) -> None:
    """Keep a copy of the database just seeded with the demo market, for the next runs."""
    name, template = database_name(url), template_name(url)
    conn = await admin_connection(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
        await conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{fingerprint}'")
    finally:
        await conn.close()


async def count_live_items(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM item WHERE deleted_at IS NULL"))
    finally:
        await conn.close()


ITEM_COLUMNS = (
    "id",
    "event",
    "stall",
    "title",
    "description",
    "price",
    "currency",
    "quantity",
    "own_tags",
    "hashtags",
    "tag_keys",
    "causes",
    "photo_keys",
    "state",
    "hidden",
    "version",
    "created_at",
    "updated_at",
)
LOG_COLUMNS = ("seq", "scope", "entity", "entity_id", "op", "version", "created_at")


async def bulk_items(url: str, event_slug: str, count: int) -> int:
    """Add `count` synthetic items (search_bench's generator: titles, descriptions, tags, prices)
    to the event's stalls with COPY, each with its change-log entry and the log head moved on, as
    if vendors had listed them (no photos, no item_tag rows: search documents do not read them).
    Returns how many were written."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        event = await conn.fetchrow("SELECT id, currency FROM event WHERE slug = $1", event_slug)
        stalls = await conn.fetch(
            "SELECT id, code, name, number FROM stall WHERE event = $1 ORDER BY number", event["id"]
        )
        refs = [StallRef(str(s["id"]), s["code"], s["name"], s["number"]) for s in stalls]
        docs = make_documents(count, str(event["id"]), refs, seed=DEMO_ITEMS)
        now = datetime.now(UTC)
        async with conn.transaction():
            head = int(await conn.fetchval("SELECT seq FROM log_head WHERE id = 1 FOR UPDATE"))
            scope = f"event:{event['id']}"
            for start in range(0, len(docs), COPY_BATCH):
                batch = docs[start : start + COPY_BATCH]
                items = [
                    (
                        uuid.UUID(d.id),
                        uuid.UUID(d.event_id),
                        uuid.UUID(d.stall_id),
                        d.title[:120],
                        d.description,
                        d.price,
                        event["currency"],
                        1,
                        json.dumps(list(d.hashtags)),
                        json.dumps(list(d.hashtags)),
                        json.dumps(list(d.tag_keys)),
                        json.dumps(list(d.causes)),
                        "[]",
                        d.state,
                        d.hidden,
                        1,
                        now - timedelta(seconds=len(docs) - start - k),
                        now,
                    )
                    for k, d in enumerate(batch)
                ]
                await conn.copy_records_to_table("item", records=items, columns=ITEM_COLUMNS)
                entries = [(head + start + k + 1, scope, "item", d.id, "upsert", 1, now) for k, d in enumerate(batch)]
                await conn.copy_records_to_table("change_log", records=entries, columns=LOG_COLUMNS)
            await conn.execute("UPDATE log_head SET seq = $1 WHERE id = 1", head + len(docs))
        await conn.execute("ANALYZE item")
        return len(docs)
    finally:
        await conn.close()
