"""ASGI entry for uvicorn workers: each worker process builds its settings from the environment."""

from __future__ import annotations

from litestar import Litestar

from server.app import create_app
from server.settings import Settings


def make_app() -> Litestar:
    return create_app(Settings.from_env())
