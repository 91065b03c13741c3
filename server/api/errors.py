"""Every error leaves the server as JSON `{"error": message, "field": name-or-null}`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_500_INTERNAL_SERVER_ERROR

from server.domain.errors import DomainError

log = logging.getLogger("souk")


@dataclass(frozen=True)
class ErrorBody:
    """What every refusal carries: a message a person can act on, and the field it is about."""

    error: str
    field: str | None


# The refusals any route can answer with (the domain's errors, Litestar's own 400/413 and the
# validation 422 re-shaped below), so the OpenAPI schema tells clients the truth about them.
ERROR_RESPONSES: dict[int, ResponseSpec] = {
    status: ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)
    for status, description in {
        400: "The request could not be read",
        401: "No valid `Authorization: Bearer <token>`",
        403: "The caller may not do this",
        404: "No such resource",
        409: "Conflicts with the current state",
        413: "The request body is too large",
        422: "Invalid input; `field` names the offending field",
        429: "Too many requests; retry after `Retry-After` seconds",
    }.items()
}


def document_errors(app: Litestar) -> None:
    """Declare ERROR_RESPONSES on every HTTP operation (a route's own declarations win).

    Litestar documents only a 400 in its own error shape, which Souk never sends; the OpenAPI
    schema is built lazily, on first request, so declaring these after the app is built counts.
    """
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if isinstance(handler, HTTPRouteHandler):
                    handler.responses = {**ERROR_RESPONSES, **(handler.responses or {})}


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


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, object]]:
    """JSON nested hundreds deep makes the decoder (msgspec or json) give up with RecursionError.

    Souk's bodies are a few levels deep, so such a body is a client's mistake or an attack: 400,
    not a 500 that reads as "the server is broken".
    """
    log.warning("Refused a too deeply nested body on %s %s", request.method, request.url.path)
    return Response(
        {"error": "The request body is nested too deeply; Souk's requests are a few levels deep.", "field": None},
        status_code=400,
        media_type=MediaType.JSON,
    )


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
