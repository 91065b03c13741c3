"""Events and what hangs off them: invites, causes, stalls, items and hashtags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from server.api.deps import ActorDep, ServicesDep
from server.domain import events, items, stalls
from server.domain.errors import Invalid
from server.domain.events import CauseInput, CausePatch, EventInput, EventPatch, InviteView
from server.domain.views import CauseView, EventView, HashtagCount, ItemView, StallView

# Far past any market's items, and far below what an SQL OFFSET can take (a 64-bit integer).
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class InviteRequest:
    count: int = 1


@dataclass(frozen=True)
class InvitesOut:
    codes: list[str]


class EventController(Controller):
    path = "/api/events"
    tags = ["events"]

    @get("/")
    async def list_events(self) -> list[EventView]:
        return await events.list_events()

    @post("/", status_code=HTTP_201_CREATED)
    async def create_event(self, data: JSONBody[EventInput], services: ServicesDep, actor: ActorDep) -> EventView:
        return await events.create_event(services, actor, data)

    @get("/{event:str}")
    async def get_event(self, event: FromPath[str]) -> EventView:
        return await events.get_event(event)

    @patch("/{event:str}")
    async def update_event(
        self, event: FromPath[str], data: JSONBody[EventPatch], services: ServicesDep, actor: ActorDep
    ) -> EventView:
        return await events.update_event(services, actor, event, data)

    @post("/{event:str}/invites", status_code=HTTP_201_CREATED)
    async def create_invites(
        self,
        event: FromPath[str],
        data: JSONBody[InviteRequest],
        services: ServicesDep,
        actor: ActorDep,
    ) -> InvitesOut:
        return InvitesOut(await events.create_invites(services, actor, event, data.count))

    @get("/{event:str}/invites")
    async def list_invites(self, event: FromPath[str], services: ServicesDep, actor: ActorDep) -> list[InviteView]:
        """Every invite: its join link, and who joined with it and which stall they opened."""
        return await events.list_invites(services, actor, event)

    @delete("/{event:str}/invites/{invite_code:str}", status_code=204)
    async def revoke_invite(
        self, event: FromPath[str], invite_code: FromPath[str], services: ServicesDep, actor: ActorDep
    ) -> None:
        """Take back an unused invite: joining with it is refused from now on (409 once used)."""
        await events.revoke_invite(services, actor, event, invite_code)

    @post("/{event:str}/causes", status_code=HTTP_201_CREATED)
    async def create_cause(
        self, event: FromPath[str], data: JSONBody[CauseInput], services: ServicesDep, actor: ActorDep
    ) -> CauseView:
        return await events.create_cause(services, actor, event, data)

    @patch("/{event:str}/causes/{cause_id:uuid}")
    async def update_cause(
        self,
        event: FromPath[str],
        cause_id: FromPath[UUID],
        data: JSONBody[CausePatch],
        services: ServicesDep,
        actor: ActorDep,
    ) -> CauseView:
        """Rename a cause, set its goal (0 removes it), or change its tag while nothing counts for it."""
        return await events.update_cause(services, actor, event, cause_id, data)

    @get("/{event:str}/causes")
    async def list_causes(self, event: FromPath[str]) -> list[CauseView]:
        return await events.list_causes((await events.get_event(event)).id)

    @get("/{event:str}/stalls")
    async def list_stalls(self, event: FromPath[str], services: ServicesDep) -> list[StallView]:
        return await stalls.list_stalls(services, (await events.get_event(event)).id)

    @get("/{event:str}/items")
    async def list_items(
        self,
        event: FromPath[str],
        tag: FromQuery[str | None] = None,
        stall: FromQuery[str | None] = None,
        states: Annotated[
            list[str] | None, QueryParameter(name="state", description="available, reserved, sold")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[ItemView]:
        """Browse an event's items, optionally by hashtag (with or without '#') or stall code."""
        event_id = (await events.get_event(event)).id
        stall_id: UUID | None = None
        if stall:
            stall_id = UUID(str((await stalls.visible_stall_row(None, stall))["id"]))
        wanted = tuple(states or items.STATES)
        if bad := [s for s in wanted if s not in items.STATES]:
            raise Invalid(f"Unknown state {bad[0]!r}; use available, reserved or sold", field="state")
        return await items.list_items(event_id, stall_id=stall_id, tag=tag, states=wanted, limit=limit, offset=offset)

    @get("/{event:str}/hashtags")
    async def hashtags(self, event: FromPath[str]) -> list[HashtagCount]:
        return await items.list_hashtags((await events.get_event(event)).id)
