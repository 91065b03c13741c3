"""Forwarding pub/sub channel messages to a WebSocket until the client goes away."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from litestar import WebSocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect

FrameHandler = Callable[[str], Awaitable[None]]


async def relay(
    socket: WebSocket[Any, Any, Any],
    channels: ChannelsPlugin,
    scopes: list[str],
    greeting: dict[str, object],
    on_frame: FrameHandler | None = None,
) -> None:
    """Send `greeting`, then every message of `scopes`; hand incoming frames to `on_frame`.

    Waiting only on the channel would never notice a client that left quietly (and would keep
    the server from shutting down), so the socket's receive side is watched alongside; when
    either side ends, both stop.
    """
    async with channels.start_subscription(scopes) as subscriber, anyio.create_task_group() as tasks:

        async def forward() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                await socket.send_json(greeting)
                async for message in subscriber.iter_events():
                    await socket.send_text(message.decode() if isinstance(message, bytes) else str(message))
            tasks.cancel_scope.cancel()

        async def receive() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    frame = await socket.receive_text()
                    if on_frame is not None:
                        await on_frame(frame)
            tasks.cancel_scope.cancel()

        tasks.start_soon(forward)
        tasks.start_soon(receive)
