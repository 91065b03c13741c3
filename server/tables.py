"""Where the market's data lives: Piccolo tables for SQLite and PostgreSQL alike.

Conventions: ids of anything a client may create offline are UUIDs; money is an integer in
minor units next to an ISO 4217 currency; every time is timezone-aware UTC; lists (hashtags,
photo keys) are JSON text so both databases store them the same way. Synced rows carry a
`version` that every change increments, and are soft-deleted (`deleted_at`) so the change log
can hand out tombstones.
"""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from sync.tables import ChangeLog as ChangeLog
from sync.tables import LogCursor as LogCursor
from sync.tables import LogHead as LogHead
from sync.tables import MutationResult as MutationResult
from sync.tables import SyncClient as SyncClient


class Account(Table, tablename="account"):
    """An organizer or a vendor; visitors never have accounts, only devices."""

    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=80)
    password_hash = Text()
    role = Varchar(length=16)  # "organizer" | "vendor"
    created_at = Timestamptz(default=TimestamptzNow())


class Device(Table, tablename="device"):
    """An anonymous visitor's browser: created on first contact, no sign-up."""

    id = UUID(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    # Keyed hash of the client address it was created from (never the address itself): lets a
    # block follow a visitor who takes a fresh device token from the same place.
    address_key = Varchar(length=64, default="")
    # The first name the visitor chose to be called by in chats ("" = "Visitor A64B").
    first_name = Varchar(length=40, default="")


class AuthToken(Table, tablename="auth_token"):
    """A bearer token; only its SHA-256 is stored so a database leak leaks no sessions."""

    token_hash = Varchar(length=64, primary_key=True)
    account = ForeignKey(references=Account, null=True)
    device = ForeignKey(references=Device, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    # Visitor tokens expire after this much inactivity; refreshed at most hourly (one write).
    last_used_at = Timestamptz(null=True, default=None)


class Event(Table, tablename="event"):
    id = UUID(primary_key=True)
    organizer = ForeignKey(references=Account)
    name = Varchar(length=120)
    slug = Varchar(length=64, unique=True)
    hashtag = Varchar(length=64)  # display spelling, e.g. "#RipeMarketJan"
    hashtag_key = Varchar(length=64, index=True)
    venue = Varchar(length=200, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    time_zone = Varchar(length=64)
    currency = Varchar(length=3)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Cause(Table, tablename="cause"):
    """A charity an event raises money for; items carrying its hashtag count towards it."""

    id = UUID(primary_key=True)
    event = ForeignKey(references=Event, index=True)
    name = Varchar(length=120)
    tag = Varchar(length=64)
    tag_key = Varchar(length=64)
    goal = BigInt(null=True, default=None)  # minor units
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Invite(Table, tablename="invite"):
    """A single-use code an organizer hands to one vendor to join one event."""

    id = UUID(primary_key=True)
    event = ForeignKey(references=Event, index=True)
    code = Varchar(length=32, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    used_by = ForeignKey(references=Account, null=True)
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)  # the organizer took it back before it was used


class Stall(Table, tablename="stall"):
    id = UUID(primary_key=True)
    event = ForeignKey(references=Event, index=True)
    vendor = ForeignKey(references=Account, index=True)
    code = Varchar(length=16, unique=True)  # short, unguessable: the QR link
    number = Varchar(length=16, default="")
    location = Varchar(length=200, default="")
    name = Varchar(length=80)
    description = Text(default="")
    store_tag = Varchar(length=64)
    store_tag_key = Varchar(length=64)
    read_receipts = Boolean(default=True)  # the vendor may keep "read" from visitors
    hidden = Boolean(default=False)
    default_cause = Varchar(length=64, default="")  # a cause's tag key: credited on items naming none
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Item(Table, tablename="item"):
    id = UUID(primary_key=True)
    event = ForeignKey(references=Event, index=True)
    stall = ForeignKey(references=Stall, index=True)
    title = Varchar(length=120)
    description = Text(default="")
    price = BigInt()  # minor units
    currency = Varchar(length=3)
    quantity = Integer(default=1)  # left to sell
    own_tags = Text(default="[]")  # JSON: tags the vendor gave besides those in title/description
    hashtags = Text(default="[]")  # JSON: display spellings of every tag, implied ones included
    tag_keys = Text(default="[]")  # JSON: canonical keys of `hashtags`
    causes = Text(default="[]")  # JSON: cause tag keys this item counts for
    photo_keys = Text(default="[]")  # JSON: content keys of photos, in display order
    state = Varchar(length=16, default="available")  # available | reserved | sold
    reserved_until = Timestamptz(null=True, default=None)
    reserved_for = UUID(null=True, default=None)  # unused since per-unit holds (item_hold)
    held = Integer(default=0)  # units on hold for visitors: the sum of this item's item_hold rows
    hidden = Boolean(default=False)
    deleted_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ItemTag(Table, tablename="item_tag"):
    """One row per (item, canonical hashtag): finding items by hashtag is an indexed lookup."""

    item = ForeignKey(references=Item, index=True)
    event = ForeignKey(references=Event)
    tag_key = Varchar(length=64, index=True)
    tag = Varchar(length=64)


class ItemHold(Table, tablename="item_hold"):
    """Some units of an item held for a visitor (or by the vendor) until a time; the item reads
    "reserved" only while its holds cover every unit left. Gone once released, sold or lapsed."""

    id = UUID(primary_key=True)  # a client may choose it offline
    event = ForeignKey(references=Event, index=True)
    item = ForeignKey(references=Item, index=True)
    device = UUID(null=True, default=None)  # the visitor it is held for, if any
    quantity = Integer(default=1)
    until = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())


class Photo(Table, tablename="photo"):
    """Metadata of a stored photo; the files live content-addressed under the data dir."""

    key = Varchar(length=64, primary_key=True)
    mime = Varchar(length=32)
    width = Integer()
    height = Integer()
    byte_size = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class PhotoBlob(Table, tablename="photo_blob"):
    """A stored photo's bytes, one row per size, when photos live in the database
    (``SOUK_PHOTO_STORE=database``, server/photos/database.py). Written once, never changed."""

    id = Varchar(length=80, primary_key=True)  # "<key>/<size>": content addressed
    photo_key = Varchar(length=64, index=True)  # sha256 of the original
    size = Varchar(length=16)  # "320", "960" or "original"
    media_type = Varchar(length=32)
    byte_size = Integer()
    data = Bytea()
    created_at = Timestamptz(default=TimestamptzNow())


class Sale(Table, tablename="sale"):
    """A recorded sale; organizers' totals are sums over these rows, never over item state."""

    id = UUID(primary_key=True)
    event = ForeignKey(references=Event, index=True)
    stall = ForeignKey(references=Stall, index=True)
    item = ForeignKey(references=Item, index=True)
    quantity = Integer()
    amount = BigInt()  # minor units actually paid, for the whole quantity
    currency = Varchar(length=3)
    tag_keys = Text(default="[]")  # JSON snapshot at sale time
    causes = Text(default="[]")  # JSON snapshot at sale time
    sold_at = Timestamptz(default=TimestamptzNow())
    recorded_by = ForeignKey(references=Account, null=True)
    holds = Text(default="[]")  # JSON: the holds this sale used up, so an undo can give them back
    undone_at = Timestamptz(null=True, default=None)  # the vendor undid it: counts nowhere any more


class Conversation(Table, tablename="conversation"):
    """One visitor device talking to one stall; it never ends, it only goes quiet."""

    id = UUID(primary_key=True)  # a client may create it offline with its first message
    event = ForeignKey(references=Event, index=True)
    stall = ForeignKey(references=Stall, index=True)
    device = ForeignKey(references=Device, index=True)
    item = UUID(null=True, default=None)  # the item it started about, if any
    last_seq = Integer(default=0)  # per-conversation message counter
    last_preview = Varchar(length=140, default="")
    last_message_at = Timestamptz(default=TimestamptzNow())
    vendor_unread = Integer(default=0)
    visitor_unread = Integer(default=0)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class Message(Table, tablename="message"):
    """Append-only; `id` is the sender's UUID, so resending the same message stores it once."""

    id = UUID(primary_key=True)
    conversation = ForeignKey(references=Conversation, index=True)
    seq = Integer()  # order within the conversation, assigned by the server
    sender = Varchar(length=16)  # "visitor" | "vendor" | "system"
    body = Text(default="")
    item = UUID(null=True, default=None)
    item_card = Text(default="null")  # JSON snapshot: title, price, currency, state, photo
    photo_key = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)


class PushSubscriptionRow(Table, tablename="push_subscription"):
    """A browser's Web Push endpoint for a device or an account."""

    endpoint = Varchar(length=1000, primary_key=True)
    device = UUID(null=True, default=None, index=True)
    account = UUID(null=True, default=None, index=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class Presence(Table, tablename="presence"):
    """Open realtime sockets per person, so senders know whether a push is needed."""

    who = Varchar(length=64, primary_key=True)  # "account:<id>" or "device:<id>"
    sockets = Integer(default=0)
    seen_at = Timestamptz(default=TimestamptzNow())


class QuickReply(Table, tablename="quick_reply"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    text = Varchar(length=500)
    created_at = Timestamptz(default=TimestamptzNow())


class ResumeCode(Table, tablename="resume_code"):
    """A short code that lets a visitor carry their device identity to another browser."""

    code = Varchar(length=16, primary_key=True)
    device = ForeignKey(references=Device)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class Report(Table, tablename="report"):
    """A message someone flagged for the organizer to look at."""

    id = UUID(primary_key=True)
    event = ForeignKey(references=Event, index=True)
    message = ForeignKey(references=Message)
    reporter = Varchar(length=64)  # "device:<id>" or "account:<id>"
    reason = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)


class BlockedDevice(Table, tablename="blocked_device"):
    """A visitor device blocked from chatting: at the whole event (organizer) or one stall (its vendor)."""

    event = ForeignKey(references=Event, index=True)
    device = UUID(index=True)
    stall = UUID(null=True, default=None)  # None: the whole event
    blocked_by = Varchar(length=16, default="organizer")  # "organizer" | "vendor"
    address_key = Varchar(length=64, default="")  # the blocked device's address key, see Device
    created_at = Timestamptz(default=TimestamptzNow())


class KioskToken(Table, tablename="kiosk_token"):
    """Lets one entrance screen show one event; only the SHA-256 of the token is kept."""

    token_hash = Varchar(length=64, primary_key=True)
    event = ForeignKey(references=Event, index=True)
    label = Varchar(length=80, default="")
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES: tuple[type[Table], ...] = (
    Account,
    Device,
    AuthToken,
    Event,
    Cause,
    Invite,
    Stall,
    Item,
    ItemTag,
    ItemHold,
    Photo,
    PhotoBlob,
    Sale,
    ChangeLog,
    LogHead,
    LogCursor,
    SyncClient,
    MutationResult,
    Conversation,
    Message,
    PushSubscriptionRow,
    Presence,
    QuickReply,
    ResumeCode,
    Report,
    BlockedDevice,
    KioskToken,
)
