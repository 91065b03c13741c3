"""Web Push: the server's public key, and subscribing the caller (rules in
`server/domain/push_subscriptions.py`). The app subscribes only after the user asked for
notifications."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, get, post
from litestar.params import JSONBody

from server.api.deps import ActorDep, ServicesDep
from server.domain import push_subscriptions
from server.webpush.keys import load_or_create_vapid_keys


@dataclass(frozen=True)
class SubscriptionKeys:
    p256dh: str
    auth: str


@dataclass(frozen=True)
class SubscriptionIn:
    """Exactly what the browser's `PushSubscription.toJSON()` gives."""

    endpoint: str
    keys: SubscriptionKeys


@dataclass(frozen=True)
class Unsubscribe:
    endpoint: str


@dataclass(frozen=True)
class VapidKeyOut:
    public_key: str  # applicationServerKey for pushManager.subscribe()


class WebPushController(Controller):
    path = "/api/push"
    tags = ["web push"]

    @get("/key")
    async def key(self, services: ServicesDep) -> VapidKeyOut:
        return VapidKeyOut(load_or_create_vapid_keys(services.settings.data_dir).public_key_b64url)

    @post("/subscriptions", status_code=201)
    async def subscribe(self, data: JSONBody[SubscriptionIn], services: ServicesDep, actor: ActorDep) -> dict[str, str]:
        endpoint = await push_subscriptions.subscribe(services, actor, data.endpoint, data.keys.p256dh, data.keys.auth)
        return {"endpoint": endpoint}

    @post("/unsubscribe", status_code=204)
    async def unsubscribe(self, data: JSONBody[Unsubscribe], actor: ActorDep) -> None:
        await push_subscriptions.unsubscribe(actor, data.endpoint)
