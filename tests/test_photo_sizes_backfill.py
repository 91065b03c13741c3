"""The migration that backfills photo sizes (server/migrations/souk_2026_12_03t08_00_00_000000.py,
server/photos/sizes.py): rows that say 0 x 0 get the size of their stored original, from the
disk storage or the database storage, run as a real migration on the test database."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from server.migrate import migrate
from server.photos.storage import PhotoStorage
from server.tables import Photo
from tests.test_move_photos import save_photos

MIGRATION = "server.migrations.souk_2026_12_03t08_00_00_000000"


async def test_the_migration_backfills_sizes_from_the_stored_originals(
    photo_database: None, photo_storage: PhotoStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk storage of the fixture is the data dir's photo folder, as the migration finds it.
    monkeypatch.setenv("SOUK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SOUK_PHOTO_STORE", raising=False)
    monkeypatch.delenv("SOUK_DATABASE_URL", raising=False)
    await Photo.delete(force=True)
    stored = await save_photos(photo_storage)
    assert {(p.width, p.height) for p in stored} == {(900, 700), (1200, 800), (200, 150)}
    missing = "f" * 64  # a row whose photo no storage holds
    await Photo.insert(
        *(Photo(key=p.key, mime=p.mime, width=0, height=0, byte_size=p.byte_size) for p in stored),
        Photo(key=missing, mime="image/jpeg", width=0, height=0, byte_size=1),
    )
    # Run the migration for real: forget that it ran, and migrate.
    migration = importlib.import_module(MIGRATION)
    await Photo.raw("DELETE FROM migration WHERE name = {}", migration.ID)
    await migrate(Photo._meta.db)
    sizes = {r["key"]: (r["width"], r["height"]) for r in await Photo.select(Photo.key, Photo.width, Photo.height)}
    assert sizes == {**{p.key: (p.width, p.height) for p in stored}, missing: (0, 0)}
    # Rows with a size are left alone.
    await Photo.update({Photo.width: 7, Photo.height: 5}).where(Photo.key == stored[0].key)
    await Photo.raw("DELETE FROM migration WHERE name = {}", migration.ID)
    await migrate(Photo._meta.db)
    row = await Photo.select(Photo.width, Photo.height).where(Photo.key == stored[0].key).first()
    assert row == {"width": 7, "height": 5}
    await Photo.delete(force=True)
