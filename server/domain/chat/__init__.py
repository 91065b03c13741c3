"""Chat between a visitor's device and a stall: the heart of Souk.

Rules that live here (REST, WebSocket and sync push all call these functions):
- one conversation per (stall, visitor device); the visitor may create it offline, naming its
  UUID, together with the first message (`conversations.py`);
- messages are append-only and carry the sender's UUID: sending the same UUID again returns the
  stored message, so clients retry forever safely; the server numbers them per conversation
  (`sending.py`);
- only the conversation's visitor device and the stall's vendor may read or write in it
  (`participants.py`);
- "is this still available?" about an item is answered at once from the item's state (the
  vendor still sees the question) (`auto_answer.py`);
- realtime events go to personal channels ("device:<id>", "account:<id>", `channels.py`) after
  the commit; the change log records every message in the conversation's scope for sync pulls;
- receipts and typing (`receipts.py`), who is online (`presence.py`), what a reader sees of a
  message or conversation (`views.py`).

This package's front door re-exports what callers use as `chat.<name>`.
"""

from server.domain.chat.auto_answer import asks_if_available, availability_answer
from server.domain.chat.channels import account_channel, conversation_scope, device_channel
from server.domain.chat.conversations import (
    get_conversation,
    intro_message,
    list_conversations,
    messages_after,
    open_conversation,
)
from server.domain.chat.presence import PRESENCE_STALE, is_online, mark_present, presence_key
from server.domain.chat.receipts import MAX_SEQ, announce_item_state, mark_read, typing
from server.domain.chat.sending import MAX_MESSAGE, PREVIEW, SendInput, send_message, system_message
from server.domain.chat.views import (
    ConversationView,
    MessageView,
    conversation_view,
    for_reader,
    message_version,
    message_view,
)

__all__ = [
    "MAX_MESSAGE",
    "MAX_SEQ",
    "PRESENCE_STALE",
    "PREVIEW",
    "ConversationView",
    "MessageView",
    "SendInput",
    "account_channel",
    "announce_item_state",
    "asks_if_available",
    "availability_answer",
    "conversation_scope",
    "conversation_view",
    "device_channel",
    "for_reader",
    "get_conversation",
    "intro_message",
    "is_online",
    "list_conversations",
    "mark_present",
    "mark_read",
    "message_version",
    "message_view",
    "messages_after",
    "open_conversation",
    "presence_key",
    "send_message",
    "system_message",
    "typing",
]
