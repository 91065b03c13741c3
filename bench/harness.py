"""What every benchmark needs around the code it measures: the demo market in a data folder and
a real `souk serve` process on a free port of 127.0.0.1 (started as tests/conftest.py does).

Benchmarks are run as scripts (`python bench/bench_x.py`), so this folder is on `sys.path` and
they import it as `harness`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from fixtures.load import load_market
from fixtures.market import build_market
from server.database import bind_tables, build_engine, prepare_sqlite_file, start_engine, stop_engine
from server.domain.context import Market
from server.migrate import migrate
from server.photos import PhotoStore
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks share the tests' helpers; tests/ is not an installed package
    sys.path.append(str(ROOT))
DEMO_STALLS, DEMO_ITEMS = 84, 2100


async def load_demo(folder: Path) -> str:
    """Load the demo market (what `souk demo` serves) into a SQLite data folder; its event slug."""
    settings = Settings.from_env({"SOUK_DATA_DIR": str(folder)})
    prepare_sqlite_file(settings)
    engine = build_engine(settings)
    bind_tables(engine)
    await start_engine(engine)
    try:
        await migrate(engine)
        market = Market(engine, settings, PhotoStore(settings.photos_dir, settings.max_upload_bytes))
        loaded = await load_market(market, build_market(stalls=DEMO_STALLS, items=DEMO_ITEMS))
        return loaded.event_slug
    finally:
        await stop_engine(engine)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    process: subprocess.Popen[bytes]


def start_souk(
    data_dir: Path, log: Path, env: dict[str, str] | None = None, port: int | None = None, wait_seconds: float = 60
) -> Server:
    """`souk serve --no-migrate` on `port` (a free one if None); returns once /api/health answers."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    environment.update(SOUK_DATA_DIR=str(data_dir), SOUK_PORT=str(port), SOUK_BASE_URL=base, **(env or {}))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--no-migrate"],
            env=environment,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(base, process)
    deadline = time.monotonic() + wait_seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"souk serve exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_souk(server)
            raise RuntimeError(f"souk serve did not answer within {wait_seconds:.0f} s; see {log}")
        time.sleep(0.2)


def stop_souk(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def souk_serve(
    data_dir: Path, log: Path, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[Server]:
    server = start_souk(data_dir, log, env, port)
    try:
        yield server
    finally:
        stop_souk(server)
