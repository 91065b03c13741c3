"""Stalls by their QR code, and the items a vendor lists on them."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from server.api.deps import ActorDep, ServicesDep
from server.domain import items, stalls
from server.domain.items import ItemInput
from server.domain.stalls import StallPatch
from server.domain.views import ItemView, StallView


class StallController(Controller):
    path = "/api/stalls"
    tags = ["stalls"]

    @get("/{code:str}")
    async def get_stall(self, code: FromPath[str], services: ServicesDep, actor: ActorDep) -> StallView:
        return await stalls.visible_stall(services, actor, code)

    @patch("/{code:str}")
    async def update_stall(
        self, code: FromPath[str], data: JSONBody[StallPatch], services: ServicesDep, actor: ActorDep
    ) -> StallView:
        return await stalls.update_stall(services, actor, code, data)

    @get("/{code:str}/items")
    async def stall_items(self, code: FromPath[str], actor: ActorDep) -> list[ItemView]:
        row = await stalls.visible_stall_row(actor, code)
        return await items.list_items(UUID(str(row["event"])), stall_id=UUID(str(row["id"])), limit=500)

    @post("/{code:str}/items", status_code=HTTP_201_CREATED)
    async def create_item(
        self, code: FromPath[str], data: JSONBody[ItemInput], services: ServicesDep, actor: ActorDep
    ) -> ItemView:
        return await items.create_item(services, actor, code, data)
