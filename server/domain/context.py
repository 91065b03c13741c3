"""What a domain function needs from the outside world, passed in rather than imported."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from piccolo.engine.base import Engine

from server.database import build_engine
from server.photos.database import DatabasePhotos
from server.photos.disk import DiskPhotos
from server.photos.storage import PhotoStorage
from server.photos.store import PhotoStore
from server.ratelimit import MemoryCounters, RateLimiter
from server.settings import Settings
from sync.log import Publisher

# Argon2id takes 64 MB and tens of milliseconds of CPU per check, on purpose. Two at a time keep
# a burst of sign-ins (or of guesses) from taking the server's memory and both cores.
PASSWORD_CHECKS_AT_ONCE = 2


@dataclass(frozen=True)
class Services:
    """The running market's services: database engine, settings, pub/sub and photo store, and
    the guards that keep one client from taking them all (rate limits, password check slots)."""

    engine: Engine[Any]
    settings: Settings
    photos: PhotoStore
    publish: Publisher | None = None
    limits: RateLimiter = field(default_factory=lambda: RateLimiter(MemoryCounters()))
    password_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PASSWORD_CHECKS_AT_ONCE))

    @classmethod
    def from_settings(
        cls, settings: Settings, *, publish: Publisher | None = None, limits: RateLimiter | None = None
    ) -> Services:
        """The one way to build them: the server, the CLI, benchmarks and tests all come here,
        so a new service is wired in one place. The engine is built, not connected: whoever
        runs it binds the tables and starts it (the app in its lifespan, the CLI around a job)."""
        return cls(
            engine=build_engine(settings),
            settings=settings,
            photos=PhotoStore(photo_storage(settings), settings.max_upload_bytes),
            publish=publish,
            limits=limits or RateLimiter(MemoryCounters()),
        )


def photo_storage(settings: Settings) -> PhotoStorage:
    """Where photos' bytes live (SOUK_PHOTO_STORE): the data dir, or the database every node shares."""
    if settings.photo_store == "database":
        return DatabasePhotos()
    return DiskPhotos(settings.photos_dir)
