"""Serving the kiosk, stall-mode and organizer dashboard pages (kiosk/).

- `/kiosk/{event}`, `/kiosk/stall/{code}` and `/kiosk/dashboard/{event}` are static shells: the
  script reads the event slug or stall code from the address, so a shell cached by the service
  worker opens any event while offline.
- `/kiosk-assets/{file}` serves the ES modules and CSS from wherever the `kiosk` package is
  installed (never the package's Python; see `server/api/bundle.py`).
- The pages import the browser toolkit shared with the app (`pwa/kit/`, served by
  `server/api/pwa.py` at `/app/kit/...`) by absolute URL.
- `/kiosk-assets/sw.js` is the service worker; `Service-Worker-Allowed: /kiosk/` lets it control
  the pages. It is handed the build hash and the list of files to precache (the toolkit's
  included), so any change to any of them installs a new worker.
- `/kiosk-qr.svg?url=...` renders a QR code for a link to this market only (a URL under the
  server's own base URL); anything else is refused with 422 so the route can't be used to
  dress up somebody else's link with the market's QR styling.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter

import kiosk
from server.api import pwa
from server.api.bundle import WORKER, Asset, Bundle, read_bundle, send
from server.api.deps import ServicesDep
from server.domain.errors import Invalid
from server.printing.qr import qr_svg

KIOSK_DIR = Path(kiosk.__file__).resolve().parent
ASSETS = "/kiosk-assets"
SCOPE = "/kiosk/"
PAGES = {"kiosk": "kiosk.html", "stall": "stall.html", "dashboard": "dashboard.html"}
MAX_QR_URL = 2000
_NO_REFERRER = {"Referrer-Policy": "no-referrer"}  # a kiosk address can carry its token in the fragment


@cache
def build() -> Bundle:
    bundle = read_bundle(KIOSK_DIR, _worker_build)
    # The worker's version (and so its ETag) covers the toolkit too: a change there alone
    # must still install a new kiosk worker.
    return replace(bundle, worker=replace(bundle.worker, etag=f'"{bundle.version}-{_kit_version()}"'))


def _kit_urls() -> list[str]:
    """The toolkit modules the kiosk pages import (pwa/kit/*, served at /app/kit/...)."""
    return [f"/app/{name}" for name in pwa.build().assets if name.startswith(pwa.KIT)]


def _kit_version() -> str:
    assets = pwa.build().assets
    return pwa.digest(assets[name] for name in assets if name.startswith(pwa.KIT))


def _worker_build(version: str, names: list[str]) -> dict[str, Any]:
    shell = [f"{ASSETS}/{name}" for name in names if name != WORKER] + _kit_urls()
    return {"version": f"{version}-{_kit_version()}", "shell": shell, "pages": PAGES}


def _send(request: Request[Any, Any, Any], asset: Asset, extra: dict[str, str] | None = None) -> Response[bytes]:
    return send(request, asset, {**_NO_REFERRER, **(extra or {})})


def _page(request: Request[Any, Any, Any], mode: str) -> Response[bytes]:
    return _send(request, build().assets[PAGES[mode]])


@get("/kiosk/{event:str}", include_in_schema=False)
async def kiosk_page(request: Request[Any, Any, Any], event: FromPath[str]) -> Response[bytes]:
    """The entrance screen; the organizer opens `<base>/kiosk/<slug>#token=<kiosk token>`."""
    return _page(request, "kiosk")


@get("/kiosk/stall/{code:str}", include_in_schema=False)
async def stall_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Response[bytes]:
    """A vendor's tablet on the stall: its QR large, its items, a cue on new messages."""
    return _page(request, "stall")


@get("/kiosk/dashboard/{event:str}", include_in_schema=False)
async def dashboard_page(request: Request[Any, Any, Any], event: FromPath[str]) -> Response[bytes]:
    """The organizer's live totals, exports, signs, kiosk tokens and moderation."""
    return _page(request, "dashboard")


@get(f"{ASSETS}/{WORKER}", include_in_schema=False)
async def kiosk_worker(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Never cached by HTTP, so a new build is noticed on the next visit."""
    return _send(request, build().worker, {"Service-Worker-Allowed": SCOPE})


@get(ASSETS + "/{name:str}", include_in_schema=False)
async def kiosk_asset(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    asset = build().assets.get(name)
    if asset is None or name == WORKER:
        raise NotFoundException(f"No such kiosk file: {name}")
    return _send(request, asset)


def is_own_url(url: str, base_url: str) -> bool:
    """Whether `url` is an absolute link under `base_url` (same scheme, host, port and path prefix)."""
    if not url or len(url) > MAX_QR_URL or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        return False
    try:
        target, base = urlsplit(url), urlsplit(base_url.rstrip("/"))
        same_origin = (target.scheme, target.netloc.lower()) == (base.scheme, base.netloc.lower())
    except ValueError:  # e.g. an invalid port or IPv6 literal
        return False
    prefix = base.path.rstrip("/")
    return same_origin and (target.path == prefix or target.path.startswith(prefix + "/"))


@get("/kiosk-qr.svg", include_in_schema=False)
async def kiosk_qr(
    services: ServicesDep,
    url: Annotated[str, QueryParameter(description="a link under this server's base URL")],
) -> Response[bytes]:
    """A QR code for an item or any other page of this market, for the kiosk to show large."""
    if not is_own_url(url, services.settings.base_url):
        raise Invalid(f"url must be a link under {services.settings.base_url}/", field="url")
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(qr_svg(url), media_type="image/svg+xml", headers=headers)


kiosk_handlers: list[Any] = [kiosk_page, stall_page, dashboard_page, kiosk_worker, kiosk_asset, kiosk_qr]
