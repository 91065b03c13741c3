"""The stall page's render-blocking files, inlined into its HTML, and their CSP hashes.

A visitor who scans a stall's QR code on a slow link waits for the HTML, then for every
stylesheet and classic script its <head> links before anything is painted: each one a round
trip, and on a first visit one that shares the link with the app's ~30 module downloads. So the
server-rendered stall page carries the app's stylesheet (pwa/app.css, 12 KB, ~3 KB gzipped) and
the first-paint script (pwa/first-paint.js: rewrites "4.50 GBP" into the phone's locale's
"£4.50" before the first paint) in its HTML: it paints, styled, from its own bytes alone.

Both stay files in pwa/ (checked by ESLint and tsc, precached by the service worker for the
bare /app/ shell); the page copies them as served. The CSP allows exactly these bytes by hash
(`server/api/security_headers.py`), never 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache

from server.api.pwa import build

STYLESHEET = "app.css"
FIRST_PAINT = "first-paint.js"
# The shell's (pwa/index.html) tags the stall page replaces with the files' contents.
_LINKED_STYLE = f'<link rel="stylesheet" href="/app/{STYLESHEET}">'
_LINKED_SCRIPT = f'<script src="/app/{FIRST_PAINT}"></script>'


@dataclass(frozen=True)
class InlineAssets:
    style: str  # the <style> element's text
    script: str  # the <script> element's text
    style_hash: str  # its CSP source, "'sha256-…'"
    script_hash: str


def csp_hash(text: str) -> str:
    """The CSP hash source that allows an inline element whose text is exactly `text`."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def inline_assets() -> InlineAssets:
    """The two files as the app serves them (read once per process, like the rest of the app)."""
    assets = build().assets
    style = assets[STYLESHEET].body.decode("utf-8")
    script = assets[FIRST_PAINT].body.decode("utf-8")
    # Their text must not end the element it is inlined in.
    if "</style" in style.lower() or "</script" in script.lower() or "<!--" in script:
        raise ValueError(f"pwa/{STYLESHEET} or pwa/{FIRST_PAINT} cannot be inlined as it is")
    return InlineAssets(style, script, csp_hash(style), csp_hash(script))


def inline_head(html: str) -> str:
    """`html` (the shell with a rendered <main>) with its stylesheet and first-paint script inline."""
    if html.count(_LINKED_STYLE) != 1 or html.count(_LINKED_SCRIPT) != 1:
        raise ValueError(f"the shell must link {_LINKED_STYLE} and {_LINKED_SCRIPT} once each")
    inline = inline_assets()
    html = html.replace(_LINKED_STYLE, f"<style>{inline.style}</style>", 1)
    return html.replace(_LINKED_SCRIPT, f"<script>{inline.script}</script>", 1)
