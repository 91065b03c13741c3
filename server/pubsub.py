"""Pub/sub between the parts of Souk: in-process by default, Redis when several workers run.

Only pokes and realtime events travel here; the database stays the source of truth, so a
message lost on this channel delays an update but never loses data.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from server.settings import Settings


def build_channels(settings: Settings) -> ChannelsPlugin:
    backend: ChannelsBackend
    if settings.redis_url:
        from redis.asyncio import Redis

        backend = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url), key_prefix="souk")
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True, create_ws_route_handlers=False)


def publisher(channels: ChannelsPlugin) -> Callable[[dict[str, object], list[str]], None]:
    def publish(data: dict[str, object], scopes: list[str]) -> None:
        channels.publish(data, channels=scopes)

    return publish
