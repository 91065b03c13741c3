from datetime import UTC, datetime
from uuid import UUID, uuid4

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-02T18:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Reservations made before per-unit holds become holds of one unit"

# Before, a reservation held the whole listing (item.state = 'reserved', reserved_until,
# reserved_for). Each becomes a hold of one unit for the same visitor and time; the item reads
# "reserved" only if that was its last unit, as the new rule says.
FIND = (
    "SELECT id, event, quantity, reserved_until, reserved_for FROM item "
    "WHERE state = 'reserved' AND deleted_at IS NULL AND reserved_until IS NOT NULL"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)

    async def convert() -> None:
        engine = engine_finder()
        rows = await engine.run_ddl(FIND)
        for row in rows or []:
            quantity = int(row["quantity"])
            held = 1 if quantity > 0 else 0
            if held:
                await engine.run_querystring(
                    QueryString(
                        "INSERT INTO item_hold (id, event, item, device, quantity, until, created_at) "
                        "VALUES ({}, {}, {}, {}, 1, {}, {})",
                        uuid4(),
                        _uuid(row["event"]),
                        _uuid(row["id"]),
                        _uuid(row["reserved_for"]) if row["reserved_for"] else None,
                        _utc(row["reserved_until"]),
                        datetime.now(UTC),
                    )
                )
            state = "reserved" if held and held >= quantity else "available"
            await engine.run_querystring(
                QueryString(
                    "UPDATE item SET held = {}, state = {}, reserved_for = NULL WHERE id = {}",
                    held,
                    state,
                    _uuid(row["id"]),
                )
            )

    async def undo() -> None:
        await engine_finder().run_ddl("UPDATE item SET held = 0")

    manager.add_raw(convert)
    manager.add_raw_backwards(undo)
    return manager


def _uuid(value):
    return value if isinstance(value, UUID) else UUID(str(value))


def _utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
