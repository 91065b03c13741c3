"""The sync library's own tables: the change log, its head and readers' cursors, and the
bookkeeping of idempotent push (clients and their mutation outcomes).

They live here so that `sync/` never imports the server; the server lists them among its
tables (`server.tables.ALL_TABLES`), so Piccolo's app config and migrations see them as before
(same table names and columns). `MutationResult.client` refers to `SyncClient`, both here.
"""

from __future__ import annotations

from piccolo.columns import UUID, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ChangeLog(Table, tablename="change_log"):
    """Every change to synced data, in commit order; sync, search and push read it."""

    seq = BigInt(primary_key=True)
    scope = Varchar(length=80, index=True)  # "event:<uuid>" or "conversation:<uuid>"
    entity = Varchar(length=32)
    entity_id = Varchar(length=64)
    op = Varchar(length=16)  # "upsert" | "delete"
    version = Integer(default=1)
    # The columns the change touched, comma-separated, when its writer said so; null when it did
    # not (a new entity, a change of visibility, any writer that does not name its columns). A
    # pull can then send a patch of those fields instead of the whole record (sync/FORMAT.md).
    changed = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class LogHead(Table, tablename="log_head"):
    """The one row holding the last change sequence number.

    Writers update it inside their transaction, which both numbers changes and serialises
    writers, so sequence order is commit order and no reader can skip a late commit.
    """

    id = Integer(primary_key=True)
    seq = BigInt(default=0)
    floor = BigInt(default=0)  # entries at or below this were compacted away


class LogCursor(Table, tablename="log_cursor"):
    """How far a reader of the change log (the search indexer, the push notifier) has got.

    Saved only after the reader's work for those changes is done, so a crash replays a little
    (readers are idempotent) and never skips anything.
    """

    name = Varchar(length=64, primary_key=True)
    seq = BigInt(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")


class SyncClient(Table, tablename="sync_client"):
    """One offline client (a browser's outbox) and the last mutation number it had applied.

    Bound to the identity that first pushed with it, so nobody can replay or jam another
    device's queue by guessing its id.
    """

    id = UUID(primary_key=True)
    account_id = UUID(null=True, default=None)
    device_id = UUID(null=True, default=None)
    last_mutation_id = BigInt(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class MutationResult(Table, tablename="mutation_result"):
    """What happened to each pushed mutation, so a retried push gets the same answer back."""

    client = ForeignKey(references=SyncClient, index=True)
    mutation_id = BigInt()
    status = Varchar(length=16)  # "applied" | "rejected"
    reason = Text(default="")
    field = Varchar(length=64, default="")
    data = Text(default="null")  # JSON: the entity's server state after (or despite) the mutation
    created_at = Timestamptz(default=TimestamptzNow())


SYNC_TABLES: tuple[type[Table], ...] = (ChangeLog, LogHead, LogCursor, SyncClient, MutationResult)
