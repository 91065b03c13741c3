"""The offline-first sync endpoints (protocol in sync/pull.py and sync/push.py, fed by
server/domain/feed.py and server/domain/mutations.py) and the WebSocket that pokes open
clients when their event's log advances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, WebSocket, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.api.client import caller_key
from server.api.deps import ActorDep, ServicesDep
from server.api.relay import relay
from server.domain import events
from server.domain.feed import pull
from server.domain.mutations import push
from server.ratelimit import SYNC_PUSHES_PER_CALLER, SYNC_REJECTIONS_PER_CALLER
from sync.log import event_scope
from sync.pull import PullResult
from sync.push import PushRequest, PushResult


@dataclass(frozen=True)
class PullRequest:
    event: str  # slug or id
    cursor: str | None = None
    limit: int = 500


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/pull", status_code=200)
    async def pull(self, data: JSONBody[PullRequest], services: ServicesDep, actor: ActorDep) -> PullResult:
        """Changes since `cursor` (none: a snapshot first). `reset: true` means start over."""
        return await pull(services, actor, data.event, data.cursor, data.limit)

    @post("/push", status_code=200)
    async def push(self, data: JSONBody[PushRequest], services: ServicesDep, actor: ActorDep) -> PushResult:
        """Apply queued mutations in order, each exactly once; see sync/push.py for the rules.

        Pushes are limited per caller, and so are refused mutations: each is kept (so a retry
        gets the same answer), and a script must not fill the database with refusals."""
        who = caller_key(actor)
        await services.limits.hit(SYNC_PUSHES_PER_CALLER, who)
        await services.limits.check(SYNC_REJECTIONS_PER_CALLER, who)
        result = await push(services, actor, data)
        if refused := sum(1 for outcome in result.results if outcome.status == "rejected"):
            await services.limits.hit(SYNC_REJECTIONS_PER_CALLER, who, refused)
        return result


@websocket("/api/events/{event:str}/live")
async def live(
    socket: WebSocket[Any, Any, Any], event: FromPath[str], channels: NamedDependency[ChannelsPlugin]
) -> None:
    """Payload-free pokes: `{"type": "poke", "scope": ..., "seq": n}`; the client then pulls.

    Pokes carry no data, so an open socket reveals nothing a pull would not; a missed poke only
    delays an update until the next pull.
    """
    scope = event_scope((await events.get_event(event)).id)
    await socket.accept()
    await relay(socket, channels, [scope], {"type": "hello", "scopes": [scope]})
