"""Web Push subscriptions: who may be reached at which push endpoint.

An endpoint is a URL the server will POST to, given by an untrusted client, so:

* it must pass `server.webpush.endpoints.check_endpoint` (https, port 443, no credentials, no
  internal host): refused at once on field "endpoint". The real guard is at send time
  (`server.webpush.transport`).
* an endpoint belongs to the device (or account) that registered it first. Registering it from
  another one is a conflict, not a silent move: otherwise anyone who learns an endpoint could take
  a person's notifications away. The same device re-registering it just refreshes the keys.
* each device (visitor) or account keeps at most MAX_SUBSCRIPTIONS_PER_OWNER endpoints; a new one
  beyond that replaces the owner's oldest. Browsers rotate endpoints (pushsubscriptionchange,
  cleared site data, reinstalls) without telling us, so the oldest ones are the likely-dead ones:
  refusing the newest would silently stop notifications for a person who did nothing wrong,
  while replacing only ever evicts the caller's own rows. Either way one message fans out to at
  most that many push requests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from server.domain.actors import Actor, require_any
from server.domain.context import Services
from server.domain.errors import Conflict, Invalid
from server.tables import PushSubscriptionRow
from server.webpush.endpoints import ForbiddenEndpoint, check_endpoint

MAX_SUBSCRIPTIONS_PER_OWNER: Final = 10


async def subscribe(services: Services, actor: Actor | None, endpoint: str, p256dh: str, auth: str) -> str:
    """Register (or refresh) the caller's endpoint; the endpoint as stored."""
    who = require_any(actor)
    try:
        endpoint = check_endpoint(endpoint, allow_http=services.settings.push_allow_http).url
    except ForbiddenEndpoint as exc:
        raise Invalid(
            f"endpoint must be the https URL the browser's push service gave: {exc}", field="endpoint"
        ) from None
    if not (20 <= len(p256dh) <= 200 and 8 <= len(auth) <= 100):
        raise Invalid("keys.p256dh and keys.auth must be the browser's base64url keys", field="keys")
    # Insert unless the endpoint exists (also when another request races us to it), then look
    # at who owns the row that is there: ours gets the new keys, anyone else's is a conflict.
    await PushSubscriptionRow.insert(
        PushSubscriptionRow(endpoint=endpoint, device=who.device_id, account=who.account_id, p256dh=p256dh, auth=auth)
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
            PushSubscriptionRow.p256dh: p256dh,
            PushSubscriptionRow.auth: auth,
            PushSubscriptionRow.created_at: datetime.now(UTC),  # "last confirmed by the browser"
        }
    ).where(PushSubscriptionRow.endpoint == endpoint)
    await _keep_newest(who, endpoint)
    return endpoint


async def unsubscribe(actor: Actor | None, endpoint: str) -> None:
    """Forget one of the caller's endpoints (someone else's is left alone, silently)."""
    who = require_any(actor)
    await PushSubscriptionRow.delete().where((PushSubscriptionRow.endpoint == endpoint) & _owner_is(who))


async def forget_endpoint(endpoint: str) -> None:
    """The push service said the endpoint is gone, or the send guard refuses it: it can never
    work again, so nobody's notifications go there any more."""
    await PushSubscriptionRow.delete().where(PushSubscriptionRow.endpoint == endpoint)


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
