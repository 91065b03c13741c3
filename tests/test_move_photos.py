"""`souk move-photos`: every stored size of every photo copied from one photo store to the other
(server/photos/transfer.py), byte for byte, verified, idempotent, the source untouched.

The copy itself runs on real backends in both test passes (the database backend is plain Piccolo
and runs on SQLite too, see the `photo_storage` fixture); the command runs as a real process, its
full disk -> database -> disk round trip against real `souk serve` processes on PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from server.photos import database as database_module
from server.photos.database import DatabasePhotos
from server.photos.disk import DiskPhotos
from server.photos.storage import PHOTO_SIZES, PhotoStorage, StoredVariant, Variant
from server.photos.store import PhotoStore, StoredPhoto
from server.photos.transfer import MAX_NAMED, MoveReport, TransferFailed, list_keys, move_photos
from server.settings import Settings
from tests.conftest import start_server, stored_photo_names
from tests.test_photos import encode, noisy_image

SOUK = [sys.executable, "-m", "server.cli"]
ON_SQLITE = "the command moves photos into or out of PostgreSQL (run with SOUK_TEST_DATABASE_URL)"
MAX_BYTES = 5_000_000


def storage_named(name: str, request: pytest.FixtureRequest, folder: Path) -> PhotoStorage:
    if name == "disk":
        return DiskPhotos(folder)
    request.getfixturevalue("photo_database")
    return DatabasePhotos()


async def save_photos(storage: PhotoStorage) -> list[StoredPhoto]:
    """A big noisy PNG (an original of several read chunks), a JPEG and a small WebP."""
    store = PhotoStore(storage, MAX_BYTES)
    return [
        await store.save(encode(noisy_image((900, 700), seed=1), "PNG")),
        await store.save(encode(noisy_image((1200, 800), seed=2), "JPEG", quality=90)),
        await store.save(encode(noisy_image((200, 150), seed=3), "WEBP")),
    ]


async def read(storage: PhotoStorage, key: str, size: str) -> tuple[str, bytes] | None:
    found = await storage.find(key, size)
    if found is None:
        return None
    return found.media_type, b"".join([chunk async for chunk in storage.chunks(found)])


async def contents(storage: PhotoStorage) -> dict[str, tuple[str, str]]:
    """Every stored variant: "<key>/<size>" -> (media type, sha256)."""
    held: dict[str, tuple[str, str]] = {}
    for key in await list_keys(storage):
        for size in PHOTO_SIZES:
            if (got := await read(storage, key, size)) is not None:
                held[f"{key}/{size}"] = (got[0], hashlib.sha256(got[1]).hexdigest())
    return held


class Recording:
    """A storage wrapper that records each put, and can fail or corrupt on demand."""

    def __init__(self, inner: PhotoStorage, *, fail_on_put: int = 0, corrupt: str = "") -> None:
        self.inner = inner
        self.puts: list[tuple[str, list[str]]] = []
        self.fail_on_put = fail_on_put  # the n-th put raises (1-based); 0: never
        self.corrupt = corrupt  # "<key>/<size>" read back with a flipped byte

    async def has(self, key: str) -> bool:
        return await self.inner.has(key)

    async def put(self, key: str, variants: Sequence[Variant]) -> None:
        self.puts.append((key, [variant.size for variant in variants]))
        if len(self.puts) == self.fail_on_put:
            raise OSError(28, "No space left on device")
        await self.inner.put(key, variants)

    async def find(self, key: str, size: str) -> StoredVariant | None:
        return await self.inner.find(key, size)

    async def chunks(self, found: StoredVariant) -> AsyncIterator[bytes]:
        first = True
        async for chunk in self.inner.chunks(found):
            if first and f"{found.key}/{found.size}" == self.corrupt:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            first = False
            yield chunk

    def stored_keys(self) -> AsyncIterator[str]:
        return self.inner.stored_keys()


# --- listing stored keys (the storage method the copy needs) ---------------------------------


async def test_stored_keys_lists_every_key_in_order(photo_storage: PhotoStorage) -> None:
    assert await list_keys(photo_storage) == []
    photos = await save_photos(photo_storage)
    partial = "f" * 64  # an upload interrupted before its original: listed too
    await photo_storage.put(partial, [Variant("320", "image/jpeg", b"thumb")])
    assert await list_keys(photo_storage) == sorted([*(photo.key for photo in photos), partial])


async def test_stored_keys_skips_what_is_not_a_photo_folder(tmp_path: Path) -> None:
    storage = DiskPhotos(tmp_path / "photos")
    assert await list_keys(storage) == []  # no folder yet
    photos = await save_photos(storage)
    (storage.root / "ab" / ("ab" + "0" * 62)).mkdir(parents=True)  # empty, but a key-shaped folder: listed
    (storage.root / "zz" / "not-a-key").mkdir(parents=True)
    (storage.root / "cd" / ("ab" + "1" * 62)).mkdir(parents=True)  # a key under the wrong fan-out
    (storage.root / ".tmp-file").write_bytes(b"x")
    (storage.root / photos[0].key[:2] / ".ab.tmp").write_bytes(b"x")
    assert await list_keys(storage) == sorted([*(photo.key for photo in photos), "ab" + "0" * 62])


async def test_database_keys_are_paged(photo_database: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_module, "KEYS_PAGE", 2)
    storage = DatabasePhotos()
    keys = [f"{n:02x}" * 32 for n in (7, 1, 5, 3, 2)]
    for key in keys:
        await storage.put(key, [Variant("320", "image/jpeg", b"t"), Variant("original", "image/png", b"o")])
    assert await list_keys(storage) == sorted(keys)


# --- the copy --------------------------------------------------------------------------------


@pytest.fixture(params=[("disk", "database"), ("database", "disk"), ("disk", "disk")], ids="->".join)
def source_and_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[PhotoStorage, PhotoStorage]:
    """Real backends each way (a sync fixture: it may set up the async `photo_database` one)."""
    source_name, target_name = request.param
    return storage_named(source_name, request, tmp_path / "from"), storage_named(target_name, request, tmp_path / "to")


async def test_every_size_of_every_photo_is_copied_identically_once(
    source_and_target: tuple[PhotoStorage, PhotoStorage],
) -> None:
    source, target = source_and_target[0], Recording(source_and_target[1])
    photos = await save_photos(source)
    partial = "e" * 64
    await source.put(partial, [Variant("320", "image/jpeg", b"only a thumbnail")])
    before = await contents(source)
    assert len(before) == 3 * 3 + 1
    progress: list[tuple[int, int]] = []

    report = await move_photos(source, target, await list_keys(source), lambda d, t: progress.append((d, t)))

    assert await contents(target) == before == await contents(source)  # identical, and the source untouched
    for photo in photos:
        for size in PHOTO_SIZES:
            assert await read(target, photo.key, size) == await read(source, photo.key, size)
        assert await target.has(photo.key)
    assert not await target.has(partial)  # still "not a full photo" in the target
    total = 0
    for name in before:
        found = await source.find(*name.split("/"))
        assert found is not None
        total += found.byte_size
    assert (report.photos, report.copied, report.already_there, report.failures) == (4, 10, 0, 0)
    assert report.copied_bytes == report.total_bytes == total
    assert progress == [(n, 4) for n in range(1, 5)]
    # One variant a write, each photo's thumbnails before its original (as an upload writes them).
    assert all(len(sizes) == 1 for _, sizes in target.puts)
    for photo in photos:
        assert [sizes[0] for key, sizes in target.puts if key == photo.key] == ["320", "960", "original"]

    again = await move_photos(source, target, await list_keys(source))
    assert (again.copied, again.copied_bytes, again.already_there, again.already_bytes) == (0, 0, 10, total)
    assert again.differing == [] and again.failures == 0
    assert await contents(target) == before


async def test_an_interrupted_copy_resumes_where_it_stopped(photo_database: None, tmp_path: Path) -> None:
    source = DiskPhotos(tmp_path / "photos")
    await save_photos(source)
    keys = await list_keys(source)
    failing = Recording(DatabasePhotos(), fail_on_put=5)  # the second photo's 960

    with pytest.raises(TransferFailed, match=rf"{keys[1]}/960.*No space left"):
        await move_photos(source, failing, keys)

    assert len(await stored_photo_names(DatabasePhotos())) == 4
    resumed = await move_photos(source, DatabasePhotos(), keys)
    assert (resumed.copied, resumed.already_there, resumed.failures) == (5, 4, 0)
    assert await contents(DatabasePhotos()) == await contents(source)


async def test_a_copy_that_reads_back_different_is_a_failure(tmp_path: Path) -> None:
    source = DiskPhotos(tmp_path / "a")
    photos = await save_photos(source)
    bad = f"{photos[0].key}/960"
    target = Recording(DiskPhotos(tmp_path / "b"), corrupt=bad)

    report = await move_photos(source, target, await list_keys(source))

    assert report.failures == 1 and report.failed == [f"{bad}: the target's copy reads back different from the source"]
    assert report.copied == 8


async def test_a_damaged_source_original_is_not_copied(tmp_path: Path) -> None:
    source = DiskPhotos(tmp_path / "a")
    photos = await save_photos(source)
    damaged = source.path_for(photos[1].key, "original")
    assert damaged is not None
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")  # same length, other bytes
    target = DiskPhotos(tmp_path / "b")

    report = await move_photos(source, target, await list_keys(source))

    assert report.failures == 1 and "does not hash to its key" in report.failed[0]
    assert await target.find(photos[1].key, "original") is None
    assert await target.find(photos[1].key, "320") is not None  # its thumbnails are fine
    assert report.copied == 8


async def test_a_different_copy_already_there_is_kept_and_reported(tmp_path: Path) -> None:
    source = DiskPhotos(tmp_path / "a")
    photos = await save_photos(source)
    target = DiskPhotos(tmp_path / "b")
    await target.put(photos[0].key, [Variant("320", "image/jpeg", b"another rendering")])

    report = await move_photos(source, target, await list_keys(source))

    assert report.differing == [f"{photos[0].key}/320"] and report.failures == 0
    assert (report.copied, report.already_there) == (8, 1)
    assert await read(target, photos[0].key, "320") == ("image/jpeg", b"another rendering")


def test_failures_named_are_capped_but_counted() -> None:
    report = MoveReport()
    for n in range(MAX_NAMED + 5):
        report.fail(f"k/{n}", "why")
    assert report.failures == MAX_NAMED + 5 and len(report.failed) == MAX_NAMED


# --- the command -------------------------------------------------------------------------------


def souk(data_dir: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    env.update(SOUK_DATA_DIR=str(data_dir), **env_extra)
    return subprocess.run([*SOUK, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("to", ["database", "disk"])
def test_on_sqlite_the_command_refuses(tmp_path: Path, to: str) -> None:
    done = souk(tmp_path, "move-photos", "--to", to)
    assert done.returncode == 1
    assert "need PostgreSQL" in done.stderr and "SQLite" in done.stderr
    assert not (tmp_path / "souk.sqlite3").exists()  # refused before touching anything


def test_refusals_before_any_database_work(tmp_path: Path) -> None:
    unreachable = {"SOUK_DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing"}  # never connected to
    same = souk(tmp_path, "move-photos", "--from", "disk", "--to", "disk", **unreachable)
    assert same.returncode == 1 and "both disk: nothing to move" in same.stderr
    missing = souk(tmp_path, "move-photos", "--to", "database", **unreachable)
    assert missing.returncode == 1
    assert f"no photo folder at {tmp_path / 'photos'}" in missing.stderr and "SOUK_DATA_DIR" in missing.stderr
    wrong = souk(tmp_path, "move-photos", "--to", "s3")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
    assert souk(tmp_path, "move-photos").returncode == 2  # --to is required


def test_an_empty_photo_folder_says_so(db: Settings, tmp_path: Path) -> None:
    if db.is_sqlite:
        pytest.skip(ON_SQLITE)
    (tmp_path / "photos" / "ab").mkdir(parents=True)
    done = souk(tmp_path, "move-photos", "--to", "database", SOUK_DATABASE_URL=db.database_url)
    assert done.returncode == 1
    assert f"no photos in {tmp_path / 'photos'}: nothing to move" in done.stderr


def test_an_empty_database_says_so(db: Settings, photo_database: None, tmp_path: Path) -> None:
    if db.is_sqlite:
        pytest.skip(ON_SQLITE)
    done = souk(tmp_path, "move-photos", "--to", "disk", SOUK_DATABASE_URL=db.database_url)
    assert done.returncode == 1 and "no photos in the database" in done.stderr
    assert not (tmp_path / "photos").exists()


async def upload(client: httpx.AsyncClient, data: bytes) -> dict[str, str]:
    visitor = {"Authorization": f"Bearer {(await client.post('/api/devices')).json()['token']}"}
    r = await client.post("/api/photos", files={"file": ("IMG.jpg", data, "image/jpeg")}, headers=visitor)
    assert r.status_code == 201, r.text
    photo: dict[str, str] = r.json()["photo"]
    return photo


async def test_move_to_the_database_while_serving_then_back(db: Settings, photo_database: None, tmp_path: Path) -> None:
    """The scale-out switch as an operator does it: a node serving photos from its data dir, the
    copy run beside it, a node with SOUK_PHOTO_STORE=database serving every size byte for byte;
    a re-run copies only what was uploaded meanwhile; then the way back into a fresh data dir."""
    if db.is_sqlite:
        pytest.skip(ON_SQLITE)
    url = {"SOUK_DATABASE_URL": db.database_url}
    old_dir, new_dir, back_dir = tmp_path / "old", tmp_path / "new", tmp_path / "back"
    disk_node, disk_base = start_server(db, SOUK_DATA_DIR=str(old_dir), SOUK_PHOTO_STORE="disk")
    processes = [disk_node]
    try:
        async with httpx.AsyncClient(base_url=disk_base) as on_disk:
            photos = [await upload(on_disk, encode(noisy_image((1500, 1000), seed=n), "JPEG")) for n in (1, 2)]
            served = {(p["key"], size): (await on_disk.get(f"/photos/{p['key']}/{size}")).content for p in photos
                      for size in PHOTO_SIZES}  # fmt: skip
            assert await stored_photo_names(DatabasePhotos()) == []

            first = souk(old_dir, "move-photos", "--to", "database", **url)  # while the disk node serves
            assert first.returncode == 0, first.stderr
            assert "Photos: 2. Copied 6 sizes" in first.stdout and "0 already there" in first.stdout
            assert f"{sum(map(len, served.values())):,} bytes" in first.stdout
            assert "set SOUK_PHOTO_STORE=database on every node and restart" in first.stdout
            assert "photos: 2/2" in first.stderr  # the progress lines (not a terminal here)

            late = await upload(on_disk, encode(noisy_image((700, 500), seed=3), "PNG"))  # before the restart
            again = souk(old_dir, "move-photos", "--to", "database", **url)
            assert again.returncode == 0, again.stderr
            assert "Photos: 3. Copied 3 sizes" in again.stdout and "6 already there" in again.stdout
            for size in PHOTO_SIZES:
                served[(late["key"], size)] = (await on_disk.get(f"/photos/{late['key']}/{size}")).content
        # The source is untouched: still every file.
        assert len(await stored_photo_names(DiskPhotos(old_dir / "photos"))) == 9

        db_node, db_base = start_server(db, SOUK_DATA_DIR=str(new_dir), SOUK_PHOTO_STORE="database")
        processes.append(db_node)
        async with httpx.AsyncClient(base_url=db_base) as from_database:
            for (key, size), content in served.items():
                r = await from_database.get(f"/photos/{key}/{size}")
                assert r.status_code == 200 and r.content == content, (key, size)
        assert not (new_dir / "photos").exists()

        back = souk(back_dir, "move-photos", "--to", "disk", **url)
        assert back.returncode == 0, back.stderr
        assert "Photos: 3. Copied 9 sizes" in back.stdout and "SOUK_PHOTO_STORE=disk" in back.stdout
        assert await contents(DiskPhotos(back_dir / "photos")) == await contents(DiskPhotos(old_dir / "photos"))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
