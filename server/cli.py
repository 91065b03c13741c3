"""The `souk` command: serve, demo, migrate, create-organizer, reindex, compact-log, move-photos.

Every command builds its Settings from the environment (see README), so the same command runs
the embedded market or the scale-out one. Errors print what to do next and exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from server.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        result: int = args.run(settings, args)
        return result
    except SettingsError as exc:
        print(f"souk: configuration error: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"souk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


class CliError(Exception):
    """A failure with a message that tells the user what to do next."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="souk", description="Souk: an offline-first market for live events.")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="migrate the database and run the web server")
    serve.add_argument("--no-migrate", action="store_true", help="skip migrations at start")
    serve.set_defaults(run=cmd_serve)

    demo = sub.add_parser("demo", help="create a fresh demo market and serve it")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--stalls", type=int, default=84)
    demo.add_argument("--items", type=int, default=2100)
    demo.add_argument("--no-serve", action="store_true", help="load the demo, do not start the server")
    demo.add_argument(
        "--reset-database", action="store_true", help="allow wiping a PostgreSQL database named by SOUK_DATABASE_URL"
    )
    demo.set_defaults(run=cmd_demo)

    rei = sub.add_parser("reindex", help="rebuild the search index from the database")
    rei.set_defaults(run=cmd_reindex)

    com = sub.add_parser("compact-log", help="forget change-log entries older than some days")
    com.add_argument(
        "--keep-days",
        type=_days,
        default=14.0,
        help="keep this many days of changes (default 14); devices that last synced earlier re-download the event",
    )
    com.set_defaults(run=cmd_compact_log)

    mov = sub.add_parser(
        "move-photos",
        help="copy every stored photo into the other photo store (SOUK_PHOTO_STORE), to switch to it",
        description="Copy every stored photo, every size, from one photo store to the other; the source is "
        "never changed. Safe to re-run, to interrupt, and to run while `souk serve` runs.",
    )
    mov.add_argument("--to", required=True, choices=PHOTO_STORE_NAMES, help="the photo store to copy into")
    mov.add_argument(
        "--from",
        dest="source",
        choices=PHOTO_STORE_NAMES,
        help="the photo store to copy from (default: the other one)",
    )
    mov.set_defaults(run=cmd_move_photos)

    mig = sub.add_parser("migrate", help="bring the database schema up to date")
    mig.set_defaults(run=cmd_migrate)

    org = sub.add_parser("create-organizer", help="create an organizer account")
    org.add_argument("email")
    org.add_argument("--name", default="Organizer")
    org.add_argument("--password", help="prompted for when omitted (safer: not kept in shell history)")
    org.set_defaults(run=cmd_create_organizer)
    return parser


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    _run(settings, _migrate_only)
    print(f"Database is up to date: {_describe_db(settings)}")
    return 0


def cmd_reindex(settings: Settings, _: argparse.Namespace) -> int:
    from search.engine import EngineError
    from search.machine import open_search
    from server.search_source import Indexer, reindex

    report = _progress_printer()

    async def rebuild(services: Any) -> int:
        search = open_search(
            settings.data_dir,
            settings.meili_url,
            settings.meili_key,
            lambda index, cursor: Indexer(index, services.engine, name=cursor),
        )
        try:
            await search.start()
            if search.indexer is None:
                raise CliError(
                    f"a running `souk serve` keeps the search index in {settings.search_dir} and follows every "
                    "change by itself. To rebuild it anyway, stop the souk processes of this machine first."
                )
            return await reindex(
                search.engine, lambda done, total: report("items", done, total), cursor=search.indexer.name
            )
        except EngineError as exc:
            raise CliError(f"the search engine refused: {exc}. Check SOUK_MEILI_URL / the data dir.") from None
        finally:
            await search.close()

    count = _run(settings, rebuild)
    print(f"\nSearch index rebuilt: {count} items.")
    return 0


def cmd_compact_log(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from server.notify import WebPushNotifier
    from server.search_source import Indexer
    from sync.compact import compact_log, last_entry_before

    cut_off = datetime.now(UTC) - timedelta(days=args.keep_days)
    readers = {reader.name: reader.entities for reader in (Indexer, WebPushNotifier)}

    async def compact(services: Any) -> Any:
        return await compact_log(services.engine, await last_entry_before(cut_off), readers)

    done = _run(settings, compact)
    kept = done.head - done.floor  # sequence numbers are gapless
    span = f"#{done.floor + 1}–#{done.head}" if kept else "none"
    print(f"Change log: {done.removed} old entries removed, {kept} kept ({span}).")
    if done.removed:
        print(f"Devices that last synced before {cut_off:%Y-%m-%d %H:%M} UTC will download the event again.")
    if done.held_by:
        print(
            f"Stopped at #{done.floor}: the '{done.held_by}' log reader has not got further. "
            "If it is a reader no longer in use, its row in log_cursor holds the log back."
        )
    return 0


PHOTO_STORE_NAMES: tuple[str, ...] = ("disk", "database")  # SOUK_PHOTO_STORE's values
_DATA_DIR_HINT = "Is SOUK_DATA_DIR the data dir this market's photos were uploaded to?"


def cmd_move_photos(settings: Settings, args: argparse.Namespace) -> int:
    """`souk move-photos --to database|disk`: see server/photos/transfer.py."""
    from server.photos.database import DatabasePhotos
    from server.photos.disk import DiskPhotos
    from server.photos.storage import PhotoStorage
    from server.photos.transfer import MoveReport, TransferFailed, list_keys, move_photos

    target_name: str = args.to
    source_name: str = args.source or next(name for name in PHOTO_STORE_NAMES if name != target_name)
    if source_name == target_name:
        raise CliError(f"--from and --to are both {target_name}: nothing to move")
    if settings.is_sqlite:
        raise CliError(
            f"photos in the database need PostgreSQL, and SOUK_DATABASE_URL names SQLite ({settings.sqlite_path}): "
            "with SQLite there is one machine, and its photos stay in the data dir. "
            "Set SOUK_DATABASE_URL to the PostgreSQL database first."
        )
    photos_dir = settings.photos_dir
    if source_name == "disk" and not photos_dir.is_dir():
        raise CliError(f"there is no photo folder at {photos_dir}: nothing to move. {_DATA_DIR_HINT}")

    def store(name: str) -> PhotoStorage:
        return DiskPhotos(photos_dir) if name == "disk" else DatabasePhotos()

    source, target = store(source_name), store(target_name)
    where = {"disk": str(photos_dir), "database": f"the database {_describe_db(settings)}"}
    report_progress = _progress_printer()

    async def move(_: Any) -> MoveReport:
        keys = await list_keys(source)
        if not keys:
            hint = f" {_DATA_DIR_HINT}" if source_name == "disk" else ""
            raise CliError(f"there are no photos in {where[source_name]}: nothing to move.{hint}")
        print(f"Copying {len(keys)} photos from {where[source_name]} to {where[target_name]} …", file=sys.stderr)
        try:
            return await move_photos(source, target, keys, lambda done, total: report_progress("photos", done, total))
        except TransferFailed as exc:
            raise CliError(
                f"{exc}. Nothing was deleted; what was copied stays copied. Fix the cause and run the command "
                "again: it skips what is already there."
            ) from None

    done: MoveReport = _run(settings, move)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(
        f"Photos: {done.photos}. Copied {done.copied} sizes ({_megabytes(done.copied_bytes)}), "
        f"{done.already_there} already there ({_megabytes(done.already_bytes)}); "
        f"{_megabytes(done.total_bytes)} in all, {done.total_bytes:,} bytes."
    )
    if done.differing:
        print(
            f"{len(done.differing)} sizes were already in {where[target_name]} with a different size or type, "
            "and were left as they were (write-once), e.g. " + ", ".join(done.differing[:5])
        )
    if done.failures:
        listed = "\n  ".join(done.failed)
        raise CliError(
            f"{done.failures} sizes could not be copied:\n  {listed}\nThe source is unchanged. "
            f"Do not switch SOUK_PHOTO_STORE to {target_name} before these are resolved."
        )
    print(f"Every photo is now in {where[target_name]} too; {where[source_name]} is unchanged.")
    if target_name == "database":
        print(
            "Next: set SOUK_PHOTO_STORE=database on every node and restart them. Then run "
            "`souk move-photos --to database` once more: it copies the photos uploaded to the disk meanwhile."
        )
    else:
        print(
            "Next: set SOUK_PHOTO_STORE=disk and restart. Only this machine's data dir holds the photos: "
            "run this on every node that serves with SOUK_PHOTO_STORE=disk. Then run "
            "`souk move-photos --to disk` once more: it copies the photos uploaded to the database meanwhile."
        )
    return 0


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 0 <= days <= 3650:
        raise argparse.ArgumentTypeError("give a number of days from 0 (keep nothing) to 3650")
    return days


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    _check_port_free(settings)
    if not args.no_migrate:
        _run(settings, _migrate_only)
    _serve(settings)
    return 0


def cmd_create_organizer(settings: Settings, args: argparse.Namespace) -> int:
    from server.domain.accounts import NewAccount, create_account
    from server.domain.errors import DomainError

    password = args.password or getpass.getpass("Password for the new organizer: ")

    async def create(_: Any) -> None:
        await create_account(NewAccount(args.email, password, args.name), "organizer")

    try:
        _run(settings, create)
    except DomainError as exc:
        raise CliError(f"cannot create organizer: {exc.message}") from None
    print(f"Organizer {args.email} created. Sign in with POST {settings.base_url}/api/auth/login")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from fixtures.load import load_market
    from fixtures.market import build_market

    if not args.no_serve:
        _check_port_free(settings)  # before a minute of loading, not after
    print(f"Building the demo market (seed {args.seed}) …", file=sys.stderr)
    try:  # before wiping anything: a size the layout cannot hold must leave the old market alone
        demo = build_market(seed=args.seed, stalls=args.stalls, items=args.items)
    except ValueError as exc:
        raise CliError(f"cannot build that demo market: {exc}. Change --stalls or --items.") from None
    _wipe_for_demo(settings, args.reset_database)

    async def load(services: Any) -> Any:
        return await load_market(services, demo, progress=_progress_printer())

    loaded = _run(settings, load)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    base = settings.base_url
    print(
        f"\nDemo market ready: {demo.event.name} — {len(loaded.stall_codes)} stalls, "
        f"{len(loaded.item_ids)} items, {len(demo.sales)} sales"
    )
    print(f"  Event page:      {base}/e/{loaded.event_slug}")
    print(f"  A stall (QR):    {base}/s/{loaded.stall_codes[0]}   (sign: {base}/s/{loaded.stall_codes[0]}/qr.svg)")
    print(f"  API schema:      {base}/api/schema")
    print(f"  Organizer login: {demo.organizer_email} / {demo.organizer_password}")
    first = demo.vendors[0]
    print(f"  Vendor login:    {first.email} / {first.password}  (vendorNN@…, demo-vendor-NN)")
    if args.no_serve:
        return 0
    _serve(settings)
    return 0


def _wipe_for_demo(settings: Settings, allow_postgres: bool) -> None:
    """The demo always starts from an empty market; wiping PostgreSQL needs an explicit flag."""
    if settings.is_sqlite:
        for path in (settings.sqlite_path, Path(f"{settings.sqlite_path}-wal"), Path(f"{settings.sqlite_path}-shm")):
            path.unlink(missing_ok=True)
        for folder in (settings.photos_dir, settings.search_dir):
            shutil.rmtree(folder, ignore_errors=True)
        return
    if not allow_postgres:
        raise CliError(
            "souk demo wipes the database; SOUK_DATABASE_URL names PostgreSQL, so pass --reset-database "
            "if that is really what you want"
        )
    from server.database import drop_all_tables

    _run(settings, lambda services: drop_all_tables(services.engine), migrate=False)


def _serve(settings: Settings) -> None:
    import uvicorn

    _warn_about_reach(settings)
    print(f"Serving on http://{settings.host}:{settings.port} (public URL {settings.base_url}); Ctrl+C stops.")
    if settings.workers > 1:
        uvicorn.run(
            "server.asgi:make_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="warning",
        )
    else:
        from server.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


def _warn_about_reach(settings: Settings) -> None:
    """The two ways a market's phones silently get less than they should, said at start-up."""
    import ipaddress
    from urllib.parse import urlsplit

    def loopback(host: str) -> bool:
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"

    base = urlsplit(settings.base_url)
    public_host = base.hostname or ""
    if loopback(public_host):
        if not loopback(settings.host):
            print(
                f"souk: warning: QR codes and links point at {settings.base_url}, which phones cannot reach. "
                "Set SOUK_BASE_URL to the address phones use.",
                file=sys.stderr,
            )
    elif base.scheme == "http":
        print(
            f"souk: warning: {settings.base_url} is plain http. Browsers run the offline app and notifications "
            "only over https (or on localhost): put Souk behind an HTTPS proxy and set SOUK_BASE_URL=https://….",
            file=sys.stderr,
        )


def _check_port_free(settings: Settings) -> None:
    """Say what to do when the address or port cannot be used, instead of a bare bind error."""
    import errno
    import socket

    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
                raise CliError(
                    f"SOUK_HOST={settings.host} is not an address of this machine ({exc.strerror}). "
                    "Use 127.0.0.1 for this machine only, or 0.0.0.0 for every network it is on."
                ) from None
            raise CliError(
                f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}. Is Souk (or something else) "
                "already running there? Stop it, or choose another port with SOUK_PORT."
            ) from None


async def _migrate_only(_: Any) -> None:
    return None


def _run(settings: Settings, job: Callable[[Any], Awaitable[Any]], *, migrate: bool = True) -> Any:
    """Run `job(services)` with a connected, migrated database, outside any web server."""
    from server.database import bind_tables, prepare_sqlite_file, start_engine, stop_engine
    from server.domain.context import Services
    from server.migrate import MigrationFailed
    from server.migrate import migrate as run_migrations

    async def go() -> Any:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        prepare_sqlite_file(settings)
        services = Services.from_settings(settings)
        engine = services.engine
        bind_tables(engine)
        try:
            await start_engine(engine)
        except OSError as exc:
            raise CliError(
                f"cannot reach the database {_describe_db(settings)}: {exc}. Is it running? Check SOUK_DATABASE_URL."
            ) from None
        try:
            if migrate:
                await run_migrations(engine)
            return await job(services)
        except MigrationFailed as exc:
            raise CliError(str(exc)) from None
        finally:
            await stop_engine(engine)

    return asyncio.run(go())


def _describe_db(settings: Settings) -> str:
    return str(settings.sqlite_path) if settings.is_sqlite else settings.database_url.split("@")[-1]


def _progress_printer() -> Callable[[str, int, int], None]:
    """A self-overwriting bar per stage on a terminal; every 10 % as plain lines in a log."""
    stage_now = [""]
    shown = [-1]
    tty = sys.stderr.isatty()

    def report(stage: str, done: int, total: int) -> None:
        if stage != stage_now[0]:
            if stage_now[0] and tty:
                print(file=sys.stderr)
            stage_now[0], shown[0] = stage, -1
        percent = 100 * done // max(total, 1)
        if tty:
            filled = 30 * done // max(total, 1)
            bar = "#" * filled + "." * (30 - filled)
            print(f"\r  {stage:<18} [{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)
        elif percent // 10 != shown[0] // 10 or done == total:
            shown[0] = percent
            print(f"  {stage}: {done}/{total} ({percent}%)", file=sys.stderr, flush=True)

    return report


if __name__ == "__main__":
    sys.exit(main())
