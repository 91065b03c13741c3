"""Shared test set-up: a real database (SQLite by default, PostgreSQL when
SOUK_TEST_DATABASE_URL names one), migrated once per session and emptied before each test,
and the real app built by `create_app` behind an HTTP client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from server.app import create_app
from server.database import bind_tables, build_engine, prepare_sqlite_file, start_engine, stop_engine
from server.migrate import migrate
from server.photos.database import DatabasePhotos
from server.photos.disk import DiskPhotos
from server.photos.storage import PhotoStorage
from server.settings import Settings
from server.tables import ALL_TABLES, LogHead, PhotoBlob

TEST_DATABASE_URL = os.environ.get("SOUK_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("souk-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    env = {"SOUK_DATA_DIR": str(data_dir), "SOUK_BASE_URL": "http://127.0.0.1:8000"}
    if TEST_DATABASE_URL:
        env["SOUK_DATABASE_URL"] = TEST_DATABASE_URL
    return Settings.from_env(env)


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> AsyncIterator[Settings]:
    """Migrate once per session (from scratch: leftovers of an earlier run are dropped)."""
    from server.database import drop_all_tables

    prepare_sqlite_file(settings)
    if not settings.is_sqlite:
        await _create_postgres_database(settings.database_url)
    engine = build_engine(settings)
    await start_engine(engine)
    await drop_all_tables(engine)
    await migrate(engine)
    await stop_engine(engine)
    yield settings


async def _create_postgres_database(url: str) -> None:
    """Create the test database on first use, so `make test` needs no manual step."""
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture
async def db(migrated: Settings) -> AsyncIterator[Settings]:
    """An empty, migrated database for this test, with the tables bound to it."""
    await empty_database(migrated)
    yield migrated


async def empty_database(settings: Settings) -> None:
    """Delete every row of a migrated database and bind the tables to it."""
    engine = build_engine(settings)
    await start_engine(engine)
    bind_tables(engine)
    for table in reversed(ALL_TABLES):
        await table.delete(force=True)
    await LogHead.insert(LogHead(id=1, seq=0))
    await stop_engine(engine)


PHOTO_STORAGES = ("disk", "database")


@pytest.fixture(params=PHOTO_STORAGES)
def photo_storage(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStorage:
    """Each photo storage backend in turn: files under tmp_path, then rows in the test database.

    The database backend runs on both test databases: the settings allow it only with PostgreSQL
    (SOUK_PHOTO_STORE), but the class is plain Piccolo, and SQLite's pass checks it too."""
    if request.param == "disk":
        return DiskPhotos(tmp_path / "photos")
    request.getfixturevalue("photo_database")
    return DatabasePhotos()


@pytest.fixture
async def photo_database(migrated: Settings) -> AsyncIterator[None]:
    """The test database's tables bound to a started engine, with no stored photo bytes."""
    engine = build_engine(migrated)
    await start_engine(engine)
    bind_tables(engine)
    await PhotoBlob.delete(force=True)
    try:
        yield
    finally:
        await stop_engine(engine)


async def stored_photo_names(storage: PhotoStorage) -> list[str]:
    """Everything a storage holds, as "<key>/<file or size>" (for "a refusal writes nothing")."""
    if isinstance(storage, DiskPhotos):
        root = storage.root
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return sorted(row["id"] for row in await PhotoBlob.select(PhotoBlob.id))


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Litestar]:
    """The real app with its lifespan run in the test's own event loop.

    (Litestar's AsyncTestClient runs the app on a separate thread's loop; an asyncpg pool made
    there cannot serve the test's own queries, so the app is driven in-loop instead.)
    """
    application = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Enter and leave the lifespan in one task: its task groups insist on that.
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    await asyncio.wait([task, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        yield application
    finally:
        stop.set()
        await task


@pytest.fixture
async def app(db: Settings) -> AsyncIterator[Litestar]:
    async with running_app(db) as application:
        yield application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar is an ASGI app
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@dataclass
class World:
    """A small market: one organizer with an event, two vendors with a stall each, a visitor."""

    organizer: dict[str, str]
    other_organizer: dict[str, str]
    event: dict[str, Any]
    vendor: dict[str, str]
    stall: dict[str, Any]
    other_vendor: dict[str, str]
    other_stall: dict[str, Any]
    visitor: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_organizer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    from server.domain.accounts import NewAccount, create_account

    await create_account(NewAccount(email, "correct horse", "Org"), "organizer")
    response = await client.post("/api/auth/login", json={"email": email, "password": "correct horse"})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


async def make_vendor(
    client: httpx.AsyncClient, organizer: dict[str, str], event: str, n: int
) -> tuple[dict[str, str], dict[str, Any]]:
    codes = (await client.post(f"/api/events/{event}/invites", json={"count": 1}, headers=organizer)).json()
    response = await client.post(
        "/api/vendors/join",
        json={
            "invite_code": codes["codes"][0],
            "email": f"vendor{n}@example.org",
            "password": "vendor-pass",
            "display_name": f"Vendor {n}",
            "stall": {"name": f"Stall {n}", "store_tag": f"#Shop{n}", "number": f"A{n:02d}"},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return bearer(body["token"]), body["stall"]


EVENT_BODY = {
    "name": "Ripe Market — January",
    "slug": "ripe-jan",
    "hashtag": "#RipeMarketJan",
    "starts_at": "2027-01-09T09:00:00Z",
    "ends_at": "2027-01-09T17:00:00Z",
    "time_zone": "Europe/London",
    "currency": "GBP",
    "venue": "Old Station Yard",
}


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    organizer = await make_organizer(client, "org@example.org")
    other_organizer = await make_organizer(client, "other-org@example.org")
    response = await client.post("/api/events", json=EVENT_BODY, headers=organizer)
    assert response.status_code == 201, response.text
    event = response.json()
    vendor, stall = await make_vendor(client, organizer, "ripe-jan", 1)
    other_vendor, other_stall = await make_vendor(client, organizer, "ripe-jan", 2)
    visitor = bearer((await client.post("/api/devices")).json()["token"])
    return World(organizer, other_organizer, event, vendor, stall, other_vendor, other_stall, visitor)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_report_header() -> Iterator[str]:
    yield f"souk database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, **env_overrides: str) -> tuple[Any, str]:
    """Run `souk serve` as a real process on a free port of 127.0.0.1; returns (process, base URL)."""
    import subprocess
    import sys
    import time

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    env.update(
        SOUK_DATA_DIR=str(settings.data_dir),
        SOUK_DATABASE_URL=settings.database_url,
        SOUK_PORT=str(port),
        SOUK_BASE_URL=base,
    )
    env.update(env_overrides)
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--no-migrate"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"souk serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("souk serve did not answer within 30 s")


@pytest.fixture
def live_server(db: Settings) -> Iterator[str]:
    process, base = start_server(db)
    yield base
    process.terminate()
    process.wait(timeout=20)
