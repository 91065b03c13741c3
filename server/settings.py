"""Souk's configuration: one frozen object built from environment variables at start-up.

Everything that differs between the embedded default (one process, SQLite, tantivy,
in-process pub/sub) and the scale-out deployment (PostgreSQL, Redis, Meilisearch, several
workers) is a setting here, so switching deployments never needs a code edit. The object is
built once (`Settings.from_env`) and passed down; nothing else in the code reads `os.environ`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting has a value Souk cannot use; the message names the variable and the fix."""


@dataclass(frozen=True)
class Setting:
    """Documentation of one environment variable, used by the README test that keeps the settings table true."""

    env: str
    default: str
    help: str


SETTINGS_DOC: tuple[Setting, ...] = (
    Setting("SOUK_DATA_DIR", "./souk-data", "Folder for the SQLite database, photos, search index and keys."),
    Setting(
        "SOUK_DATABASE_URL",
        "sqlite:///<SOUK_DATA_DIR>/souk.sqlite3",
        "sqlite:///path/to/file or postgres://user:pass@host:5432/db.",
    ),
    Setting("SOUK_BASE_URL", "http://127.0.0.1:8000", "Absolute public URL; QR codes and links use it."),
    Setting("SOUK_HOST", "127.0.0.1", "Interface `souk serve` listens on."),
    Setting("SOUK_PORT", "8000", "Port `souk serve` listens on."),
    Setting("SOUK_WORKERS", "1", "Worker processes for `souk serve` (more than 1 needs SOUK_REDIS_URL)."),
    Setting("SOUK_REDIS_URL", "", "redis://host:6379/0 to share pub/sub between workers; empty = in-process."),
    Setting("SOUK_MEILI_URL", "", "Meilisearch URL for search; empty = embedded tantivy index."),
    Setting("SOUK_MEILI_KEY", "", "Meilisearch API key, if the server needs one."),
    Setting(
        "SOUK_PHOTO_STORE",
        "`disk` on SQLite, `database` on PostgreSQL",
        "Where photos are kept: `disk` (SOUK_DATA_DIR/photos, one machine) or `database` (PostgreSQL only;"
        " every node serves every photo).",
    ),
    Setting("SOUK_MAX_UPLOAD_BYTES", "10000000", "Largest accepted photo upload, in bytes."),
    Setting("SOUK_TOKEN_DAYS", "30", "How long a sign-in token stays valid, in days."),
    Setting("SOUK_VISITOR_IDLE_DAYS", "60", "Days unused after which a visitor's device token stops working."),
    Setting(
        "SOUK_SECRET_KEY",
        "(generated into SOUK_DATA_DIR/secret.key)",
        "Signs sync cursors; set the same value on every worker when scaling out.",
    ),
    Setting("SOUK_PUSH_CONTACT", "mailto:push@<host of SOUK_BASE_URL>", "VAPID contact (mailto: or https:)."),
    Setting(
        "SOUK_PUSH_ALLOW_HTTP",
        "0",
        "1 accepts plain-http and loopback push endpoints, any port (local test receivers only;"
        " private and link-local addresses stay refused).",
    ),
    Setting(
        "SOUK_FONT_DIRS",
        "",
        "Extra folders (separated by `:`) searched first for TrueType fonts for printed signs and price tags.",
    ),
    Setting("SOUK_DEBUG", "0", "1 shows tracebacks in error responses (never in production)."),
    Setting(
        "SOUK_TRUSTED_PROXIES",
        "127.0.0.1,::1",
        "Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the real client.",
    ),
    Setting(
        "SOUK_RATE_LIMIT_FACTOR",
        "1",
        "Multiplies every rate limit (e.g. 5 where a venue's Wi-Fi puts thousands of phones behind one address).",
    ),
)


@dataclass(frozen=True)
class Settings:
    """All of Souk's configuration; see SETTINGS_DOC for what each field means."""

    data_dir: Path
    database_url: str
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    redis_url: str | None = None
    meili_url: str | None = None
    meili_key: str | None = None
    photo_store: str = "disk"  # "disk" | "database"
    max_upload_bytes: int = 10_000_000
    token_days: int = 30
    visitor_idle_days: int = 60
    debug: bool = False
    secret_key: str | None = None
    push_contact: str = ""
    push_allow_http: bool = False
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    rate_limit_factor: float = 1.0
    font_dirs: tuple[Path, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment, failing early with the variable's name."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("SOUK_DATA_DIR") or "./souk-data").expanduser().resolve()
        database_url = env.get("SOUK_DATABASE_URL") or f"sqlite:///{data_dir / 'souk.sqlite3'}"
        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            base_url=(env.get("SOUK_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            host=env.get("SOUK_HOST") or "127.0.0.1",
            port=_int(env, "SOUK_PORT", 8000, low=1, high=65535),
            workers=_int(env, "SOUK_WORKERS", 1, low=1, high=64),
            redis_url=env.get("SOUK_REDIS_URL") or None,
            meili_url=env.get("SOUK_MEILI_URL") or None,
            meili_key=env.get("SOUK_MEILI_KEY") or None,
            photo_store=(env.get("SOUK_PHOTO_STORE") or ("disk" if _is_sqlite(database_url) else "database"))
            .strip()
            .lower(),
            max_upload_bytes=_int(env, "SOUK_MAX_UPLOAD_BYTES", 10_000_000, low=1000, high=100_000_000),
            token_days=_int(env, "SOUK_TOKEN_DAYS", 30, low=1, high=3650),
            visitor_idle_days=_int(env, "SOUK_VISITOR_IDLE_DAYS", 60, low=1, high=3650),
            debug=_bool(env, "SOUK_DEBUG"),
            secret_key=env.get("SOUK_SECRET_KEY") or None,
            push_contact=env.get("SOUK_PUSH_CONTACT") or "",
            push_allow_http=_bool(env, "SOUK_PUSH_ALLOW_HTTP"),
            trusted_proxies=_networks(env, "SOUK_TRUSTED_PROXIES", "127.0.0.1,::1"),
            rate_limit_factor=_float(env, "SOUK_RATE_LIMIT_FACTOR", 1.0, low=0.01, high=1000.0),
            font_dirs=tuple(Path(p).expanduser() for p in (env.get("SOUK_FONT_DIRS") or "").split(os.pathsep) if p),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse combinations that would silently misbehave in production."""
        scheme = urlsplit(self.database_url).scheme
        if scheme not in ("sqlite", "postgres", "postgresql"):
            raise SettingsError(
                f"SOUK_DATABASE_URL must start with sqlite:/// or postgres://, got {scheme or 'nothing'!r}"
            )
        base = urlsplit(self.base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise SettingsError(f"SOUK_BASE_URL must be an absolute http(s) URL, got {self.base_url!r}")
        if self.push_contact and not self.push_contact.startswith(("mailto:", "https://")):
            raise SettingsError(f"SOUK_PUSH_CONTACT must start with mailto: or https://, got {self.push_contact!r}")
        if self.photo_store not in PHOTO_STORES:
            raise SettingsError(f"SOUK_PHOTO_STORE must be disk or database, got {self.photo_store!r}")
        if self.photo_store == "database" and self.is_sqlite:
            raise SettingsError(
                "SOUK_PHOTO_STORE=database needs PostgreSQL in SOUK_DATABASE_URL: with SQLite there is one "
                "machine, and its photos belong in the data dir (SOUK_PHOTO_STORE=disk)"
            )
        if self.workers > 1 and not self.redis_url:
            raise SettingsError(
                "SOUK_WORKERS > 1 needs SOUK_REDIS_URL: without Redis each worker only sees its own "
                "messages and live updates"
            )
        if self.workers > 1 and self.is_sqlite:
            raise SettingsError("SOUK_WORKERS > 1 needs PostgreSQL in SOUK_DATABASE_URL")

    @property
    def is_sqlite(self) -> bool:
        return _is_sqlite(self.database_url)

    @property
    def sqlite_path(self) -> Path:
        """The file of a sqlite:/// URL: three slashes then a relative path, four for absolute."""
        return Path(self.database_url.removeprefix("sqlite:").removeprefix("///"))

    @property
    def vapid_contact(self) -> str:
        """Who push services may contact about our pushes; they require one."""
        if self.push_contact:
            return self.push_contact
        return f"mailto:push@{urlsplit(self.base_url).hostname or 'localhost'}"

    def resolved_secret(self) -> bytes:
        """The signing key: SOUK_SECRET_KEY, else a random key kept in the data dir.

        Generated once and reused, so cursors handed out before a restart stay valid.
        """
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip().encode()

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some fields changed; tests and the demo use it instead of env tweaks."""
        return replace(self, **changes)  # type: ignore[arg-type]


PHOTO_STORES = ("disk", "database")


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value


def _networks(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks; checked now so a typo fails at start-up."""
    raw = env.get(name)
    parts = [p.strip() for p in (default if raw is None else raw).split(",") if p.strip()]
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SettingsError(f"{name} must list IP addresses or networks like 10.0.0.0/8, got {part!r}") from None
    return tuple(parts)


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be 1 or 0, got {raw!r}")
