"""What a domain function needs from the outside world, passed in rather than imported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.engine.base import Engine

from server.photos import PhotoStore
from server.settings import Settings
from sync.log import Publisher


@dataclass(frozen=True)
class Market:
    """The running market's services: database engine, settings, pub/sub and photo store."""

    engine: Engine[Any]
    settings: Settings
    photos: PhotoStore
    publish: Publisher | None = None
