"""Push: a device replays the mutations it queued offline, in order, exactly once each.

Protocol (the model of Replicache's push): each client (one browser outbox, a UUID it picks)
numbers its mutations 1, 2, 3, ... The server remembers, per client, the last number it has
processed, and applies each mutation *together with* moving that number forward (one
savepoint-guarded step of the batch's write transaction, which commits once for the whole
batch), so "applied" and "remembered as applied" can never come apart:

- a number at or below the remembered one was already processed: it is skipped and the
  stored outcome is returned again (a retry after a lost response changes nothing);
- the next number is applied by the handler the application registered under its name (the
  server's handlers call the same domain function a REST route would call);
- a number beyond the next one means the client lost a mutation: the push is refused
  (409, naming the expected number) and nothing after the gap is applied.

A mutation that can never succeed (forbidden, invalid, conflicting, unknown name) is recorded
as processed *with* its rejection, returned with the reason and the current server state, and
never retried, so one bad entry cannot jam a queue. An unexpected server failure stops the push
without recording anything; the client simply retries it later. So does a sender over the
message flood limit (server/domain/flood.py): the push answers 429 with Retry-After, what came
before that mutation stays applied, and the retry returns those outcomes again.

This module is the protocol only: it knows no mutation. The server registers the handlers
(`server/domain/mutations.py`) and says what state to send back with a refusal.

Conflict rules (enforced by the server's domain functions, identical for REST and sync):
- Sold is final. Editing, reserving or selling an item that is sold by the time the mutation
  arrives is rejected with the sold item's state.
- A sale is a delta: "sold 2" from two offline devices is two sales; a sale larger than the
  stock left is rejected, so quantity never goes below zero.
- Edits carry only the fields the user changed. Concurrent edits of different fields both
  survive; for the same field the later arrival at the server wins.
- Creating an item names its id (a UUID made offline): replaying the creation returns the
  item already stored instead of a duplicate.
- Deletes are soft and final: later edits of a deleted item are rejected as not found.
- Messages are append-only and deduplicated by their UUID; the server numbers them per
  conversation in arrival order. A visitor may open a conversation offline by naming its UUID
  and the stall in the first message.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from sync.errors import SyncConflict, SyncError, SyncForbidden, SyncInvalid
from sync.log import Publisher, step, unit_of_work
from sync.plain import json_text, plain
from sync.tables import MutationResult, SyncClient
from sync.transactions import lost_lock_race

MAX_BATCH = 100
LOCK_RACE_RETRIES = 4


@dataclass(frozen=True)
class Mutation:
    id: int
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PushRequest:
    client_id: UUID
    mutations: list[Mutation]


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str  # "applied" | "rejected"
    reason: str = ""
    field: str = ""
    data: Any = None  # the entity's server state


@dataclass(frozen=True)
class PushResult:
    last_mutation_id: int
    results: list[Outcome]


class Pusher(Protocol):
    """Who pushes: a client id is bound to the first (account, device) that pushed with it."""

    @property
    def account_id(self) -> UUID | None: ...

    @property
    def device_id(self) -> UUID | None: ...


C = TypeVar("C")  # the application's call context (the server's: its market and the caller)
Handler = Callable[[C, dict[str, Any]], Awaitable[Any]]
StateOf = Callable[[C, Mutation], Awaitable[Any]]


class Handlers(Generic[C]):
    """The mutations an application accepts, by name, and what a refused one sends back.

    A handler parses its arguments and applies the change; it raises a `SyncError` (or a
    subclass) to refuse. `state_of` answers "what should the client now hold" for a refused
    mutation (None: nothing).
    """

    def __init__(self, handlers: Mapping[str, Handler[C]], state_of: StateOf[C] | None = None) -> None:
        self._handlers = dict(handlers)
        self._state_of = state_of

    def handler(self, name: str) -> Handler[C]:
        handler = self._handlers.get(name)
        if handler is None:
            known = ", ".join(sorted(self._handlers))
            raise SyncInvalid(f"unknown mutation {name!r}; known: {known}", field="name")
        return handler

    async def state_of(self, context: C, mutation: Mutation) -> Any:
        return None if self._state_of is None else await self._state_of(context, mutation)


async def push(
    engine: Engine[Any],
    publish: Publisher | None,
    handlers: Handlers[C],
    context: C,
    caller: Pusher,
    request: PushRequest,
) -> PushResult:
    """Apply the batch in one write transaction, each mutation a step that fails alone, so a
    phone's whole queue costs one commit (one fsync) instead of one per mutation.

    On PostgreSQL two batches (or a batch and a sale) may lock the same items in opposite
    orders; the database then aborts one of them. That is not the client's problem: what came
    before the lost mutation is committed (which frees its locks), and the rest is applied again
    in a new transaction, a few times at most, before the failure reaches the client.
    """
    _check_batch(request)
    await _claim_client(request.client_id, caller)
    results: list[Outcome] = []
    pending = list(request.mutations)
    for attempt in range(LOCK_RACE_RETRIES + 1):
        done, last, stopped = await _apply(engine, publish, handlers, context, request.client_id, pending)
        results.extend(done)
        pending = pending[len(done) :]
        if stopped is None:
            return PushResult(last_mutation_id=last, results=results)
        if not lost_lock_race(stopped) or attempt == LOCK_RACE_RETRIES:
            raise stopped
        await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))  # let the winner commit
    raise AssertionError("unreachable")


async def _apply(
    engine: Engine[Any],
    publish: Publisher | None,
    handlers: Handlers[C],
    context: C,
    client_id: UUID,
    mutations: Sequence[Mutation],
) -> tuple[list[Outcome], int, Exception | None]:
    """One write transaction over `mutations`: (outcomes committed, last id, why it stopped early)."""
    results: list[Outcome] = []
    stopped: Exception | None = None
    try:
        async with unit_of_work(engine, publish):
            # Two tabs pushing one outbox at once: the second waits here for the first to commit.
            await _lock_client(engine, client_id)
            # The row lock makes this batch the client's only writer, so its bookkeeping is kept
            # here and written once at the end instead of read and written for every mutation.
            first = last = await _last_processed(client_id)
            outcomes: list[Outcome] = []
            for mutation in mutations:
                try:
                    outcome, fresh = await _process(engine, handlers, context, client_id, last, mutation)
                except Exception as exc:  # a gap, a "wait" (429) or a failure: what came before stays applied
                    stopped = exc
                    break
                results.append(outcome)
                if fresh:
                    outcomes.append(outcome)
                    last = outcome.id
            if last != first:
                await _remember(client_id, last, outcomes)
    except Exception as exc:
        if not lost_lock_race(exc):
            raise
        return [], 0, exc  # the whole transaction was rolled back
    return results, last, stopped


def _check_batch(request: PushRequest) -> None:
    mutations = request.mutations
    if not mutations:
        raise SyncInvalid("mutations must not be empty", field="mutations")
    if len(mutations) > MAX_BATCH:
        raise SyncInvalid(f"push at most {MAX_BATCH} mutations at a time", field="mutations")
    ids = [m.id for m in mutations]
    if ids[0] < 1 or ids != list(range(ids[0], ids[0] + len(ids))):
        raise SyncInvalid("mutation ids must be consecutive numbers starting at 1 or more", field="mutations")


async def _claim_client(client_id: UUID, caller: Pusher) -> None:
    """Bind a new client id to its caller; refuse anyone else pushing under it."""
    row = await SyncClient.select().where(SyncClient.id == client_id).first()
    if row is None:
        # Two tabs may push a new client's first batch at once: the insert must not race.
        await SyncClient.raw(
            "INSERT INTO sync_client (id, account_id, device_id, last_mutation_id, updated_at) "
            "VALUES ({}, {}, {}, 0, {}) ON CONFLICT (id) DO NOTHING",
            client_id,
            caller.account_id,
            caller.device_id,
            datetime.now(UTC),
        )
        row = await SyncClient.select().where(SyncClient.id == client_id).first()
    if row is None or row["account_id"] != caller.account_id or row["device_id"] != caller.device_id:
        raise SyncForbidden("This client id belongs to another device or account; pick a new one")


async def _lock_client(engine: Engine[Any], client_id: UUID) -> None:
    """Take the client row's write lock until the transaction ends (PostgreSQL; SQLite has one
    writer at a time already)."""
    if isinstance(engine, PostgresEngine):
        await SyncClient.select(SyncClient.id).where(SyncClient.id == client_id).lock_rows()


async def _process(
    engine: Engine[Any], handlers: Handlers[C], context: C, client_id: UUID, last: int, mutation: Mutation
) -> tuple[Outcome, bool]:
    """One mutation, inside the push's write transaction: applied, or refused (its changes rolled
    back to the step's savepoint); (its outcome, whether it is new and must be remembered).
    The outcomes are stored in the same transaction as the changes, so both commit or neither."""
    if mutation.id <= last:
        return await _stored_outcome(client_id, mutation.id), False
    if mutation.id > last + 1:
        raise SyncConflict(
            f"mutation {mutation.id} skips ahead: the server expects mutation {last + 1} next", field="mutations"
        )
    try:
        async with step(engine):
            data = await handlers.handler(mutation.name)(context, mutation.args)
            return Outcome(mutation.id, "applied", data=plain(data)), True
    except SyncError as exc:
        if exc.retryable:
            raise  # not a refusal (e.g. 429): the whole push answers it and the client sends again later
        state = await handlers.state_of(context, mutation)
        return Outcome(mutation.id, "rejected", exc.message, exc.field or "", state), True


async def _remember(client_id: UUID, last: int, outcomes: Sequence[Outcome]) -> None:
    await SyncClient.update({SyncClient.last_mutation_id: last, SyncClient.updated_at: datetime.now(UTC)}).where(
        SyncClient.id == client_id
    )
    await MutationResult.insert(
        *(
            MutationResult(
                client=client_id,
                mutation_id=outcome.id,
                status=outcome.status,
                reason=outcome.reason,
                field=outcome.field,
                data=json_text(outcome.data),
            )
            for outcome in outcomes
        )
    )


async def _stored_outcome(client_id: UUID, mutation_id: int) -> Outcome:
    row = (
        await MutationResult.select()
        .where((MutationResult.client == client_id) & (MutationResult.mutation_id == mutation_id))
        .first()
    )
    if row is None:  # outcomes are kept; should one be gone, the id was still processed: say only that
        return Outcome(mutation_id, "applied")
    return Outcome(mutation_id, row["status"], row["reason"], row["field"], json.loads(row["data"]))


async def _last_processed(client_id: UUID) -> int:
    row = await SyncClient.select(SyncClient.last_mutation_id).where(SyncClient.id == client_id).first()
    return int(row["last_mutation_id"]) if row else 0
