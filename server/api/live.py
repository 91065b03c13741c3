"""The personal realtime socket: new messages, receipts, typing, and the event's pokes.

Browsers cannot put an Authorization header on a WebSocket, and tokens in URLs end up in logs,
so the client's first frame carries the token: `{"type": "auth", "token": ..., "event": slug}`.
While the socket is open the person counts as present (no push needed); the count lives in the
database so every worker sees it (`server/domain/chat/presence.py`).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from uuid import UUID

import anyio
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect

from server.api.deps import ServicesDep, visitor_idle
from server.api.relay import relay
from server.domain import chat, events
from server.domain.actors import Actor, actor_for_token
from server.domain.chat.presence import mark_present, presence_key
from server.domain.errors import DomainError
from sync.log import event_scope

AUTH_TIMEOUT = 10.0
MAX_FRAME_CHARS = 4096  # an auth frame with a token, a typing frame: a few hundred characters


@websocket("/api/live")
async def live_personal(
    socket: WebSocket[Any, Any, Any], services: ServicesDep, channels: NamedDependency[ChannelsPlugin]
) -> None:
    await socket.accept()
    hello = await _first_frame(socket)
    token = str(hello.get("token", "")) if hello else ""
    actor = await actor_for_token(token, idle=visitor_idle(services)) if hello else None
    if actor is None:
        await socket.close(code=4401, reason="send {type: auth, token} first, with a valid token")
        return
    scopes = [presence_key(actor)]
    if hello and hello.get("event"):
        with contextlib.suppress(DomainError):
            scopes.append(event_scope((await events.get_event(str(hello["event"]))).id))
    await mark_present(presence_key(actor), +1)
    try:
        await relay(
            socket,
            channels,
            scopes,
            {"type": "ready", "scopes": scopes},
            lambda frame: _handle_frame(frame, actor, services, socket, token),
        )
    finally:
        await mark_present(presence_key(actor), -1)


async def _first_frame(socket: WebSocket[Any, Any, Any]) -> dict[str, Any] | None:
    with anyio.move_on_after(AUTH_TIMEOUT), contextlib.suppress(WebSocketDisconnect, ValueError, RecursionError):
        raw = await socket.receive_text()
        frame = json.loads(raw) if len(raw) <= MAX_FRAME_CHARS else None
        if isinstance(frame, dict) and frame.get("type") == "auth":
            return frame
    return None


async def _handle_frame(raw: str, actor: Actor, services: Any, socket: WebSocket[Any, Any, Any], token: str) -> None:
    """Typing indicators and keep-alives; anything else gets an error frame, never a crash.

    A client only ever sends small flat frames, so anything long is refused before parsing and
    parsing errors of every kind (deep nesting included) are answered, not raised.
    """
    if len(raw) > MAX_FRAME_CHARS:
        await socket.send_json({"type": "error", "error": f"frames are at most {MAX_FRAME_CHARS} characters"})
        return
    try:
        frame = json.loads(raw)
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "typing":
            await chat.typing(services, actor, UUID(str(frame["conversation_id"])))
        elif kind == "ping":
            # A token revoked (a resumed identity) or lapsed since the socket opened ends it here.
            if await actor_for_token(token, idle=visitor_idle(services)) is None:
                await socket.close(code=4401, reason="this token was revoked or has expired")
                return
            await mark_present(presence_key(actor), 0)
            await socket.send_json({"type": "pong"})
        else:
            await socket.send_json({"type": "error", "error": f"unknown frame type {kind!r}"})
    except RecursionError:
        await socket.send_json({"type": "error", "error": "frame is nested too deeply"})
    except (ValueError, KeyError, TypeError, AttributeError, DomainError) as exc:
        await socket.send_json({"type": "error", "error": str(getattr(exc, "message", exc))})
