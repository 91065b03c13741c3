"""Where chat's realtime frames and log entries go: the names of its channels and scopes.

A person's screens listen on a personal channel ("device:<id>" for a visitor, "account:<id>" for
a vendor); a conversation's messages are logged in its own scope, which only its two sides read.
"""

from __future__ import annotations


def conversation_scope(conversation_id: object) -> str:
    return f"conversation:{conversation_id}"


def device_channel(device_id: object) -> str:
    return f"device:{device_id}"


def account_channel(account_id: object) -> str:
    return f"account:{account_id}"
