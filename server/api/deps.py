"""Request-scoped dependencies: who is calling, and the market services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from server.domain.actors import Actor, actor_for_token
from server.domain.context import Services
from server.domain.errors import Unauthorized


async def provide_actor(request: Request[Any, Any, Any], services: ServicesDep) -> Actor | None:
    """The caller from `Authorization: Bearer <token>`; None when no header is sent.

    A header with an unknown or expired token is an error rather than anonymous access, so a
    vendor whose session ran out learns it instead of silently seeing a visitor's view.
    """
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'")
    actor = await actor_for_token(token.strip(), idle=visitor_idle(services))
    if actor is None:
        raise Unauthorized("This token is unknown or expired; sign in again")
    return actor


def visitor_idle(services: Services) -> timedelta:
    """How long a visitor's device token may go unused before it stops working."""
    return timedelta(days=services.settings.visitor_idle_days)


ServicesDep = NamedDependency[Services]
ActorDep = NamedDependency[Actor | None]
