"""Web Push subscriptions: the app subscribes only after the user asked for notifications.

An endpoint is a URL the server will POST to, given by an untrusted client, so:

* it must pass `server.webpush.endpoints.check_endpoint` (https, port 443, no credentials, no internal
  host): a 422 on field "endpoint" at once. The real guard is at send time (`server.webpush.transport`).
* an endpoint belongs to the device (or account) that registered it first. Registering it from
  another one is a 409, not a silent move: otherwise anyone who learns an endpoint could take a
  person's notifications away. The same device re-registering it just refreshes the keys.
* each device (visitor) or account keeps at most MAX_SUBSCRIPTIONS_PER_OWNER endpoints; a new one
  beyond that replaces the owner's oldest. Browsers rotate endpoints (pushsubscriptionchange,
  cleared site data, reinstalls) without telling us, so the oldest ones are the likely-dead ones:
  refusing the newest would silently stop notifications for a person who did nothing wrong,
  while replacing only ever evicts the caller's own rows. Either way one message fans out to at
  most that many push requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from litestar import Controller, get, post
from litestar.params import JSONBody

from server.api.deps import ActorDep, ServicesDep
from server.domain.actors import Actor, require_any
from server.domain.errors import Conflict, Invalid
from server.tables import PushSubscriptionRow
from server.webpush.endpoints import ForbiddenEndpoint, check_endpoint
from server.webpush.keys import load_or_create_vapid_keys

MAX_SUBSCRIPTIONS_PER_OWNER: Final = 10


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
        who = require_any(actor)
        try:
            endpoint = check_endpoint(data.endpoint, allow_http=services.settings.push_allow_http).url
        except ForbiddenEndpoint as exc:
            raise Invalid(
                f"endpoint must be the https URL the browser's push service gave: {exc}", field="endpoint"
            ) from None
        if not (20 <= len(data.keys.p256dh) <= 200 and 8 <= len(data.keys.auth) <= 100):
            raise Invalid("keys.p256dh and keys.auth must be the browser's base64url keys", field="keys")
        # Insert unless the endpoint exists (also when another request races us to it), then look
        # at who owns the row that is there: ours gets the new keys, anyone else's is a 409.
        await PushSubscriptionRow.insert(
            PushSubscriptionRow(
                endpoint=endpoint,
                device=who.device_id,
                account=who.account_id,
                p256dh=data.keys.p256dh,
                auth=data.keys.auth,
            )
        ).on_conflict(target=PushSubscriptionRow.endpoint, action="DO NOTHING")
        row = await (
            PushSubscriptionRow.select(PushSubscriptionRow.device, PushSubscriptionRow.account)
            .where(PushSubscriptionRow.endpoint == endpoint)
            .first()
        )
        if row is None or not _owned_by(row, who):
            raise Conflict(
                "This push endpoint is registered to another device or account. Unsubscribe it there, "
                "or let the browser create a new subscription.",
                field="endpoint",
            )
        await PushSubscriptionRow.update(
            {
                PushSubscriptionRow.p256dh: data.keys.p256dh,
                PushSubscriptionRow.auth: data.keys.auth,
                PushSubscriptionRow.created_at: datetime.now(UTC),  # "last confirmed by the browser"
            }
        ).where(PushSubscriptionRow.endpoint == endpoint)
        await _keep_newest(who, endpoint)
        return {"endpoint": endpoint}

    @post("/unsubscribe", status_code=204)
    async def unsubscribe(self, data: JSONBody[Unsubscribe], actor: ActorDep) -> None:
        who = require_any(actor)
        mine = (PushSubscriptionRow.endpoint == data.endpoint) & _owner_is(who)
        await PushSubscriptionRow.delete().where(mine)


def _owner_is(who: Actor) -> Any:
    """The rows of the caller: a visitor's device, or a signed-in account."""
    if who.device_id:
        return PushSubscriptionRow.device == who.device_id
    return PushSubscriptionRow.account == who.account_id


def _same_id(stored: object, mine: object) -> bool:
    return (None if stored is None else str(stored)) == (None if mine is None else str(mine))


def _owned_by(row: dict[str, Any], who: Actor) -> bool:
    return _same_id(row["device"], who.device_id) and _same_id(row["account"], who.account_id)


async def _keep_newest(who: Actor, endpoint: str) -> None:
    """Delete the caller's oldest endpoints beyond MAX_SUBSCRIPTIONS_PER_OWNER (never `endpoint`,
    the one just registered)."""
    rows = await (
        PushSubscriptionRow.select(PushSubscriptionRow.endpoint)
        .where(_owner_is(who))
        .order_by(PushSubscriptionRow.created_at, ascending=False)
        .order_by(PushSubscriptionRow.endpoint)
    )
    others = [r["endpoint"] for r in rows if r["endpoint"] != endpoint]
    stale = others[MAX_SUBSCRIPTIONS_PER_OWNER - 1 :]
    if stale:
        await PushSubscriptionRow.delete().where(PushSubscriptionRow.endpoint.is_in(stale) & _owner_is(who))
