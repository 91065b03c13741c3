"""The offline-first sync endpoints (protocol in sync/pull.py and sync/push.py, fed by
server/domain/feed.py and server/domain/mutations.py) and the WebSocket that pokes open
clients when their event's log advances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, WebSocket, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, KwargDefinition
from msgspec import Meta

from server.api.client import caller_key
from server.api.deps import ActorDep, ServicesDep
from server.api.relay import relay
from server.domain import events
from server.domain.feed import pull, pull_format2
from server.domain.feed_records import Format2Page
from server.domain.mutations import push
from server.ratelimit import SYNC_PUSHES_PER_CALLER, SYNC_REJECTIONS_PER_CALLER
from sync.log import event_scope
from sync.pull import DEFAULT_LIMIT, MAX_LIMIT, PullResult
from sync.push import PushRequest, PushResult


@dataclass(frozen=True)
class PullRequest:
    """`format` 1 (the default, what old clients get) or 2 (compact records, sync/FORMAT.md);
    `stall`, a stall code, puts that stall's records first in a format-2 snapshot (first pull only);
    `patches`, format 2, lets a page that follows the log send an item's changed fields instead of
    the whole item, to a client that merges them (an older format-2 client does not ask)."""

    event: str  # slug or id
    cursor: str | None = None
    # Meta: what the decoder refuses (a 422 naming `limit`); KwargDefinition: what the schema says.
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT), KwargDefinition(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    format: Literal[1, 2] = 1
    stall: str | None = None
    patches: bool = False


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/pull", status_code=200)
    async def pull(
        self, data: JSONBody[PullRequest], services: ServicesDep, actor: ActorDep
    ) -> PullResult | Format2Page:
        """Changes since `cursor` (none: a snapshot first), in the record format asked for
        (sync/FORMAT.md). `reset: true` means start over; a limit outside 1..2000 is a 422."""
        if data.format == 2:
            return await pull_format2(
                services, actor, data.event, data.cursor, data.limit, data.stall, patches=data.patches
            )
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
