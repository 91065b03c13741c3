"""One item: read, edit, reserve, release, sell, delete."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.api.deps import ActorDep, ServicesDep
from server.domain import items
from server.domain.items import ItemPatch, SaleResult
from server.domain.views import ItemView


@dataclass(frozen=True)
class ReserveInput:
    minutes: int = 30
    device_id: UUID | None = None


@dataclass(frozen=True)
class SellInput:
    quantity: int = 1
    amount: int | None = None  # minor units for the whole quantity; default price x quantity
    sale_id: UUID | None = None  # lets a client retry the same sale safely


class ItemController(Controller):
    path = "/api/items"
    tags = ["items"]

    @get("/{item_id:uuid}")
    async def get_item(self, item_id: FromPath[UUID], actor: ActorDep) -> ItemView:
        return await items.visible_item(actor, item_id)

    @patch("/{item_id:uuid}")
    async def update_item(
        self, item_id: FromPath[UUID], data: JSONBody[ItemPatch], services: ServicesDep, actor: ActorDep
    ) -> ItemView:
        return await items.update_item(services, actor, item_id, data)

    @post("/{item_id:uuid}/reserve", status_code=200)
    async def reserve(
        self,
        item_id: FromPath[UUID],
        data: JSONBody[ReserveInput],
        services: ServicesDep,
        actor: ActorDep,
    ) -> ItemView:
        return await items.reserve_item(services, actor, item_id, data.minutes, data.device_id)

    @post("/{item_id:uuid}/release", status_code=200)
    async def release(self, item_id: FromPath[UUID], services: ServicesDep, actor: ActorDep) -> ItemView:
        return await items.release_item(services, actor, item_id)

    @post("/{item_id:uuid}/sell", status_code=201)
    async def sell(
        self, item_id: FromPath[UUID], data: JSONBody[SellInput], services: ServicesDep, actor: ActorDep
    ) -> SaleResult:
        return await items.sell_item(services, actor, item_id, data.quantity, data.amount, data.sale_id)

    @delete("/{item_id:uuid}", status_code=204)
    async def delete_item(self, item_id: FromPath[UUID], services: ServicesDep, actor: ActorDep) -> None:
        await items.delete_item(services, actor, item_id)
