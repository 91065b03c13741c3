from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T13:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Rename the Web Push notifier's change-log cursor from 'push' to 'webpush'"

# The notifier's place in the change log moves with it: without this, the renamed reader would start
# from the beginning and send a push for every message ever logged, while the old row, a reader no one
# knows any more, would hold log compaction back for good.
RENAME = (
    "UPDATE log_cursor SET name = 'webpush' WHERE name = 'push' "
    "AND NOT EXISTS (SELECT 1 FROM log_cursor WHERE name = 'webpush')"
)
DROP_OLD = "DELETE FROM log_cursor WHERE name = 'push'"
UNDO = (
    "UPDATE log_cursor SET name = 'push' WHERE name = 'webpush' "
    "AND NOT EXISTS (SELECT 1 FROM log_cursor WHERE name = 'push')"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)

    async def rename() -> None:
        engine = engine_finder()
        await engine.run_ddl(RENAME)
        await engine.run_ddl(DROP_OLD)

    async def undo() -> None:
        await engine_finder().run_ddl(UNDO)

    manager.add_raw(rename)
    manager.add_raw_backwards(undo)
    return manager
