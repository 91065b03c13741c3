"""The live sockets of bench_chat.py: opened and closed many at a time, every message frame they
receive noted with its arrival time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from harness.client import open_live
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from chat_bench.config import CONNECT_CONCURRENCY, SLUG


@dataclass
class Inbox:
    """What every open socket received: message frames by (socket name, message id)."""

    got: dict[tuple[str, str], float] = field(default_factory=dict)
    frames: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Live:
    name: str
    connection: ClientConnection
    reader: asyncio.Task[None]


async def read_frames(name: str, connection: ClientConnection, inbox: Inbox) -> None:
    try:
        async for raw in connection:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = str(frame.get("type"))
            inbox.frames[kind] += 1
            if kind == "message":
                inbox.got[(name, str(frame["message"]["id"]))] = now
                inbox.arrived.set()
    except ConnectionClosed as exc:
        inbox.closed[f"{type(exc).__name__} {exc.rcvd.code if exc.rcvd else ''}"] += 1
        return
    inbox.closed["closed cleanly"] += 1


async def open_socket(ws_url: str, name: str, token: str, inbox: Inbox) -> Live:
    connection = await open_live(ws_url, token, SLUG)
    return Live(name, connection, asyncio.create_task(read_frames(name, connection, inbox)))


async def open_sockets(ws_url: str, who: list[tuple[str, str]], inbox: Inbox) -> tuple[list[Live], list[str]]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    failures: list[str] = []

    async def one(name: str, token: str) -> Live | None:
        async with gate:
            try:
                return await open_socket(ws_url, name, token, inbox)
            except (OSError, TimeoutError, ConnectionClosed) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                return None

    opened = await asyncio.gather(*(one(name, token) for name, token in who))
    return [s for s in opened if s is not None], failures


async def close_sockets(sockets: list[Live]) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(live: Live) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await live.connection.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(live.reader, 5)

    await asyncio.gather(*(one(s) for s in sockets))
