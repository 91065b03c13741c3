"""Server-rendered pages a QR code opens: they work on any phone before any JavaScript loads.

The stall page is the web app's shell (pwa/index.html) with the stall rendered inside <main>:
readable at once, even with scripts off; the app then takes over from its offline replica. Its
stylesheet is inline (`server/api/inline_assets.py`): on a slow link the page paints from its
HTML alone, without waiting a round trip for it. Its prices are written in the reader's
language (Accept-Language, `server/api/languages.py`), as the app will write them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from babel import Locale
from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath

from server.api.deps import ServicesDep
from server.api.inline_assets import inline_head
from server.api.languages import reader_locale
from server.api.pwa import shell_page
from server.domain import events, items, stalls
from server.domain.money import format_money_for
from server.domain.views import ItemView, StallView
from server.printing.qr import qr_png, qr_svg

_STYLESHEET = "/app/pages.css"  # not an inline <style>: the CSP allows only this origin's stylesheets


class PageController(Controller):
    include_in_schema = False

    @get("/s/{code:str}", media_type=MediaType.HTML)
    async def stall_page(
        self, code: FromPath[str], services: ServicesDep, request: Request[Any, Any, Any]
    ) -> Response[str]:
        stall = await stalls.visible_stall(services, None, code)
        event = await events.get_event(str(stall.event_id))
        listed = await items.list_items(event.id, stall_id=stall.id, limit=500)
        locale = reader_locale(request.headers.get("accept-language"))
        return Response(
            _stall_html(stall, event.slug, event.name, event.hashtag, listed, locale),
            media_type=MediaType.HTML,
            headers={"Cache-Control": "no-cache", "Vary": "Accept-Language"},
        )

    @get("/s/{code:str}/qr.svg", media_type="image/svg+xml")
    async def stall_qr_svg(self, code: FromPath[str], services: ServicesDep) -> Response[bytes]:
        stall = await stalls.visible_stall(services, None, code)
        return Response(qr_svg(stall.url), media_type="image/svg+xml", headers=_cache_day())

    @get("/s/{code:str}/qr.png", media_type="image/png")
    async def stall_qr_png(self, code: FromPath[str], services: ServicesDep) -> Response[bytes]:
        stall = await stalls.visible_stall(services, None, code)
        return Response(qr_png(stall.url), media_type="image/png", headers=_cache_day())

    @get("/", media_type=MediaType.HTML)
    async def home(self) -> Response[str]:
        listed = await events.list_events()
        links = "".join(
            f'<li><a href="/e/{escape(e.slug)}">{escape(e.name)}</a> <span class="meta">{escape(e.hashtag)}</span></li>'
            for e in listed
        )
        body = f"<h1>Souk</h1><ul>{links or '<li>No events yet.</li>'}</ul>"
        return Response(_page("Souk", body), media_type=MediaType.HTML)

    @get("/e/{slug:str}", media_type=MediaType.HTML)
    async def event_page(self, slug: FromPath[str], services: ServicesDep) -> Response[str]:
        event = await events.get_event(slug)
        listed = await stalls.list_stalls(services, event.id)
        links = "".join(
            f'<li><a href="/s/{escape(s.code)}" dir="auto">{escape(s.name)}</a>'
            f' <span class="meta">{escape(s.number)} {escape(s.store_tag)}</span></li>'
            for s in listed
        )
        body = f'<h1 dir="auto">{escape(event.name)}</h1><p class="meta">{escape(event.venue)}</p><ul>{links}</ul>'
        return Response(_page(event.name, body), media_type=MediaType.HTML)


def _stall_html(
    stall: StallView, event_slug: str, event_name: str, event_tag: str, listed: list[ItemView], locale: Locale
) -> str:
    """The same markup the app's stall view draws, so nothing jumps when it takes over."""
    rows = "".join(_item_li(item, locale) for item in listed) or '<p class="empty">Nothing listed yet.</p>'
    where = " · ".join(
        escape(x) for x in (f"Stall {stall.number}" if stall.number else "", stall.location, stall.store_tag) if x
    )
    code = escape(stall.code)
    body = (
        f'<section class="stall wrap" data-stall="{code}" data-event="{escape(event_slug)}">'
        f'<p class="crumb"><span dir="auto">{escape(event_name)}</span> · {escape(event_tag)}</p>'
        f'<h1 id="page-title" dir="auto">{escape(stall.name)}</h1>'
        f'<p class="meta">{where}</p>'
        + (f'<p class="desc" dir="auto">{escape(stall.description)}</p>' if stall.description else "")
        + '<div class="actions">'
        f'<a class="button primary" href="/app/#/chat/{code}">Message the seller</a>'
        f'<a class="button" href="/app/#/?stall={code}">Search this stall</a>'
        '<a class="button" href="/app/#/">Whole market</a></div>'
        f"<h2>Items ({len(listed)})</h2>"
        + (f'<ul class="items" aria-label="Items at {escape(stall.name)}">{rows}</ul>' if listed else rows)
        + "</section>"
    )
    return inline_head(shell_page(f"{stall.name} — {event_name} · Souk", body))


def _item_li(item: ItemView, locale: Locale) -> str:
    thumb = escape(item.photos[0].thumb) if item.photos else _PLACEHOLDER
    sold = item.state == "sold"
    state = {"sold": "Sold", "reserved": "Reserved"}.get(item.state) or (
        f"Available · {item.quantity} left" if item.quantity > 1 else "Available"
    )
    return (
        f'<li class="item-row state-{escape(item.state)}" id="item-{item.id}">'
        f'<a class="item-link" href="/app/#/i/{item.id}">'
        # No inline onerror (the CSP forbids it): app.js swaps a broken img.thumb for the placeholder.
        f'<img class="thumb" src="{thumb}" alt="" width="72" height="72" loading="lazy" decoding="async">'
        f'<span class="item-text"><span class="title" dir="auto">{escape(item.title)}</span>'
        f'<span class="price">{escape(format_money_for(item.price, item.currency, locale))}</span>'
        f'<span class="state">{"Sold" if sold else escape(state)}</span></span></a></li>'
    )


_PLACEHOLDER = "/app/icons/placeholder.svg"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="{_STYLESHEET}"></head><body>{body}</body></html>'
    )


def _cache_day() -> dict[str, str]:
    return {"Cache-Control": "public, max-age=86400"}
