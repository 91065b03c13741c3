"""Admission to decoding: at most a few decodes at once per store, a short queue, and "busy" for the rest.

So the memory photos can take is bounded by (decodes at once x decode budget), whatever the burst of uploads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Final

from server.photos.errors import PhotoBusy

# Decodes at once per store, and how many more may queue for a turn before the next upload
# is told to come back later: decoding takes at most MAX_DECODES x (DECODE_BUDGET + ~40 MB),
# and the queue holds at most MAX_WAITING request bodies (each within the upload byte limit).
MAX_DECODES: Final = 2
MAX_WAITING: Final = 8
MAX_WAIT_SECONDS: Final = 30.0
BUSY_RETRY_AFTER: Final = 5


class DecodeGate:
    """Admission to the memory-hungry part of a save: at most ``limit`` at once.

    Up to ``max_waiting`` more queue for a turn; one more, or a wait longer than
    ``wait_seconds``, raises ``PhotoBusy`` at once, so a burst of uploads never holds more
    bodies in memory than that queue.  A finishing save hands its slot straight to a queued
    one (``threading.Condition`` wakes waiters in arrival order), so a newcomer cannot jump
    the queue.  Saves run in worker threads, hence a thread primitive, not an asyncio one.
    """

    def __init__(self, limit: int, max_waiting: int, wait_seconds: float) -> None:
        """One gate per ``PhotoStore``: nothing here is shared between stores or apps."""
        self.limit = limit
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self._condition = threading.Condition()
        self._active = 0  # slots taken, including ones handed over but not yet picked up
        self._waiting = 0
        self._handed_over = 0

    @property
    def active(self) -> int:
        """Saves holding a slot now."""
        with self._condition:
            return self._active

    @property
    def waiting(self) -> int:
        """Saves queued for a slot now."""
        with self._condition:
            return self._waiting

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``limit`` slots for the duration of the ``with`` block."""
        with self._condition:
            if self._active < self.limit and not self._waiting:
                self._active += 1
            elif self._waiting >= self.max_waiting:
                raise self._busy()
            else:
                self._waiting += 1
                try:
                    if not self._condition.wait_for(lambda: self._handed_over > 0, self.wait_seconds):
                        raise self._busy()
                    self._handed_over -= 1  # the slot, still counted in _active, is ours
                finally:
                    self._waiting -= 1
        try:
            yield
        finally:
            with self._condition:
                if self._waiting > self._handed_over:  # someone queued has no slot yet
                    self._handed_over += 1
                    self._condition.notify()
                else:
                    self._active -= 1

    @staticmethod
    def _busy() -> PhotoBusy:
        return PhotoBusy(
            f"The server is busy with other photos; try again in {BUSY_RETRY_AFTER} seconds.", BUSY_RETRY_AFTER
        )
