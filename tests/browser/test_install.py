"""The app is installable by Chromium's own verdict, and its manifest's icons are real PNGs."""

from __future__ import annotations

import io

import httpx
from PIL import Image
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import Market, open_controlled


def test_chromium_finds_the_app_installable(context: BrowserContext, page: Page, market: Market) -> None:
    open_controlled(page, f"{market.base}/s/{market.stalls['honey']['code']}")
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == f"{market.base}/manifest.webmanifest"
    assert not manifest.get("errors")


def test_manifest_and_its_icons(market: Market) -> None:
    with httpx.Client(base_url=market.base) as http:
        response = http.get("/manifest.webmanifest")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/manifest+json")
        manifest = response.json()
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/app/" and manifest["scope"] == "/"
        assert manifest["id"] and manifest["name"] and manifest["short_name"]
        purposes = set()
        for icon in manifest["icons"]:
            got = http.get(icon["src"])
            assert got.status_code == 200 and got.headers["content-type"] == "image/png"
            image = Image.open(io.BytesIO(got.content))
            assert f"{image.width}x{image.height}" == icon["sizes"]
            purposes.add(icon.get("purpose", "any"))
        assert {"any", "maskable"} <= purposes
        assert max(int(i["sizes"].split("x")[0]) for i in manifest["icons"]) >= 144
        worker = http.get("/sw.js")
        assert worker.status_code == 200 and worker.headers["cache-control"] == "no-cache"
        assert worker.headers["content-type"].startswith("text/javascript")
        assert '"version": "dev"' not in worker.text  # the build fills in its version
        assert http.get("/app").status_code in (200, 301, 302, 307, 308)
        shell = http.get("/app/")
        assert shell.status_code == 200 and '<main id="main"' in shell.text
        assert http.get("/app/sw.js").status_code == 404
        assert http.get("/app/../server/settings.py").status_code == 404
        etag = http.get("/app/app.js").headers["etag"]
        assert http.get("/app/app.js", headers={"If-None-Match": etag}).status_code == 304
