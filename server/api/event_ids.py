"""Event ids by slug, remembered per app, for routes asked many times a second (search).

Every keystroke of a visitor's search names its event by slug, and looking the slug up was
a database query on each one. The answer cannot go stale: an event's slug is fixed once
created (`events.EventPatch` has no slug) and events are never deleted, so a slug or id that
was found once names the same event for the life of the process. Only found events are
remembered: an unknown slug is asked again each time (it may be created later, possibly by
another node of a scale-out deployment), and answers 404 as before.
"""

from __future__ import annotations

from uuid import UUID

from litestar.datastructures import State

from server.domain import events

STATE_KEY = "event_ids"
MAX_REMEMBERED = 1024  # events per market server: a handful; the bound only stops a flood of ids


class EventIds:
    """slug (or id, as typed in the URL) -> event id, for the events looked up so far."""

    def __init__(self, size: int = MAX_REMEMBERED) -> None:
        self._ids: dict[str, UUID] = {}
        self._size = size

    async def resolve(self, slug_or_id: str) -> UUID:
        """The event's id; NotFound (404) for an unknown event, as `events.get_event`."""
        known = self._ids.get(slug_or_id)
        if known is not None:
            return known
        event_id = (await events.get_event(slug_or_id)).id
        if len(self._ids) >= self._size:
            self._ids.clear()
        self._ids[slug_or_id] = event_id
        return event_id


def event_ids(state: State) -> EventIds:
    """The app's cache (made on first use, so the app factory needs no change)."""
    ids = state.get(STATE_KEY)
    if not isinstance(ids, EventIds):
        ids = EventIds()
        state[STATE_KEY] = ids
    return ids
