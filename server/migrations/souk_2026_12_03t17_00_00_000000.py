from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Change log: the columns each change touched (null: not said), so a pull can send patches"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)

    manager.add_column(
        table_class_name="ChangeLog",
        tablename="change_log",
        column_name="changed",
        db_column_name="changed",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
