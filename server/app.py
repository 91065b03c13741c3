"""Where a request enters: `create_app(settings)` assembles Souk's Litestar application.

Tests, `souk serve` and `souk demo` all call this one factory with a Settings object; nothing
is configured at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from search.machine import open_search
from server.api.asyncapi import asyncapi
from server.api.auth import AuthController
from server.api.chat import ChatController
from server.api.deps import provide_actor
from server.api.errors import document_errors, domain_error, http_error, server_error, too_deep, validation_error
from server.api.events import EventController
from server.api.health import health
from server.api.items import ItemController
from server.api.kiosk_pages import kiosk_handlers
from server.api.live import live_personal
from server.api.organizer import OrganizerController
from server.api.pages import PageController
from server.api.photos import PhotoController
from server.api.pwa import pwa_handlers
from server.api.search import SearchController
from server.api.security_headers import SecurityHeadersMiddleware
from server.api.stalls import StallController
from server.api.sync import SyncController, live
from server.api.webpush import WebPushController
from server.cluster_jobs import ClusterJobs
from server.database import (
    bind_tables,
    prepare_sqlite_file,
    start_engine,
    stop_engine,
)
from server.domain.context import Services
from server.domain.errors import DomainError
from server.domain.reservations import run_sweeper
from server.notify import WebPushNotifier
from server.pubsub import build_channels, publisher
from server.ratelimit import build_rate_limiter
from server.search_source import Indexer
from server.settings import Settings
from server.webpush.client import PushSender
from server.webpush.keys import load_or_create_vapid_keys
from server.webpush.transport import push_http_client
from sync.log import ensure_log_head

# On a market's weak signal, bytes are time: JSON and the app's code shrink 4-6x with gzip.
# Photos, QR PNGs and PDFs are compressed already; gzipping them again only costs CPU.
COMPRESSION = CompressionConfig(
    backend="gzip",
    gzip_compress_level=6,
    minimum_size=1024,
    exclude=[r"^/photos/", r"\.png$", r"\.pdf$"],
)


def create_app(settings: Settings) -> Litestar:
    """Build the application; the database is connected in its lifespan, not here."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    channels = build_channels(settings)
    publish_to_channels = publisher(channels)

    def publish(data: dict[str, object], scopes: list[str]) -> None:
        publish_to_channels(data, scopes)
        search.wake()  # local commits reach the index at once; others within a poll
        notifier.wake()

    limits = build_rate_limiter(settings.redis_url, settings.rate_limit_factor)
    services = Services.from_settings(settings, publish=publish, limits=limits)
    engine = services.engine
    search = open_search(
        settings.data_dir,
        settings.meili_url,
        settings.meili_key,
        lambda index, cursor: Indexer(index, engine, name=cursor),
    )
    # Push endpoints come from clients: this client only connects to vetted public addresses.
    http: httpx.AsyncClient = push_http_client(allow_loopback=settings.push_allow_http, timeout=15.0)
    notifier = WebPushNotifier(
        PushSender(
            load_or_create_vapid_keys(settings.data_dir),
            settings.vapid_contact,
            http,
            require_https=not settings.push_allow_http,
        ),
        engine,
        settings.base_url,
    )
    # Jobs that run once for the whole market (on one node of a scale-out deployment, taken
    # over when it dies). Search is kept per machine (or shared, with Meilisearch): `search.machine`.
    jobs = ClusterJobs(None if settings.is_sqlite else settings.database_url)
    jobs.add(WebPushNotifier.name, notifier.run, stop=notifier.stop)
    jobs.add("reservation-sweeper", lambda: run_sweeper(services))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        prepare_sqlite_file(settings)
        bind_tables(engine)
        await start_engine(engine)
        app.state.search = search
        app.state.notifier = notifier
        app.state.cluster_jobs = jobs
        try:
            await ensure_log_head()
            await search.start()
            app.state.indexer = search.indexer  # None in a process that only reads the index
            indexing = asyncio.create_task(search.run(), name="souk-search-indexer")
            jobs.start()
            try:
                yield
            finally:
                search.stop()
                await jobs.close()
                await indexing
                await notifier.drain()
                await http.aclose()
                await search.close()
                await limits.close()
        finally:
            await stop_engine(engine)

    application = Litestar(
        route_handlers=[
            AuthController,
            EventController,
            StallController,
            ItemController,
            PhotoController,
            PageController,
            health,
            asyncapi,
            SyncController,
            SearchController,
            ChatController,
            live_personal,
            WebPushController,
            OrganizerController,
            *pwa_handlers,
            *kiosk_handlers,
            live,
        ],
        dependencies={
            "services": Provide(lambda: services, sync_to_thread=False),
            "actor": Provide(provide_actor),
            "search": Provide(lambda: search.engine, sync_to_thread=False),
        },
        plugins=[channels],
        lifespan=[lifespan],
        exception_handlers={
            DomainError: domain_error,
            ValidationException: validation_error,
            HTTPException: http_error,
            RecursionError: too_deep,
            Exception: server_error,
        },
        openapi_config=OpenAPIConfig(
            title="Souk", version="0.1.0", path="/api/schema", render_plugins=[SwaggerRenderPlugin()]
        ),
        # Uploads are checked (and refused with a 422 naming the field) by the photo pipeline;
        # this outer cap only stops absurd bodies before they are read.
        request_max_body_size=settings.max_upload_bytes * 2 + 1_000_000,
        cors_config=CORSConfig(allow_origins=[settings.base_url]),
        compression_config=COMPRESSION,
        middleware=[SecurityHeadersMiddleware(settings.base_url)],
        debug=settings.debug,
    )
    document_errors(application)
    return application
