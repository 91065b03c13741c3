"""Security headers on every HTTP response the routes send (pages, API answers, photos, assets).

- A strict Content-Security-Policy: scripts, styles, fonts, workers and the manifest only from
  this origin; no inline script or style, no eval; images also from `data:` and `blob:` (camera
  previews, QR codes); the realtime socket only to this market's own origin; no framing. The
  stall page a QR code opens (`/s/{code}`) carries its stylesheet inline so it paints from its
  HTML alone: its policy allows that exact text by SHA-256 hash (`server/api/inline_assets.py`),
  nothing else inline.
- `X-Frame-Options: DENY` for browsers without `frame-ancestors`, `nosniff` so an upload is never
  run as another type, `Cross-Origin-Opener-Policy`, a Referrer-Policy, and a Permissions-Policy
  that keeps the camera (vendors photograph their items) for this origin and turns off the rest.
- `Strict-Transport-Security` only when the market is served over https.
- Files a page loads into itself (scripts, stylesheets, raster images, the manifest) get
  `nosniff` and nothing else: the other headers act only on documents and workers, and on a
  first visit over HTTP/1.1 they were ~800 bytes on each of ~40 such responses, a quarter of the
  app's script bytes on the wire. Anything a browser could show as a document keeps the full
  set (HTML, SVG, JSON and every API answer, errors), and so do the service workers' scripts
  (a worker takes its policy from its script's response).

A header a route handler set itself is left as it is (the kiosk pages' `no-referrer`, say).
The Swagger UI under `/api/schema` loads its code from a CDN and starts it with an inline script,
so it alone gets a looser CSP (still not frameable); the app's own pages never do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.api.inline_assets import inline_assets

DOCS_PREFIX = "/api/schema"
_DOCS_CDN = "https://cdn.jsdelivr.net"
STALL_PAGE = re.compile(r"/s/[^/]+/?")  # the server-rendered stall page (fullmatch), not its QR images

# Only features Chromium knows: an unknown one ("bluetooth", say) is an error in every page's console.
PERMISSIONS_POLICY = ", ".join(
    [
        "camera=(self)",
        *(
            f"{feature}=()"
            for feature in (
                "microphone",
                "geolocation",
                "payment",
                "usb",
                "serial",
                "hid",
                "midi",
                "magnetometer",
                "gyroscope",
                "accelerometer",
                "display-capture",
                "browsing-topics",
            )
        ),
    ]
)


def websocket_origin(base_url: str) -> str:
    """The market's own socket origin, `ws://host:port` (or `wss://` when served over https)."""
    base = urlsplit(base_url)
    return f"{'wss' if base.scheme == 'https' else 'ws'}://{base.netloc.lower()}"


def content_security_policy(base_url: str, *, style_hashes: Sequence[str] = ()) -> str:
    """The app's policy; `style_hashes` ("'sha256-…'") allow those exact inline styles, no other."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": " ".join(["'self'", *style_hashes]),
        "img-src": "'self' data: blob:",
        # 'self' covers same-origin sockets in CSP 3 browsers; the explicit origin is for older Safari.
        "connect-src": f"'self' {websocket_origin(base_url)}",
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        f"script-src {_DOCS_CDN} 'unsafe-inline'",
        f"style-src {_DOCS_CDN} 'unsafe-inline'",
        f"img-src 'self' data: {_DOCS_CDN}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def stall_page_csp(base_url: str) -> str:
    """The policy of `/s/{code}`: the app's, plus the hash of its inline stylesheet."""
    return content_security_policy(base_url, style_hashes=[inline_assets().style_hash])


def security_headers(base_url: str) -> dict[str, str]:
    """The headers every response carries (names in lower case)."""
    headers = {
        "content-security-policy": content_security_policy(base_url),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": PERMISSIONS_POLICY,
    }
    if urlsplit(base_url).scheme == "https":
        headers["strict-transport-security"] = "max-age=31536000"
    return headers


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


# What a page loads into itself and never shows as a document (an SVG can be one: not here).
SUBRESOURCE_TYPES = (
    "text/javascript",
    "application/javascript",
    "text/css",
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/manifest+json",
)
WORKER_SCRIPTS = frozenset({"/sw.js", "/kiosk-assets/sw.js"})


def is_subresource(path: str, headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a response is a file a page loads into itself (not a document, not a worker)."""
    if path in WORKER_SCRIPTS:
        return False
    kind = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    media = kind.decode("latin-1").partition(";")[0].strip().lower()
    return media in SUBRESOURCE_TYPES


class SecurityHeadersMiddleware(ASGIMiddleware):
    """Adds `security_headers(base_url)` to each `http.response.start` that lacks them."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, base_url: str) -> None:
        headers = security_headers(base_url)
        self.headers = _encoded(headers)
        self.docs_headers = _encoded({**headers, "content-security-policy": DOCS_CSP})
        self.stall_headers = _encoded({**headers, "content-security-policy": stall_page_csp(base_url)})
        self.subresource_headers = _encoded({"x-content-type-options": "nosniff"})

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path: str = scope["path"]
        if path == DOCS_PREFIX or path.startswith(DOCS_PREFIX + "/"):
            extra = self.docs_headers
        elif STALL_PAGE.fullmatch(path):
            extra = self.stall_headers
        else:
            extra = self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                adding = self.subresource_headers if is_subresource(path, headers) else extra
                headers.extend(header for header in adding if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await next_app(scope, receive, send_with_headers)
