"""Every error leaves the server as JSON `{"error": message, "field": name-or-null}`."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_500_INTERNAL_SERVER_ERROR

from server.domain.errors import DomainError

log = logging.getLogger("souk")


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, object]]:
    return Response({"error": exc.message, "field": exc.field}, status_code=exc.status_code, headers=exc.headers)


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, object]]:
    """Litestar's body/query validation answers 400; Souk answers 422 and names the field."""
    field = None
    message = str(exc.detail)
    if isinstance(exc.extra, list) and exc.extra and isinstance(exc.extra[0], dict):
        first = exc.extra[0]
        message = str(first.get("message") or message)
        field = _field_from(message) or (str(first.get("key")) if first.get("key") not in (None, "data") else None)
        if field and field not in message:
            message = f"{field}: {message}"
    return Response({"error": message, "field": field}, status_code=HTTP_422_UNPROCESSABLE_ENTITY)


# msgspec says "... - at `$.stall.name`" or "Object missing required field `title`".
_FIELD_RE = re.compile(r"at `\$\.([\w.\[\]]+)`|required field `(\w+)`")


def _field_from(message: str) -> str | None:
    match = _FIELD_RE.search(message)
    if match is None:
        return None
    return (match.group(1) or match.group(2)).split("[")[0]


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, object]]:
    return Response({"error": exc.detail, "field": None}, status_code=exc.status_code, headers=exc.headers)


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, object]]:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        {
            "error": "Something went wrong on the server; it has been logged. Try again.",
            "field": None,
        },
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MediaType.JSON,
    )
