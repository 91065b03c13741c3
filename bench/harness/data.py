"""A market on a data folder's database, the demo market loaded into it, database copies.

Every benchmark builds its `Services` here, so a change to how one is made is made once.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fixtures.load import load_market
from fixtures.market import build_market
from server.database import bind_tables, prepare_sqlite_file, start_engine, stop_engine
from server.domain import events
from server.domain.context import Services
from server.migrate import migrate
from server.settings import Settings

DEMO_STALLS, DEMO_ITEMS = 84, 2100


def market_for(settings: Settings) -> Services:
    """Services on the settings' database (its engine built, not started), every table bound to it."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    prepare_sqlite_file(settings)
    services = Services.from_settings(settings)
    bind_tables(services.engine)
    return services


def open_market(data_dir: Path, **env: str) -> Services:
    """Services on the database of `data_dir`, with more SOUK_ settings from `env`."""
    return market_for(Settings.from_env({"SOUK_DATA_DIR": str(data_dir), **env}))


@asynccontextmanager
async def running(market: Services, migrated: bool = True) -> AsyncIterator[Services]:
    """The market's engine started (and the database migrated) for the block."""
    await start_engine(market.engine)
    try:
        if migrated:
            await migrate(market.engine)
        yield market
    finally:
        await stop_engine(market.engine)


async def load_demo_market(market: Services) -> str:
    """Load the demo market (what `souk demo` serves) through the domain; its event slug."""
    loaded = await load_market(market, build_market(stalls=DEMO_STALLS, items=DEMO_ITEMS))
    return loaded.event_slug


async def load_demo(folder: Path) -> str:
    """Load the demo market into a SQLite data folder; its event slug."""
    async with running(open_market(folder)) as market:
        return await load_demo_market(market)


async def first_event_slug() -> str:
    """The slug of the first event of a database (a demo folder's one market)."""
    return str((await events.list_events())[0].slug)


def demo_database(folder: Path) -> Path:
    """The SQLite file of a folder where `souk demo --no-serve` ran; exits if there is none."""
    source = Settings.from_env({"SOUK_DATA_DIR": str(folder)}).sqlite_path
    if not source.exists():
        raise SystemExit(f"{source} does not exist: run `souk demo --no-serve` with SOUK_DATA_DIR={folder}")
    return source


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database with its write-ahead log, if any (the source is left as it is)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
