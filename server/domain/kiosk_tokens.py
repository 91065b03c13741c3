"""Kiosk tokens: what lets one entrance screen show one event.

The organizer creates one per screen (the link carries the token once; only its SHA-256 is
kept), sees the screens' tokens listed by label and creation time, and revokes one that is lost
or no longer needed: that screen's next check is refused (401) and it shows its token gate.

A token is named in listings and revocations by a short prefix of its stored hash, never by the
token itself, so the dashboard never holds a working kiosk token after showing the link once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from server.auth.tokens import hash_token, new_token
from server.domain.actors import Actor
from server.domain.errors import Forbidden, NotFound, Unauthorized
from server.domain.events import owned_event
from server.domain.validate import text
from server.domain.views import utc
from server.tables import Event, KioskToken

ID_LENGTH = 16  # hex characters of the stored hash: 64 bits, unique enough within one event
_ID = re.compile(rf"[0-9a-f]{{{ID_LENGTH}}}")


@dataclass(frozen=True)
class KioskTokenOut:
    token: str
    url: str


@dataclass(frozen=True)
class KioskTokenView:
    """A kiosk token as the organizer's list shows it; `id` is not the token and opens nothing."""

    id: str
    label: str
    created_at: datetime


async def create_kiosk_token(actor: Actor | None, event_slug: str, label: str, base_url: str) -> KioskTokenOut:
    """A token for one entrance screen; set up by the organizer, so a phone cannot take it over."""
    event = await owned_event(actor, event_slug)
    token, digest = new_token()
    await KioskToken.insert(KioskToken(token_hash=digest, event=event["id"], label=text(label, "label", max_len=80)))
    return KioskTokenOut(token, f"{base_url}/kiosk/{event['slug']}#token={token}")


async def list_kiosk_tokens(actor: Actor | None, event_slug: str) -> list[KioskTokenView]:
    """The event's kiosk tokens, oldest first: organizer of the event only."""
    event = await owned_event(actor, event_slug)
    rows = (
        await KioskToken.select(KioskToken.token_hash, KioskToken.label, KioskToken.created_at)
        .where(KioskToken.event == event["id"])
        .order_by(KioskToken.created_at)
    )
    return [KioskTokenView(r["token_hash"][:ID_LENGTH], r["label"], utc(r["created_at"])) for r in rows]


async def revoke_kiosk_token(actor: Actor | None, event_slug: str, token_id: str) -> None:
    """Delete one of the event's kiosk tokens by its listed id; 404 if the event has none such."""
    event = await owned_event(actor, event_slug)
    token_id = token_id.strip().lower() if isinstance(token_id, str) else ""
    if not _ID.fullmatch(token_id):  # hex only, so the prefix match below has no wildcards
        raise NotFound("No such kiosk token")
    mine = (KioskToken.event == event["id"]) & KioskToken.token_hash.like(f"{token_id}%")
    deleted = await KioskToken.delete().where(mine).returning(KioskToken.token_hash)
    if not deleted:
        raise NotFound("No such kiosk token")


async def kiosk_event(token: str | None, event_slug: str) -> UUID:
    """The event a kiosk token opens; 401 without one, 403 for a token of another event."""
    if not token:
        raise Unauthorized("This screen needs a kiosk token from the organizer")
    row = await KioskToken.select(KioskToken.event).where(KioskToken.token_hash == hash_token(token)).first()
    if row is None:
        raise Unauthorized("Unknown kiosk token")
    wanted = await Event.select(Event.id).where(Event.slug == event_slug).first()
    if wanted is None:
        raise NotFound(f"No event {event_slug!r}")
    if wanted["id"] != row["event"]:
        raise Forbidden("This kiosk token belongs to another event")
    return UUID(str(wanted["id"]))
