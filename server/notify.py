"""Web Push notifications: a reader of the change log that turns new chat messages into Web Pushes
for people who have no realtime socket open.

The message itself is durable (it is in the database and reaches the app by sync or socket);
the push is only a nudge. So sends run beside the reader, with retries, and the cursor moves
on without waiting for slow push services: a crash may drop a nudge, never a message.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

from piccolo.engine.base import Engine

from server.domain import push_subscriptions
from server.domain.chat.channels import account_channel, device_channel
from server.domain.chat.presence import is_online
from server.tables import Message, PushSubscriptionRow
from server.webpush.client import PushSender
from server.webpush.messages import PushPayload, SendStatus, Subscription
from sync.reader import LogReader

log = logging.getLogger("souk.webpush")


class WebPushNotifier(LogReader):
    name = "webpush"  # its change-log cursor (was "push" until migration 2026-12-02T13:45)
    entities = ("message",)

    def __init__(self, sender: PushSender, db: Engine[Any], base_url: str, *, poll_seconds: float = 1.0) -> None:
        super().__init__(db, poll_seconds=poll_seconds)
        self.sender = sender
        self.base_url = base_url
        self.sending: set[asyncio.Task[None]] = set()

    async def behind_floor(self) -> None:
        """Messages from before compaction are old news: no pushes for them."""

    async def handle(self, entries: list[dict[str, Any]]) -> None:
        ids = [e["entity_id"] for e in entries]
        rows = await Message.select(
            Message.id,
            Message.sender,
            Message.body,
            Message.photo_key,
            Message.conversation,
            Message.conversation.device.as_alias("device"),
            Message.conversation.stall.vendor.as_alias("vendor"),  # type: ignore[union-attr]
            Message.conversation.stall.name.as_alias("stall_name"),  # type: ignore[union-attr]
        ).where(Message.id.is_in(ids))
        for row in rows:
            await self._notify(row)

    async def drain(self) -> None:
        """Wait for pushes in flight (tests, shutdown)."""
        while self.sending:
            await asyncio.gather(*list(self.sending), return_exceptions=True)

    async def _notify(self, row: dict[str, Any]) -> None:
        to_vendor = row["sender"] == "visitor"
        who = account_channel(row["vendor"]) if to_vendor else device_channel(row["device"])
        if await is_online(who):
            return  # the open socket already delivered it
        column = PushSubscriptionRow.account if to_vendor else PushSubscriptionRow.device
        target = row["vendor"] if to_vendor else row["device"]
        subscriptions = await PushSubscriptionRow.select().where(column == target)
        payload = PushPayload(
            title=f"New message for {row['stall_name']}" if to_vendor else row["stall_name"],
            body=row["body"] or ("📷 Photo" if row["photo_key"] else "New message"),
            url=f"{self.base_url}/app/#/conversations/{row['conversation']}",
            tag=f"conversation:{row['conversation']}",
        )
        for sub in subscriptions:
            # A fresh context: the reader's step may hold a database transaction (PostgreSQL),
            # and a send outliving it must not try to use that transaction's connection.
            task = asyncio.create_task(self._send(sub, payload), context=contextvars.Context())
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)

    async def _send(self, row: dict[str, Any], payload: PushPayload) -> None:
        subscription = Subscription(row["endpoint"], row["p256dh"], row["auth"])
        result = await self.sender.send_with_retries(subscription, payload)
        if result.status is SendStatus.GONE or result.forbidden:
            # The browser unsubscribed or the push service forgot it, or the push guard refuses the
            # endpoint (not https, an internal address...): it can never work, stop pushing there.
            if result.forbidden:
                log.warning("push endpoint %s refused, subscription deleted: %s", row["endpoint"][:60], result.detail)
            await push_subscriptions.forget_endpoint(row["endpoint"])
        elif result.status is not SendStatus.SENT:
            log.warning("push to %s failed: %s", row["endpoint"][:60], result.detail)
