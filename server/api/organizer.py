"""The organizer's side: live totals, CSV exports, moderation, kiosk tokens, printable signs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromHeader, FromPath, JSONBody, QueryParameter

from server.api.client import caller_key
from server.api.deps import ActorDep, ServicesDep
from server.domain import blocks, events, items, kiosk_tokens, moderation, stalls
from server.domain.blocks import BlockView
from server.domain.errors import Invalid
from server.domain.exports import cause_totals_csv, sales_csv
from server.domain.items import UncreditedItem
from server.domain.kiosk_tokens import KioskTokenOut, KioskTokenView
from server.domain.moderation import ReportView
from server.domain.money import format_money
from server.domain.stalls import OrganizerStallView, StallPlace
from server.domain.totals import EventTotals, event_totals
from server.domain.views import CauseView, EventView, ItemView, StallView
from server.printing.layout import PAGE_SIZES, PriceTag, SignEvent, SignStall
from server.printing.pdf import price_tags_pdf, stall_signs_pdf
from server.printing.svg import stall_sign_svg
from server.ratelimit import REPORTS_PER_REPORTER


@dataclass(frozen=True)
class HiddenInput:
    hidden: bool


@dataclass(frozen=True)
class ReportInput:
    reason: str = ""


@dataclass(frozen=True)
class BlockInput:
    device_id: UUID
    blocked: bool = True


@dataclass(frozen=True)
class CauseChoice:
    cause: str  # the cause's hashtag, e.g. "#RiverRescue"


@dataclass(frozen=True)
class KioskTokenInput:
    label: str = "Entrance"


@dataclass(frozen=True)
class KioskSetup:
    event: EventView
    stalls: list[StallView]
    causes: list[CauseView]
    totals: EventTotals


def _csv(body: str, name: str) -> Response[bytes]:
    return Response(
        body.encode("utf-8-sig"),  # the BOM makes spreadsheet apps read UTF-8 names correctly
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/* types
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _page_size(page: str) -> str:
    if page.lower() not in PAGE_SIZES:
        raise Invalid(f"page must be one of {', '.join(PAGE_SIZES)}", field="page")
    return page.lower()


class OrganizerController(Controller):
    tags = ["organizer"]

    @get("/api/events/{event:str}/totals")
    async def totals(self, event: FromPath[str], actor: ActorDep) -> EventTotals:
        """Sales overall, per cause (with goal), per stall and per hour: organizer only."""
        row = await events.owned_event(actor, event)
        return await event_totals(row["id"], detailed=True)

    @get("/api/events/{event:str}/cause-totals")
    async def public_totals(self, event: FromPath[str]) -> EventTotals:
        """What a charity fair shows everyone: totals per #SocialCause cause and overall."""
        return await event_totals((await events.get_event(event)).id)

    @get("/api/events/{event:str}/sales.csv", media_type="text/csv")
    async def sales_csv(self, event: FromPath[str], actor: ActorDep) -> Response[bytes]:
        row = await events.owned_event(actor, event)
        return _csv(await sales_csv(row["id"]), f"{row['slug']}-sales.csv")

    @get("/api/events/{event:str}/cause-totals.csv", media_type="text/csv")
    async def cause_csv(self, event: FromPath[str], actor: ActorDep) -> Response[bytes]:
        row = await events.owned_event(actor, event)
        return _csv(await cause_totals_csv(row["id"]), f"{row['slug']}-cause-totals.csv")

    @post("/api/items/{item_id:uuid}/hidden", status_code=200)
    async def hide_item(
        self, item_id: FromPath[UUID], data: JSONBody[HiddenInput], services: ServicesDep, actor: ActorDep
    ) -> ItemView:
        return await items.set_item_hidden(services, actor, item_id, data.hidden)

    @post("/api/stalls/{code:str}/hidden", status_code=200)
    async def hide_stall(
        self, code: FromPath[str], data: JSONBody[HiddenInput], services: ServicesDep, actor: ActorDep
    ) -> StallView:
        return await stalls.set_stall_hidden(services, actor, code, data.hidden)

    @patch("/api/stalls/{code:str}/place")
    async def place_stall(
        self, code: FromPath[str], data: JSONBody[StallPlace], services: ServicesDep, actor: ActorDep
    ) -> StallView:
        """The organizer sets a stall's number and place at the market."""
        return await stalls.place_stall(services, actor, code, data)

    @get("/api/events/{event:str}/setup/stalls")
    async def setup_stalls(
        self, event: FromPath[str], services: ServicesDep, actor: ActorDep
    ) -> list[OrganizerStallView]:
        """Every stall, hidden ones too, with its vendor and how many items it lists."""
        return await stalls.organizer_stalls(services, actor, event)

    @get("/api/events/{event:str}/uncredited-items")
    async def uncredited(self, event: FromPath[str], actor: ActorDep) -> list[UncreditedItem]:
        """Items tagged #SocialCause that count for no cause, with what they sold so far."""
        return await items.uncredited_items(actor, event)

    @post("/api/items/{item_id:uuid}/cause", status_code=200)
    async def assign_cause(
        self, item_id: FromPath[UUID], data: JSONBody[CauseChoice], services: ServicesDep, actor: ActorDep
    ) -> ItemView:
        """Credit an item that names no cause to one of the event's causes, its sales so far too."""
        return await items.assign_cause(services, actor, item_id, data.cause)

    @post("/api/messages/{message_id:uuid}/report", status_code=201)
    async def report(
        self, message_id: FromPath[UUID], data: JSONBody[ReportInput], services: ServicesDep, actor: ActorDep
    ) -> ReportView:
        await services.limits.hit(REPORTS_PER_REPORTER, caller_key(actor))
        return await moderation.report_message(actor, message_id, data.reason)

    @get("/api/events/{event:str}/reports")
    async def reports(self, event: FromPath[str], actor: ActorDep) -> list[ReportView]:
        return await moderation.list_reports(actor, event)

    @post("/api/events/{event:str}/blocked-devices", status_code=204)
    async def block(self, event: FromPath[str], data: JSONBody[BlockInput], actor: ActorDep) -> None:
        """Block a visitor device from chatting at the whole event; `blocked: false` lifts every
        block of that device at the event, vendors' blocks and followed ones included."""
        await blocks.block_device(actor, event, data.device_id, data.blocked)

    @get("/api/events/{event:str}/blocked-devices")
    async def blocked(self, event: FromPath[str], actor: ActorDep) -> list[BlockView]:
        """Every block at the event: the organizer's, the vendors', and those that followed a
        blocked visitor to a new device from the same address."""
        return await blocks.list_blocks(actor, event)

    @post("/api/events/{event:str}/kiosk-tokens", status_code=201)
    async def kiosk_token(
        self, event: FromPath[str], data: JSONBody[KioskTokenInput], services: ServicesDep, actor: ActorDep
    ) -> KioskTokenOut:
        return await kiosk_tokens.create_kiosk_token(actor, event, data.label, services.settings.base_url)

    @get("/api/events/{event:str}/kiosk-tokens")
    async def kiosk_token_list(self, event: FromPath[str], actor: ActorDep) -> list[KioskTokenView]:
        """The event's entrance-screen tokens (label, created; `id` is not the token)."""
        return await kiosk_tokens.list_kiosk_tokens(actor, event)

    @delete("/api/events/{event:str}/kiosk-tokens/{token_id:str}", status_code=204)
    async def kiosk_token_revoke(self, event: FromPath[str], token_id: FromPath[str], actor: ActorDep) -> None:
        """That screen's next check is refused (401) and it shows its token gate."""
        await kiosk_tokens.revoke_kiosk_token(actor, event, token_id)

    @get("/api/kiosk/{event:str}")
    async def kiosk_setup(
        self, event: FromPath[str], services: ServicesDep, token: FromHeader[str | None] = None
    ) -> KioskSetup:
        """What an entrance screen needs; the header `token` is the organizer's kiosk token."""
        event_id = await kiosk_tokens.kiosk_event(token, event)
        view = await events.get_event(str(event_id))
        return KioskSetup(
            view,
            await stalls.list_stalls(services, event_id),
            await events.list_causes(event_id),
            await event_totals(event_id),
        )

    @get("/api/events/{event:str}/signs.pdf", media_type="application/pdf")
    async def all_signs(
        self,
        event: FromPath[str],
        services: ServicesDep,
        actor: ActorDep,
        page: Annotated[str, QueryParameter(description="a4 or letter")] = "a4",
    ) -> Response[bytes]:
        """Every stall's QR sign, one per page, for the organizer to print in one go."""
        row = await events.owned_event(actor, event)
        size = _page_size(page)
        listed = await stalls.list_stalls(services, row["id"])
        sign_event = SignEvent(row["name"], row["hashtag"])
        signs = [SignStall(s.name, s.number, s.location, s.store_tag, s.url) for s in listed]
        fonts = services.settings.font_dirs
        pdf = await anyio.to_thread.run_sync(lambda: stall_signs_pdf(signs, sign_event, size, font_dirs=fonts))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{row["slug"]}-signs.pdf"'},
        )

    @get("/s/{code:str}/sign.svg", media_type="image/svg+xml", include_in_schema=False)
    async def sign_svg(self, code: FromPath[str], services: ServicesDep) -> Response[str]:
        stall = await stalls.visible_stall(services, None, code)
        event = await events.get_event(str(stall.event_id))
        svg = stall_sign_svg(
            SignStall(stall.name, stall.number, stall.location, stall.store_tag, stall.url),
            SignEvent(event.name, event.hashtag),
            font_dirs=services.settings.font_dirs,
        )
        return Response(svg, media_type="image/svg+xml")

    @get("/s/{code:str}/sign.pdf", media_type="application/pdf", include_in_schema=False)
    async def sign_pdf(
        self, code: FromPath[str], services: ServicesDep, page: Annotated[str, QueryParameter()] = "a4"
    ) -> Response[bytes]:
        stall = await stalls.visible_stall(services, None, code)
        event = await events.get_event(str(stall.event_id))
        sign = SignStall(stall.name, stall.number, stall.location, stall.store_tag, stall.url)
        size = _page_size(page)
        fonts = services.settings.font_dirs
        pdf = await anyio.to_thread.run_sync(
            lambda: stall_signs_pdf([sign], SignEvent(event.name, event.hashtag), size, font_dirs=fonts)
        )
        return Response(pdf, media_type="application/pdf")

    @get("/api/stalls/{code:str}/price-tags.pdf", media_type="application/pdf")
    async def price_tags(
        self,
        code: FromPath[str],
        services: ServicesDep,
        actor: ActorDep,
        page: Annotated[str, QueryParameter()] = "a4",
    ) -> Response[bytes]:
        """A sheet of small price tags with QR codes, for the stall's own vendor."""
        row = await stalls.owned_stall(actor, code)
        event = await events.get_event(str(row["event"]))
        listed = await items.list_items(
            UUID(str(row["event"])), stall_id=UUID(str(row["id"])), limit=500, states=("available", "reserved")
        )
        base = services.settings.base_url
        tags = [PriceTag(i.title, format_money(i.price, i.currency), f"{base}/s/{code}?item={i.id}") for i in listed]
        size = _page_size(page)
        sign_event, fonts = SignEvent(event.name, event.hashtag), services.settings.font_dirs
        pdf = await anyio.to_thread.run_sync(lambda: price_tags_pdf(tags, sign_event, size, font_dirs=fonts))
        return Response(pdf, media_type="application/pdf")
