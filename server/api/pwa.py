"""Serving the installable web app (pwa/): shell, service worker, manifest, static modules.

The files are served as they are, from wherever the `pwa` package is installed (see
`server/api/bundle.py`), sub-folders included: `pwa/kit/` is the browser toolkit both the app
and the kiosk pages import (`/app/kit/<module>.js`; the kiosk's worker precaches it too). The
service worker is handed the build hash and the list of shell files to precache, so any change
to any file makes a new service worker, which the app offers to the visitor instead of
reloading under them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

import pwa
from server.api.bundle import WORKER, Asset, Bundle, read_bundle, send

PWA_DIR = Path(pwa.__file__).resolve().parent
SHELL = "index.html"
MANIFEST = "manifest.webmanifest"
KIT = "kit/"  # the shared browser toolkit, under /app/kit/
_SSR = re.compile(r"<!--ssr-->.*?<!--/ssr-->", re.S)
_TITLE = re.compile(r"<title>.*?</title>", re.S)


@cache
def build() -> Bundle:
    return read_bundle(PWA_DIR, _worker_build)


def digest(assets: Iterable[Asset]) -> str:
    """A short hash over files' ETags (the toolkit's version, for the kiosk's worker)."""
    return hashlib.sha256("".join(asset.etag for asset in assets).encode()).hexdigest()[:12]


def _worker_build(version: str, names: list[str]) -> dict[str, Any]:
    # "/app/" is index.html: precaching both would download the same bytes twice.
    shell = ["/app/", *(f"/app/{n}" for n in names if n not in (WORKER, MANIFEST, SHELL)), f"/{MANIFEST}"]
    return {"version": version, "shell": shell}


@get("/sw.js", include_in_schema=False)
async def service_worker(request: Request[Any, Any, Any]) -> Response[bytes]:
    """At the root, so its scope covers /s/* and /app*; never cached by HTTP, so updates are seen."""
    return send(request, build().worker)


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest(request: Request[Any, Any, Any]) -> Response[bytes]:
    return send(request, build().assets[MANIFEST])


@get("/app/", include_in_schema=False)
async def app_shell(request: Request[Any, Any, Any]) -> Response[bytes] | Redirect:
    """The shell at /app/ (Litestar routes /app here too: send it to the canonical /app/)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    if not raw.split(b"?")[0].endswith(b"/"):
        return Redirect("/app/")
    return send(request, build().assets[SHELL])


@get("/app/{path:path}", include_in_schema=False)
async def app_file(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[bytes]:
    """The modules, styles and icons under /app/ (and the shell as /app/index.html)."""
    name = path.strip("/")
    asset = build().assets.get(name)
    if asset is None or name == WORKER:
        raise NotFoundException(f"No such file in the app: {path}")
    return send(request, asset)


def shell_page(title: str, main_html: str) -> str:
    """The app shell with server-rendered content in <main>: readable before any script runs."""
    html = build().assets[SHELL].body.decode()
    html = _TITLE.sub(lambda _: f"<title>{escape(title)}</title>", html, count=1)
    return _SSR.sub(lambda _: f"<!--ssr-->{main_html}<!--/ssr-->", html, count=1)


pwa_handlers: list[Any] = [service_worker, manifest, app_shell, app_file]
