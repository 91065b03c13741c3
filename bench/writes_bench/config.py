"""The workload of bench_writes.py: the seeded market, the operations and their mix."""

from __future__ import annotations

EVENTS = 4
VENDORS_PER_EVENT = 5
ITEMS_PER_STALL = 10
ITEM_QUANTITY = 100_000
VISITORS_PER_EVENT = 500
SEED_BATCH = 100  # visitors made in one transaction while seeding
PUSH_BATCH = 20
MESSAGE_BUDGET = 28  # messages per device lease: under the visitor flood limit of 30 a minute
DEVICE_REST_SECONDS = 61.0  # a handed-back device's messages have all left the flood window by then
CHAT, EDIT, SALE, VENDOR_PUSH, VISITOR_PUSH = (
    "chat send",
    "item edit",
    "sale",
    "sync push: vendor, 20 update_item",
    "sync push: visitor, 20 send_message",
)
OPERATIONS = (CHAT, EDIT, SALE, VENDOR_PUSH, VISITOR_PUSH)
MIXED = {CHAT: 40, EDIT: 30, SALE: 20, VENDOR_PUSH: 5, VISITOR_PUSH: 5}  # % of requests
CHAT_ONLY = {CHAT: 100}
