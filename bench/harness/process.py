"""A real `souk serve` process on a free port of 127.0.0.1 (started as tests/conftest.py does), a
migrated data folder for it, and its log checked once it stopped."""

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

from harness import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def souk_environment(data_dir: Path, **more: str) -> dict[str, str]:
    """This process's environment without any SOUK_ variable, plus SOUK_DATA_DIR and `more`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    environment.update(SOUK_DATA_DIR=str(data_dir), **more)
    return environment


def migrate_folder(data_dir: Path) -> None:
    """`souk migrate` on an empty data folder (a fresh SQLite database)."""
    subprocess.run(
        [sys.executable, "-m", "server.cli", "migrate"],
        env=souk_environment(data_dir),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


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
    environment = souk_environment(data_dir, SOUK_PORT=str(port), SOUK_BASE_URL=base, **(env or {}))
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


def check_log(log: Path, name: str | None = None) -> None:
    """Print the log's length and tracebacks (and its tail when there are any)."""
    text = log.read_text(errors="replace")
    tracebacks = text.count("Traceback")
    print(f"{name or f'server log {log.name}'}: {len(text.splitlines())} lines, {tracebacks} tracebacks")
    if tracebacks:
        print(text[-3000:])
