"""Web Push subscriptions: the app subscribes only after the user asked for notifications."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from litestar import Controller, get, post
from litestar.params import JSONBody

from server.api.deps import ActorDep, MarketDep
from server.domain.actors import require_any
from server.domain.errors import Invalid
from server.tables import PushSubscriptionRow
from server.webpush_sender import load_or_create_vapid_keys


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


class PushController(Controller):
    path = "/api/push"
    tags = ["push"]

    @get("/key")
    async def key(self, market: MarketDep) -> VapidKeyOut:
        return VapidKeyOut(load_or_create_vapid_keys(market.settings.data_dir).public_key_b64url)

    @post("/subscriptions", status_code=201)
    async def subscribe(self, data: JSONBody[SubscriptionIn], market: MarketDep, actor: ActorDep) -> dict[str, str]:
        who = require_any(actor)
        endpoint = data.endpoint.strip()
        parts = urlsplit(endpoint)
        allowed = ("https",) + (("http",) if market.settings.push_allow_http else ())
        if parts.scheme not in allowed or not parts.hostname or len(endpoint) > 1000:
            raise Invalid("endpoint must be the https URL the browser's push service gave", field="endpoint")
        if not (20 <= len(data.keys.p256dh) <= 200 and 8 <= len(data.keys.auth) <= 100):
            raise Invalid("keys.p256dh and keys.auth must be the browser's base64url keys", field="keys")
        await PushSubscriptionRow.delete().where(PushSubscriptionRow.endpoint == endpoint)
        await PushSubscriptionRow.insert(
            PushSubscriptionRow(
                endpoint=endpoint,
                device=who.device_id,
                account=who.account_id,
                p256dh=data.keys.p256dh,
                auth=data.keys.auth,
            )
        )
        return {"endpoint": endpoint}

    @post("/unsubscribe", status_code=204)
    async def unsubscribe(self, data: JSONBody[Unsubscribe], actor: ActorDep) -> None:
        who = require_any(actor)
        mine = (PushSubscriptionRow.endpoint == data.endpoint) & (
            (PushSubscriptionRow.device == who.device_id)
            if who.device_id
            else (PushSubscriptionRow.account == who.account_id)
        )
        await PushSubscriptionRow.delete().where(mine)
