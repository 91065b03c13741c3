"""One item: read, edit, hold units, release holds, sell, undo a sale, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.api.deps import ActorDep, ServicesDep
from server.domain import items
from server.domain.items import HoldLength, HoldView, ItemPatch, SaleResult, UndoResult
from server.domain.views import ItemView


@dataclass(frozen=True)
class ReserveInput:
    """Hold `quantity` units: for `minutes`, `until` a time, or `until_end` of the event (one of
    them; none: 30 minutes, cut short at the event's end)."""

    minutes: int | None = None
    until: datetime | None = None
    until_end: bool = False
    device_id: UUID | None = None
    quantity: int = 1
    hold_id: UUID | None = None  # lets a client retry the same hold safely


@dataclass(frozen=True)
class ReleaseInput:
    hold_id: UUID | None = None
    device_id: UUID | None = None  # neither: every hold of the item


@dataclass(frozen=True)
class SellInput:
    quantity: int = 1
    amount: int | None = None  # minor units for the whole quantity; default price x quantity
    sale_id: UUID | None = None  # lets a client retry the same sale safely
    hold_id: UUID | None = None  # sold to the visitor this hold is for: the sale uses it up
    device_id: UUID | None = None  # or: sold to this visitor, using up their hold
    from_holds: bool = False  # or: sold to someone it was held for (holds soonest to lapse first)


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
        length = HoldLength(data.minutes, data.until, data.until_end)
        return await items.reserve_item(
            services, actor, item_id, None, data.device_id, quantity=data.quantity, length=length, hold_id=data.hold_id
        )

    @post("/{item_id:uuid}/release", status_code=200)
    async def release(
        self,
        item_id: FromPath[UUID],
        services: ServicesDep,
        actor: ActorDep,
        data: JSONBody[ReleaseInput],
    ) -> ItemView:
        """Let go of one hold (`hold_id`, or the visitor's `device_id`), or of all of them (`{}`)."""
        return await items.release_item(services, actor, item_id, hold_id=data.hold_id, device_id=data.device_id)

    @get("/{item_id:uuid}/holds")
    async def holds(self, item_id: FromPath[UUID], actor: ActorDep) -> list[HoldView]:
        """The item's holds, soonest to lapse first (its vendor only)."""
        return await items.holds_of(actor, item_id)

    @post("/{item_id:uuid}/sell", status_code=201)
    async def sell(
        self, item_id: FromPath[UUID], data: JSONBody[SellInput], services: ServicesDep, actor: ActorDep
    ) -> SaleResult:
        return await items.sell_item(
            services,
            actor,
            item_id,
            data.quantity,
            data.amount,
            data.sale_id,
            hold_id=data.hold_id,
            device_id=data.device_id,
            from_holds=data.from_holds,
        )

    @post("/{item_id:uuid}/sales/{sale_id:uuid}/undo", status_code=200)
    async def undo_sale(
        self, item_id: FromPath[UUID], sale_id: FromPath[UUID], services: ServicesDep, actor: ActorDep
    ) -> UndoResult:
        """The stall's vendor takes back a sale of the last 2 hours: the units go back on sale and
        the sale counts in no total; undoing it again changes nothing."""
        return await items.undo_sale(services, actor, sale_id, item_id=item_id)

    @delete("/{item_id:uuid}", status_code=204)
    async def delete_item(self, item_id: FromPath[UUID], services: ServicesDep, actor: ActorDep) -> None:
        await items.delete_item(services, actor, item_id)
