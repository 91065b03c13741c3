import contextlib

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Photo sizes: width and height of photos stored as 0 x 0, read from their stored originals"


async def backfill_photo_sizes():
    """Looks in both photo storages, whatever SOUK_PHOTO_STORE says: the database's (rows of
    photo_blob, present on any database) and the data dir's (from the environment `souk
    migrate` and `souk serve` run with), so a market that moved its photos is covered too."""
    from server.photos.database import DatabasePhotos
    from server.photos.disk import DiskPhotos
    from server.photos.sizes import backfill_sizes
    from server.settings import Settings, SettingsError

    storages = [DatabasePhotos()]
    with contextlib.suppress(SettingsError):  # no usable environment: the database's photos only
        storages.append(DiskPhotos(Settings.from_env().photos_dir))
    await backfill_sizes(storages)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="souk", description=DESCRIPTION)
    manager.add_raw(backfill_photo_sizes)
    return manager
