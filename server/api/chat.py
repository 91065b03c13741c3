"""Conversations, messages, receipts, quick replies and in-chat reservations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from server.api.deps import ActorDep, ServicesDep
from server.domain import blocks, chat, events, items, quick_replies, stalls
from server.domain.chat.sending import SendInput
from server.domain.chat.views import ConversationView, MessageView
from server.domain.errors import NotFound
from server.domain.items import HoldLength
from server.domain.quick_replies import QuickReplyView
from server.domain.reservations import release_for_visitor, reserve_for_visitor
from server.domain.views import ItemView


@dataclass(frozen=True)
class OpenInput:
    stall_code: str
    conversation_id: UUID | None = None
    item_id: UUID | None = None


@dataclass(frozen=True)
class MessageInput:
    message_id: UUID
    body: str = ""
    item_id: UUID | None = None
    photo_key: str | None = None
    stall_code: str | None = None


@dataclass(frozen=True)
class ReadInput:
    up_to_seq: int
    delivered_only: bool = False


@dataclass(frozen=True)
class ReserveForVisitor:
    """Hold `quantity` units for `minutes`, `until` a time or `until_end` of the event (one of
    them; none: DEFAULT_MINUTES, cut short at the event's end)."""

    item_id: UUID
    minutes: int | None = None
    until: datetime | None = None
    until_end: bool = False
    quantity: int = 1
    hold_id: UUID | None = None


@dataclass(frozen=True)
class ReleaseForVisitor:
    item_id: UUID


@dataclass(frozen=True)
class IntroOut:
    text: str


@dataclass(frozen=True)
class BlockVisitor:
    blocked: bool = True


@dataclass(frozen=True)
class QuickReplyIn:
    text: str


class ChatController(Controller):
    path = "/api"
    tags = ["chat"]

    @post("/conversations", status_code=HTTP_201_CREATED)
    async def open(self, data: JSONBody[OpenInput], services: ServicesDep, actor: ActorDep) -> ConversationView:
        """A visitor opens (or finds) their conversation with a stall."""
        return await chat.open_conversation(services, actor, data.stall_code, data.conversation_id, data.item_id)

    @get("/conversations")
    async def inbox(self, actor: ActorDep) -> list[ConversationView]:
        """The vendor's inbox or the visitor's conversations, newest first, with unread counts."""
        return await chat.list_conversations(actor)

    @get("/conversations/{conversation_id:uuid}")
    async def one(self, conversation_id: FromPath[UUID], actor: ActorDep) -> ConversationView:
        return await chat.get_conversation(actor, conversation_id)

    @get("/conversations/{conversation_id:uuid}/messages")
    async def messages(
        self,
        conversation_id: FromPath[UUID],
        actor: ActorDep,
        after_seq: Annotated[int, QueryParameter(ge=0, le=chat.MAX_SEQ)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
    ) -> list[MessageView]:
        """Messages after `after_seq`: a reconnecting client gets exactly what it missed."""
        return await chat.messages_after(actor, conversation_id, after_seq, limit)

    @post("/conversations/{conversation_id:uuid}/messages", status_code=HTTP_201_CREATED)
    async def send(
        self, conversation_id: FromPath[UUID], data: JSONBody[MessageInput], services: ServicesDep, actor: ActorDep
    ) -> MessageView:
        """Send (or safely re-send) a message; the id is the client's UUID."""
        return await chat.send_message(
            services,
            actor,
            SendInput(conversation_id, data.message_id, data.body, data.stall_code, data.item_id, data.photo_key),
        )

    @post("/conversations/{conversation_id:uuid}/block", status_code=204)
    async def block(self, conversation_id: FromPath[UUID], data: JSONBody[BlockVisitor], actor: ActorDep) -> None:
        """The stall's vendor blocks this conversation's visitor from their stall (`blocked: false`
        lifts it); the organizer sees the block and can lift it too."""
        await blocks.block_in_conversation(actor, conversation_id, data.blocked)

    @post("/conversations/{conversation_id:uuid}/read", status_code=200)
    async def read(
        self, conversation_id: FromPath[UUID], data: JSONBody[ReadInput], services: ServicesDep, actor: ActorDep
    ) -> ConversationView:
        return await chat.mark_read(
            services, actor, conversation_id, data.up_to_seq, delivered_only=data.delivered_only
        )

    @post("/conversations/{conversation_id:uuid}/reserve", status_code=200)
    async def reserve(
        self, conversation_id: FromPath[UUID], data: JSONBody[ReserveForVisitor], services: ServicesDep, actor: ActorDep
    ) -> ItemView:
        """Hold units of the item for this visitor, as long as the vendor chose (default
        30 minutes), and say so in the chat."""
        length = HoldLength(data.minutes, data.until, data.until_end)
        return await reserve_for_visitor(
            services, actor, conversation_id, data.item_id, quantity=data.quantity, length=length, hold_id=data.hold_id
        )

    @post("/conversations/{conversation_id:uuid}/release", status_code=200)
    async def release(
        self, conversation_id: FromPath[UUID], data: JSONBody[ReleaseForVisitor], services: ServicesDep, actor: ActorDep
    ) -> ItemView:
        """Let go of what is held for this visitor, and say so in the chat."""
        return await release_for_visitor(services, actor, conversation_id, data.item_id)

    @get("/stalls/{code:str}/intro")
    async def intro(
        self, code: FromPath[str], services: ServicesDep, item: Annotated[UUID | None, QueryParameter()] = None
    ) -> IntroOut:
        """The prefilled first message for "Message the seller"."""
        stall = await stalls.visible_stall(services, None, code)
        event = await events.get_event(str(stall.event_id))
        title = None
        if item is not None:
            found = await items.visible_item(None, item)
            if found.stall_id != stall.id:
                raise NotFound("No such item at this stall")
            title = found.title
        return IntroOut(chat.intro_message(stall.name, event.name, title))

    @get("/quick-replies")
    async def quick_replies(self, actor: ActorDep) -> list[QuickReplyView]:
        return await quick_replies.list_quick_replies(actor)

    @post("/quick-replies", status_code=HTTP_201_CREATED)
    async def add_quick_reply(self, data: JSONBody[QuickReplyIn], actor: ActorDep) -> QuickReplyView:
        return await quick_replies.add_quick_reply(actor, data.text)

    @delete("/quick-replies/{reply_id:uuid}", status_code=204)
    async def delete_quick_reply(self, reply_id: FromPath[UUID], actor: ActorDep) -> None:
        await quick_replies.delete_quick_reply(actor, reply_id)
