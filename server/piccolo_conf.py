"""The module Piccolo's migration tooling imports (PICCOLO_CONF=server.piccolo_conf).

`DB` is resolved on each access rather than at import, so importing this module connects to
nothing: inside `server.migrate.migrate` it is the engine being migrated; for Piccolo's own CLI
(`piccolo migrations new souk --auto`) it is the engine the environment's settings name.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])
ENGINE: ContextVar[Engine[Any] | None] = ContextVar("souk_migration_engine", default=None)


def __getattr__(name: str) -> Any:
    if name == "DB":
        return ENGINE.get() or _engine_from_env()
    raise AttributeError(name)


@lru_cache(maxsize=1)
def _engine_from_env() -> Engine[Any]:
    from server.database import build_engine
    from server.settings import Settings

    return build_engine(Settings.from_env())
