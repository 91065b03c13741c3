from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-02T18:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Per-unit holds: the item_hold table, item.held, sale.holds and sale.undone_at"

# The next migration (18:10:01) turns the reservations that exist into holds: a migration's raw
# steps run before its tables are created, so that step cannot be one of this one's.


class Event(Table, tablename="event", schema=None):
    id = UUID(default=UUID4(), primary_key=True)


class Item(Table, tablename="item", schema=None):
    id = UUID(default=UUID4(), primary_key=True)


def _params(**changes):
    params = {
        "default": None,
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


def _foreign_key(table, **changes):
    return _params(
        references=table,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.cascade,
        target_column=None,
        **changes,
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)

    manager.add_table(class_name="ItemHold", tablename="item_hold", schema=None, columns=None)
    columns = (
        ("id", "UUID", UUID, _params(primary_key=True, default=UUID4())),
        ("event", "ForeignKey", ForeignKey, _foreign_key(Event, index=True)),
        ("item", "ForeignKey", ForeignKey, _foreign_key(Item, index=True)),
        ("device", "UUID", UUID, _params(null=True)),
        ("quantity", "Integer", Integer, _params(default=1)),
        ("until", "Timestamptz", Timestamptz, _params(default=TimestamptzNow())),
        ("created_at", "Timestamptz", Timestamptz, _params(default=TimestamptzNow())),
    )
    for name, class_name, column_class, params in columns:
        manager.add_column(
            table_class_name="ItemHold",
            tablename="item_hold",
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )

    for table_class, table, name, class_name, column_class, params in (
        ("Item", "item", "held", "Integer", Integer, _params(default=0)),
        ("Sale", "sale", "holds", "Text", Text, _params(default="[]")),
        ("Sale", "sale", "undone_at", "Timestamptz", Timestamptz, _params(null=True)),
    ):
        manager.add_column(
            table_class_name=table_class,
            tablename=table,
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
