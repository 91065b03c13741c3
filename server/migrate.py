"""Bring a database to the current schema with Piccolo's migrations (`souk migrate`)."""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any

from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager
from piccolo.engine.base import Engine

from server import piccolo_conf
from server.database import bind_tables
from sync.log import ensure_log_head


class MigrationFailed(RuntimeError):
    pass


async def migrate(engine: Engine[Any], *, quiet: bool = True) -> None:
    """Run every pending migration against `engine`, then create the log's head row.

    Piccolo finds its engine through its configuration module; pointing that module at this
    engine for the duration keeps the migrations, the app and the tests on one connection setup.
    """
    os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
    bind_tables(engine)
    token = piccolo_conf.ENGINE.set(engine)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
            result = await ForwardsMigrationManager(app_name="souk").run()
        if not result.success:
            raise MigrationFailed(f"Migration failed: {result.message}\n{out.getvalue()}")
    finally:
        piccolo_conf.ENGINE.reset(token)
    await ensure_log_head()
