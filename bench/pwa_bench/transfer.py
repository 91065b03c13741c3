"""What a first visit downloads, sorted by who fetched it (page, service worker, first sync) and
what it is, with the bodies' size gzipped at level 6 as an estimate."""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import CDPSession, Request


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


class PageNetwork:
    """What the page itself fetched, from DevTools' Network events on its own CDP session: the
    page's share of the accounting does not go through Playwright's per-request calls
    (`Request.response()`, `Request.sizes()`), which now and then never return for a page's
    request (seen on an API fetch that overlapped another, a photo and the manifest's icon)."""

    def __init__(self, cdp: CDPSession) -> None:
        self.cdp = cdp
        self.seen: dict[str, dict[str, Any]] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestWillBeSentExtraInfo", self._sent_headers)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _entry(self, request_id: str) -> dict[str, Any]:
        return self.seen.setdefault(request_id, {"id": request_id})

    def _sent(self, event: dict[str, Any]) -> None:
        self._entry(event["requestId"]).update(url=event["request"]["url"], method=event["request"]["method"])

    def _sent_headers(self, event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event.get("headers", {}).items()}
        self._entry(event["requestId"])["accept_encoding"] = headers.get("accept-encoding", "")

    def _response(self, event: dict[str, Any]) -> None:
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self._entry(event["requestId"]).update(
            status=response["status"],
            type=headers.get("content-type", response.get("mimeType", "")),
            encoding=headers.get("content-encoding", ""),
            headers_size=int(response.get("encodedDataLength", 0)),
            cached=bool(response.get("fromDiskCache") or response.get("fromPrefetchCache")),
            worker=bool(response.get("fromServiceWorker")),
        )

    def _finished(self, event: dict[str, Any]) -> None:
        self._entry(event["requestId"])["total"] = int(event["encodedDataLength"])

    def body(self, request_id: str) -> bytes:
        answer = self.cdp.send("Network.getResponseBody", {"requestId": request_id})
        text = answer["body"]
        return base64.b64decode(text) if answer.get("base64Encoded") else text.encode("utf-8")


def account(requests: list[Request], base: str, page: PageNetwork) -> Transfer:
    """Sort what a first visit fetched by who fetched it and what it is: the page's requests from
    `page`, the service worker's from Playwright's finished `requests`."""
    transfer = Transfer()
    with httpx.Client(timeout=30) as http:
        for seen in page.seen.values():
            if "total" not in seen or "status" not in seen or not str(seen.get("url", "")).startswith(base):
                continue
            path = seen["url"][len(base) :].split("?")[0]
            if not transfer.accept_encoding and seen.get("accept_encoding"):
                transfer.accept_encoding = seen["accept_encoding"]
            if seen["worker"]:
                transfer.from_worker += 1  # answered by the worker: its own fetch, if any, is counted
                continue
            body_size = seen["total"] - seen["headers_size"]
            if seen["cached"] or (body_size <= 0 and seen["status"] != 204):
                transfer.from_cache += 1  # the HTTP cache answered: nothing on the wire
                continue
            if seen["encoding"]:
                transfer.encodings.add(seen["encoding"])
            raw = http.get(seen["url"]).content if seen["method"] == "GET" else page.body(seen["id"])
            who = "replica" if path.startswith("/api/") else "page"
            row = transfer.rows.setdefault((who, kind_of(path, seen["type"])), Row())
            row.add(body_size, seen["headers_size"], raw)
        for request in requests:
            if not request.service_worker:
                continue  # counted above
            response = request.response()
            if response is None or not request.url.startswith(base):
                continue
            path = request.url[len(base) :].split("?")[0]
            if response.from_service_worker:
                transfer.from_worker += 1
                continue
            sizes = request.sizes()
            body_size = sizes["responseBodySize"]
            worker_raw: bytes | None = None
            if path == "/sw.js" and body_size <= 0:
                # Chromium reports the worker script with no body size: count the bytes it is served with.
                worker_raw = http.get(request.url).content
                body_size = len(worker_raw)
            elif body_size <= 0 and response.status != 204:
                transfer.from_cache += 1
                continue
            headers = response.all_headers()
            if headers.get("content-encoding"):
                transfer.encodings.add(headers["content-encoding"])
            if worker_raw is None:
                worker_raw = http.get(request.url).content  # Playwright hands no body for a worker's fetches
            row = transfer.rows.setdefault(("worker", kind_of(path, headers.get("content-type", ""))), Row())
            row.add(body_size, sizes["responseHeadersSize"], worker_raw)
    return transfer


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
