"""What a first visit downloads, sorted by who fetched it (page, service worker, first sync) and
what it is, with the bodies' size gzipped at level 6 as an estimate."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Request


@dataclass
class Row:
    requests: int = 0
    body: int = 0  # bytes of the bodies as received (encoded, if the server encoded them)
    headers: int = 0
    raw: int = 0  # bytes of the decoded bodies
    gzip6: int = 0  # what the decoded bodies would gzip to at level 6 (estimate)

    def add(self, body: int, headers: int, raw: bytes) -> None:
        self.requests += 1
        self.body += body
        self.headers += headers
        self.raw += len(raw)
        self.gzip6 += len(gzip.compress(raw, 6))


@dataclass
class Transfer:
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)  # (who, kind) -> totals
    encodings: set[str] = field(default_factory=set)
    accept_encoding: str = ""
    from_cache: int = 0
    from_worker: int = 0


def kind_of(path: str, content_type: str) -> str:
    if path.startswith("/api/"):
        return "API JSON"
    if path.startswith("/photos/"):
        return "photos"
    if path.startswith("/app/icons/"):
        return "icons"
    if path == "/manifest.webmanifest":
        return "manifest"
    for marker, kind in (("html", "HTML"), ("css", "CSS"), ("javascript", "JS"), ("image", "icons")):
        if marker in content_type:
            return kind
    return "other"


# The page's API calls in its Resource Timing (name, encodedBodySize, transferSize): read in the page
# with this, their sizes come from there, not from Playwright's `Request.sizes()`, which now and
# then never returns for a fetch that overlapped another (the first visit asks for the next pull
# page while it writes the one before). Chromium gives such entries a nominal 300 bytes of headers.
API_TIMINGS_SCRIPT = """() => performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.startsWith("/api/"))
  .map((e) => [e.name, e.encodedBodySize, e.transferSize])"""


def account(requests: list[Request], base: str, api_timings: list[list[Any]]) -> Transfer:
    """Sort the finished requests of a first visit by who fetched them and what they are
    (`api_timings`: what API_TIMINGS_SCRIPT read in the page)."""
    transfer = Transfer()
    timed: dict[str, list[tuple[int, int]]] = {}
    for name, body, total in api_timings:
        timed.setdefault(str(name), []).append((int(body), int(total) - int(body)))
    with httpx.Client(timeout=30) as http:
        for request in requests:
            response = request.response()
            if response is None or not request.url.startswith(base):
                continue
            path = request.url[len(base) :].split("?")[0]
            if not transfer.accept_encoding and request.resource_type == "document":
                transfer.accept_encoding = request.all_headers().get("accept-encoding", "")
            if response.from_service_worker:
                transfer.from_worker += 1  # answered by the worker: its own fetch, if any, is counted
                continue
            page_api = path.startswith("/api/") and not request.service_worker
            if page_api and timed.get(request.url):
                body_size, headers_size = timed[request.url].pop(0)
            else:
                sizes = request.sizes()
                body_size, headers_size = sizes["responseBodySize"], sizes["responseHeadersSize"]
            raw: bytes | None = None
            if path == "/sw.js" and body_size <= 0:
                # Chromium reports the worker script with no body size: count the bytes it is served with.
                raw = http.get(request.url).content
                body_size = len(raw)
            elif body_size <= 0 and response.status != 204:
                transfer.from_cache += 1  # the HTTP cache answered: nothing on the wire
                continue
            headers = response.headers if page_api else response.all_headers()
            if headers.get("content-encoding"):
                transfer.encodings.add(headers["content-encoding"])
            if raw is None:
                try:
                    raw = response.body()
                except Exception:
                    raw = b""
                if len(raw) < body_size and request.method == "GET":
                    raw = http.get(request.url).content  # Playwright hands no body for a worker's fetches
            who = "worker" if request.service_worker else ("replica" if path.startswith("/api/") else "page")
            row = transfer.rows.setdefault((who, kind_of(path, headers.get("content-type", ""))), Row())
            row.add(body_size, headers_size, raw)
    return transfer


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
