"""A front end served as it is on disk (the app in pwa/, the kiosk pages in kiosk/).

Both are read once per process into a `Bundle`: every servable file with its ETag, a build hash
over all of them, and the service worker with that build filled into its `const BUILD = {...};`
line, so any change to any file makes a new worker (its cache names carry the hash). Files are
answered with 304 when the browser already holds the bytes: revalidation is cheap on 2G.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.status_codes import HTTP_304_NOT_MODIFIED

MEDIA_TYPES = {
    ".html": "text/html",  # Litestar adds "; charset=utf-8" to text/* types
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}
WORKER = "sw.js"
_BUILD_LINE = re.compile(r"^const BUILD = \{[^\n]*?\};", re.M)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@dataclass(frozen=True)
class Bundle:
    version: str
    assets: dict[str, Asset]  # path under the folder -> file (the worker's source included)
    worker: Asset  # sw.js with the build filled in


def read_bundle(folder: Path, worker_build: Callable[[str, list[str]], dict[str, Any]]) -> Bundle:
    """Every servable file below `folder` (no Python); `worker_build(version, names)` is the
    BUILD object handed to the service worker."""
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix in MEDIA_TYPES and "__pycache__" not in p.parts
    )
    digest = hashlib.sha256()
    assets: dict[str, Asset] = {}
    for path in files:
        name = path.relative_to(folder).as_posix()
        body = path.read_bytes()
        digest.update(name.encode() + b"\0" + body + b"\0")
        assets[name] = Asset(body, MEDIA_TYPES[path.suffix], '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    version = digest.hexdigest()[:12]
    line = "const BUILD = " + json.dumps(worker_build(version, list(assets))) + ";"
    worker = _BUILD_LINE.sub(lambda _: line, assets[WORKER].body.decode(), count=1).encode()
    return Bundle(version, assets, Asset(worker, MEDIA_TYPES[".js"], f'"{version}"'))


def send(request: Request[Any, Any, Any], asset: Asset, headers: dict[str, str] | None = None) -> Response[bytes]:
    """The file, or 304 when the browser already has these bytes."""
    all_headers = {"Cache-Control": "no-cache", "ETag": asset.etag, "X-Content-Type-Options": "nosniff"}
    all_headers.update(headers or {})
    if request.headers.get("if-none-match") == asset.etag:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=all_headers)
    return Response(asset.body, media_type=asset.media_type, headers=all_headers)
