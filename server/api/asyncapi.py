"""The live sockets' protocol as an AsyncAPI document, served next to the OpenAPI schema.

OpenAPI cannot describe WebSocket frames, so they are written down here once, by hand; a test
opens both sockets, drives every frame type and checks each frame against this document, so the
document cannot drift from what the server really sends.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from litestar import get

DOCUMENT = Path(__file__).with_name("asyncapi.json")


@cache
def asyncapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


@get("/api/asyncapi.json", tags=["health"], summary="The WebSocket protocols (AsyncAPI 3.0)")
async def asyncapi() -> dict[str, Any]:
    return asyncapi_document()
