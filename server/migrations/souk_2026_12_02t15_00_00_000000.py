from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Photos in the database for scale-out (SOUK_PHOTO_STORE=database): the photo_blob table"

# The next migration (15:00:01) stores the bytes uncompressed on PostgreSQL: a migration's raw steps
# run before its tables are created, so that step cannot be one of this one's.


def _params(**changes):
    params = {
        "default": "",
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(changes)
    return params


COLUMNS = (
    ("id", "Varchar", Varchar, _params(length=80, primary_key=True)),
    ("photo_key", "Varchar", Varchar, _params(length=64, index=True)),
    ("size", "Varchar", Varchar, _params(length=16)),
    ("media_type", "Varchar", Varchar, _params(length=32)),
    ("byte_size", "Integer", Integer, _params(default=0)),
    ("data", "Bytea", Bytea, _params(default=b"")),
    ("created_at", "Timestamptz", Timestamptz, _params(default=TimestamptzNow())),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)

    manager.add_table(class_name="PhotoBlob", tablename="photo_blob", schema=None, columns=None)

    for name, class_name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="PhotoBlob",
            tablename="photo_blob",
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
