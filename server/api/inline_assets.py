"""The stall page's render-blocking stylesheet, inlined into its HTML, and its CSP hash.

A visitor who scans a stall's QR code on a slow link waits for the HTML, then for every
stylesheet its <head> links before anything is painted: a round trip, and on a first visit one
that shares the link with the app's ~30 module downloads. So the server-rendered stall page
carries the app's stylesheet (pwa/app.css, 12 KB, ~3 KB gzipped) in its HTML: it paints, styled,
from its own bytes alone. (Its prices need no script either: the server writes them in the
reader's language, `server/api/languages.py`.)

The stylesheet stays a file in pwa/ (precached by the service worker for the bare /app/ shell);
the page copies it as served. The CSP allows exactly these bytes by hash
(`server/api/security_headers.py`), never 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache

from server.api.pwa import build

STYLESHEET = "app.css"
# The shell's (pwa/index.html) tag the stall page replaces with the file's contents.
_LINKED_STYLE = f'<link rel="stylesheet" href="/app/{STYLESHEET}">'


@dataclass(frozen=True)
class InlineAssets:
    style: str  # the <style> element's text
    style_hash: str  # its CSP source, "'sha256-…'"


def csp_hash(text: str) -> str:
    """The CSP hash source that allows an inline element whose text is exactly `text`."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def inline_assets() -> InlineAssets:
    """The stylesheet as the app serves it (read once per process, like the rest of the app)."""
    style = build().assets[STYLESHEET].body.decode("utf-8")
    if "</style" in style.lower():  # its text must not end the element it is inlined in
        raise ValueError(f"pwa/{STYLESHEET} cannot be inlined as it is")
    return InlineAssets(style, csp_hash(style))


def inline_head(html: str) -> str:
    """`html` (the shell with a rendered <main>) with its stylesheet inline."""
    if html.count(_LINKED_STYLE) != 1:
        raise ValueError(f"the shell must link {_LINKED_STYLE} once")
    return html.replace(_LINKED_STYLE, f"<style>{inline_assets().style}</style>", 1)
