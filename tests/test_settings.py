"""Every setting is documented in the README, read from its variable, and refused when wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.settings import SETTINGS_DOC, Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent

# A valid non-default value per variable, and the field it must land in.
EXAMPLES: dict[str, tuple[str, str, object]] = {
    "SOUK_DATA_DIR": ("/tmp/souk-x", "data_dir", Path("/tmp/souk-x")),
    "SOUK_DATABASE_URL": ("postgres://u@db:5432/souk", "database_url", "postgres://u@db:5432/souk"),
    "SOUK_BASE_URL": ("https://market.example.org/", "base_url", "https://market.example.org"),
    "SOUK_HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "SOUK_PORT": ("9000", "port", 9000),
    "SOUK_WORKERS": ("1", "workers", 1),
    "SOUK_REDIS_URL": ("redis://127.0.0.1:6379/0", "redis_url", "redis://127.0.0.1:6379/0"),
    "SOUK_MEILI_URL": ("http://meili:7700", "meili_url", "http://meili:7700"),
    "SOUK_MEILI_KEY": ("secret", "meili_key", "secret"),
    "SOUK_MAX_UPLOAD_BYTES": ("5000000", "max_upload_bytes", 5_000_000),
    "SOUK_TOKEN_DAYS": ("7", "token_days", 7),
    "SOUK_VISITOR_IDLE_DAYS": ("90", "visitor_idle_days", 90),
    "SOUK_DEBUG": ("1", "debug", True),
    "SOUK_SECRET_KEY": ("s3cret", "secret_key", "s3cret"),
    "SOUK_PUSH_CONTACT": ("mailto:ops@example.org", "vapid_contact", "mailto:ops@example.org"),
    "SOUK_PUSH_ALLOW_HTTP": ("1", "push_allow_http", True),
    "SOUK_TRUSTED_PROXIES": ("10.0.0.0/8, 192.0.2.7", "trusted_proxies", ("10.0.0.0/8", "192.0.2.7")),
    "SOUK_RATE_LIMIT_FACTOR": ("2.5", "rate_limit_factor", 2.5),
    "SOUK_PHOTO_STORE": ("Disk", "photo_store", "disk"),
    "SOUK_FONT_DIRS": ("/opt/fonts:/srv/fonts", "font_dirs", (Path("/opt/fonts"), Path("/srv/fonts"))),
}


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(SOUK_[A-Z_]+)`", readme))
    assert {s.env for s in SETTINGS_DOC} <= documented
    assert {s.env for s in SETTINGS_DOC} == set(EXAMPLES), "add an example for the new setting"


@pytest.mark.parametrize("env", sorted(EXAMPLES))
def test_each_variable_sets_its_field(env: str) -> None:
    raw, field, expected = EXAMPLES[env]
    assert getattr(Settings.from_env({env: raw}), field) == expected


def test_defaults_are_the_embedded_market(tmp_path: Path) -> None:
    settings = Settings.from_env({"SOUK_DATA_DIR": str(tmp_path)})
    assert settings.is_sqlite and settings.sqlite_path == tmp_path / "souk.sqlite3"
    assert settings.redis_url is None and settings.meili_url is None and settings.workers == 1
    assert settings.photo_store == "disk"


def test_photos_live_in_the_database_on_postgresql_unless_told_otherwise() -> None:
    url = "postgres://souk@db.example.org/souk"
    assert Settings.from_env({"SOUK_DATABASE_URL": url}).photo_store == "database"
    assert Settings.from_env({"SOUK_DATABASE_URL": url, "SOUK_PHOTO_STORE": "disk"}).photo_store == "disk"


def test_several_workers_on_postgresql_need_no_search_server() -> None:
    # Each machine keeps its own embedded index (search/machine.py); Meilisearch is optional.
    env = {"SOUK_WORKERS": "4", "SOUK_REDIS_URL": "redis://x", "SOUK_DATABASE_URL": "postgres://souk@db/souk"}
    settings = Settings.from_env(env)
    assert settings.workers == 4 and settings.meili_url is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SOUK_PORT": "eighty"}, "SOUK_PORT"),
        ({"SOUK_PORT": "70000"}, "SOUK_PORT"),
        ({"SOUK_DATABASE_URL": "mysql://x"}, "SOUK_DATABASE_URL"),
        ({"SOUK_BASE_URL": "market.example.org"}, "SOUK_BASE_URL"),
        ({"SOUK_WORKERS": "4"}, "SOUK_REDIS_URL"),
        ({"SOUK_WORKERS": "4", "SOUK_REDIS_URL": "redis://x"}, "PostgreSQL"),
        ({"SOUK_WORKERS": "4", "SOUK_REDIS_URL": "redis://x", "SOUK_MEILI_URL": "http://m"}, "PostgreSQL"),
        ({"SOUK_DEBUG": "maybe"}, "SOUK_DEBUG"),
        ({"SOUK_PUSH_CONTACT": "ops@example.org"}, "SOUK_PUSH_CONTACT"),
        ({"SOUK_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "SOUK_TRUSTED_PROXIES"),
        ({"SOUK_RATE_LIMIT_FACTOR": "0"}, "SOUK_RATE_LIMIT_FACTOR"),
        ({"SOUK_RATE_LIMIT_FACTOR": "lots"}, "SOUK_RATE_LIMIT_FACTOR"),
        ({"SOUK_PHOTO_STORE": "s3"}, "SOUK_PHOTO_STORE must be disk or database"),
        ({"SOUK_PHOTO_STORE": "database"}, "SOUK_PHOTO_STORE=database needs PostgreSQL"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
