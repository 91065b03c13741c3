"""Security finding 10: every response carries the security headers, and every page of the
market passes a strict Content-Security-Policy (no inline script or style, not frameable). The
one inline text allowed is the stall page's stylesheet (issue 15: it paints from its HTML alone),
by its SHA-256 hash, never by 'unsafe-inline'; no page has an inline script.

The browser side (no page logs a violation) is tests/browser/test_csp.py and the CSP guard in the
browser suites' conftest files; this file checks the HTTP answers and the markup itself.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
from litestar import Litestar, get
from litestar.testing import TestClient
from PIL import Image

from server.api.inline_assets import csp_hash, inline_assets
from server.api.security_headers import SecurityHeadersMiddleware, content_security_policy, security_headers
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent.parent
BASE = "http://127.0.0.1:8000"  # the test settings' base URL

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
INLINE_MARKUP = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style[\s>]", re.I), "an inline <style>"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in out, f"{name} given twice in {policy!r}"
        out[name] = values
    return out


HASH_SOURCE = re.compile(r"'sha256-[A-Za-z0-9+/]{43}='")
INLINE_ELEMENT = re.compile(r"<(style|script)>(.*?)</\1>", re.S | re.I)


def hashes(policy: str, directive: str) -> list[str]:
    return [value for value in directives(policy)[directive] if HASH_SOURCE.fullmatch(value)]


def assert_strict_csp(policy: str) -> None:
    found = directives(policy)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy and "'unsafe-hashes'" not in policy
    assert found["default-src"] == ["'self'"]
    # Besides this origin, only hashes of exact inline texts (the stall page's; checked there).
    assert [v for v in found["script-src"] if not HASH_SOURCE.fullmatch(v)] == ["'self'"]
    assert [v for v in found["style-src"] if not HASH_SOURCE.fullmatch(v)] == ["'self'"]
    assert found["img-src"] == ["'self'", "data:", "blob:"]
    assert found["connect-src"] == ["'self'", "ws://127.0.0.1:8000"], "sockets only to this market"
    assert found["worker-src"] == ["'self'"] and found["manifest-src"] == ["'self'"]
    assert found["object-src"] == ["'none'"] and found["base-uri"] == ["'none'"]
    assert found["form-action"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]


def assert_secured(response: httpx.Response, what: str) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, f"{what}: {name} is {response.headers.get(name)!r}"
    assert response.headers.get("referrer-policy") in ("strict-origin-when-cross-origin", "no-referrer"), what
    permissions = response.headers.get("permissions-policy", "")
    assert "camera=(self)" in permissions, what
    for feature in ("microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, f"{what}: {feature} not turned off"
    assert "strict-transport-security" not in response.headers, f"{what}: HSTS on a plain-http market"
    assert_strict_csp(response.headers.get("content-security-policy", "default-src"))


def without_hashed_inline_elements(html: str, policy: str) -> str:
    """`html` less its inline <style> and <script> elements, each of which the policy must allow
    by the hash of its exact text."""

    def allowed(match: re.Match[str]) -> str:
        directive = "style-src" if match.group(1).lower() == "style" else "script-src"
        assert csp_hash(match.group(2)) in hashes(policy, directive), f"an inline <{match.group(1)}> not in the CSP"
        return ""

    return INLINE_ELEMENT.sub(allowed, html)


def assert_no_inline_markup(html: str, what: str) -> None:
    for pattern, name in INLINE_MARKUP:
        match = pattern.search(html)
        assert match is None, f"{what} has {name}: {html[max(0, match.start() - 80) : match.end() + 80]!r}"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_every_html_page_carries_the_headers_and_a_strict_csp(client: httpx.AsyncClient, world: World) -> None:
    code = world.stall["code"]
    # An item with a photo, so the stall page has a real thumbnail (the markup that had an onerror).
    uploaded = await client.post("/api/photos", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}, headers=world.vendor)
    assert uploaded.status_code == 201, uploaded.text
    item = {"title": "Copper pan", "price": 2500, "photo_keys": [uploaded.json()["photo"]["key"]]}
    assert (await client.post(f"/api/stalls/{code}/items", json=item, headers=world.vendor)).status_code == 201
    assert (
        await client.post(f"/api/stalls/{code}/items", json={"title": "Jam", "price": 450}, headers=world.vendor)
    ).status_code == 201

    pages = [
        "/",
        "/e/ripe-jan",
        f"/s/{code}",
        "/app/",
        "/kiosk/ripe-jan",
        "/kiosk/dashboard/ripe-jan",
        f"/kiosk/stall/{code}",
    ]
    inline = inline_assets()
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html"), path
        assert_secured(response, path)
        policy = response.headers["content-security-policy"]
        html = response.text
        if path == f"/s/{code}":
            assert hashes(policy, "script-src") == [], policy
            assert hashes(policy, "style-src") == [inline.style_hash], policy
            html = without_hashed_inline_elements(html, policy)
        else:
            assert not HASH_SOURCE.search(policy), f"{path} allows an inline text: {policy}"
        assert_no_inline_markup(html, path)
    stall_page = (await client.get(f"/s/{code}")).text
    assert 'class="thumb"' in stall_page and "/photos/" in stall_page and "/app/icons/placeholder.svg" in stall_page


def assert_subresource(response: httpx.Response, what: str) -> None:
    """A file a page loads into itself: nosniff, and none of the document-only headers (bytes on
    every request of a first visit that no browser acts on for a script, stylesheet or photo)."""
    assert response.headers.get("x-content-type-options") == "nosniff", what
    for name in ("content-security-policy", "x-frame-options", "permissions-policy", "cross-origin-opener-policy"):
        assert name not in response.headers, f"{what}: {name} on a subresource"


async def test_page_stylesheets_are_served_from_this_origin(client: httpx.AsyncClient, world: World) -> None:
    for path in ("/", "/e/ripe-jan"):
        html = (await client.get(path)).text
        sheets = re.findall(r'<link rel="stylesheet" href="(/[^"]+)">', html)
        assert sheets, f"{path} links no stylesheet"
        for sheet in sheets:
            served = await client.get(sheet)
            assert served.status_code == 200 and served.headers["content-type"].startswith("text/css"), sheet
            assert_subresource(served, sheet)


async def test_kiosk_pages_keep_their_own_no_referrer(client: httpx.AsyncClient, world: World) -> None:
    """A header a route sets itself wins over the default (a kiosk link carries its token)."""
    for path in ("/kiosk/ripe-jan", "/kiosk/dashboard/ripe-jan", "/kiosk-assets/kiosk.js"):
        response = await client.get(path)
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert response.headers.get_list("referrer-policy") == ["no-referrer"], "one value, not two"


async def test_photos_and_assets_are_nosniff_and_documents_framed_by_nobody(
    client: httpx.AsyncClient, world: World
) -> None:
    uploaded = await client.post("/api/photos", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}, headers=world.vendor)
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()["photo"]
    for size in ("thumb", "detail", "original"):
        response = await client.get(photo[size])
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        assert_subresource(response, photo[size])
    code = world.stall["code"]
    subresources = [
        "/app/app.js",
        "/app/kit/wire.js",
        "/app/app.css",
        "/manifest.webmanifest",
        "/kiosk-assets/kiosk.js",
        f"/s/{code}/qr.png",
        "/app/icons/icon-192.png",
    ]
    for path in subresources:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_subresource(response, path)
    # Workers take their policy from their script; an SVG can be opened as a document.
    for path in ["/sw.js", "/kiosk-assets/sw.js", f"/s/{code}/qr.svg", "/app/icons/placeholder.svg"]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_secured(response, path)


async def test_api_answers_carry_nosniff_errors_included(client: httpx.AsyncClient, world: World) -> None:
    answers = [
        await client.get("/api/health"),
        await client.get("/api/events/ripe-jan"),
        await client.get(f"/api/stalls/{world.stall['code']}/items"),
        await client.get("/api/events/no-such-event"),  # 404 from the domain
        await client.post("/api/events", json={"name": "x"}, headers=world.organizer),  # 4xx validation
        await client.get("/api/conversations"),  # 401
        await client.get("/photos/" + "a" * 64 + "/320"),  # a missing photo
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:3] == [200, 200, 200] and all(s >= 400 for s in statuses[3:]), statuses
    for answer in answers:
        assert answer.headers.get("x-content-type-options") == "nosniff", (answer.request.url, answer.headers)
        assert_secured(answer, str(answer.request.url))


async def test_the_api_docs_page_is_still_not_frameable(client: httpx.AsyncClient, world: World) -> None:
    """Swagger UI needs its CDN and an inline start-up script: its own policy, on /api/schema only."""
    response = await client.get("/api/schema/swagger")
    assert response.status_code == 200
    found = directives(response.headers["content-security-policy"])
    assert found["frame-ancestors"] == ["'none'"] and found["object-src"] == ["'none'"]
    assert found["default-src"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"


def test_hsts_only_when_the_market_is_served_over_https() -> None:
    assert "strict-transport-security" not in security_headers("http://192.168.1.10:8000")
    secure = security_headers("https://market.example")
    assert secure["strict-transport-security"].startswith("max-age=")
    assert directives(secure["content-security-policy"])["connect-src"] == ["'self'", "wss://market.example"]
    with_port = directives(content_security_policy("https://market.example:8443/souk"))
    assert with_port["connect-src"] == ["'self'", "wss://market.example:8443"], "origin only: no path, never ws:"

    @get("/", sync_to_thread=False)
    def hello() -> str:
        return "hello"

    app = Litestar([hello], middleware=[SecurityHeadersMiddleware("https://market.example")])
    with TestClient(app) as test_client:
        response = test_client.get("/")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert response.headers["content-security-policy"] == content_security_policy("https://market.example")


def test_front_end_sources_need_no_inline_script_or_style() -> None:
    """The JS builds markup without style attributes, inline handlers or eval: the CSP would
    refuse them. (kiosk/sw.js's offline page is the one exception: its <style> is allowed by the
    hash in the policy that page carries.)"""
    forbidden = [
        (re.compile(r"setAttribute\(\s*[\"']style[\"']"), "setAttribute('style', ...)"),
        (re.compile(r"""["'`][^"'`\n]*\son[a-z]+=\\?["']"""), "an inline event handler in markup"),
        (re.compile(r"""["'`][^"'`\n]*\sstyle=\\?["']"""), "a style attribute in markup"),
        (re.compile(r"<style"), "an inline <style>"),
        (re.compile(r"\beval\(|new Function\(|javascript:"), "eval or a javascript: URL"),
    ]
    sources = sorted([*(ROOT / "pwa").glob("*.js"), *(ROOT / "kiosk").glob("*.js")])
    assert len(sources) > 20
    for source in sources:
        text = source.read_text(encoding="utf-8")
        if source.relative_to(ROOT).as_posix() == "kiosk/sw.js":
            text = text.replace("<style>${OFFLINE_STYLE}</style>", "")
        for pattern, name in forbidden:
            match = pattern.search(text)
            assert match is None, f"{source.name} has {name}: {match.group(0) if match else ''!r}"
    for page in sorted([*(ROOT / "pwa").glob("*.html"), *(ROOT / "kiosk").glob("*.html")]):
        assert_no_inline_markup(page.read_text(encoding="utf-8"), page.name)
