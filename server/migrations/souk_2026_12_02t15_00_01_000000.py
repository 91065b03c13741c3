from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T15:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "photo_blob.data stored uncompressed on PostgreSQL"

# Photos (JPEG, PNG, WebP) do not compress: keep the bytes uncompressed out of line, so serving can
# read a slice (substr) without de-toasting the whole value. PostgreSQL only; SQLite has no such knob.
EXTERNAL = "ALTER TABLE photo_blob ALTER COLUMN data SET STORAGE EXTERNAL"
UNDO = "ALTER TABLE photo_blob ALTER COLUMN data SET STORAGE EXTENDED"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)

    def on_postgres(ddl: str):
        async def run() -> None:
            engine = engine_finder()
            if engine is not None and engine.engine_type == "postgres":
                await engine.run_ddl(ddl)

        return run

    manager.add_raw(on_postgres(EXTERNAL))
    manager.add_raw_backwards(on_postgres(UNDO))
    return manager
