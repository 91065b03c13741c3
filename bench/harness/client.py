"""What a client of the running server needs: the bearer header, an authenticated live socket."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import ClientConnection, connect


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def live_url(base: str) -> str:
    """The /api/live WebSocket of a server at `base` (http://…)."""
    return base.replace("http", "ws", 1) + "/api/live"


OPEN_SECONDS = 60


async def open_live(url: str, token: str, event: str) -> ClientConnection:
    """A socket on /api/live, authenticated for `event`, once the server said "ready"."""
    connection = await connect(url, open_timeout=OPEN_SECONDS, ping_interval=None, close_timeout=5)
    await connection.send(json.dumps({"type": "auth", "token": token, "event": event}))
    async with asyncio.timeout(OPEN_SECONDS):
        while json.loads(await connection.recv()).get("type") != "ready":
            pass
    return connection
