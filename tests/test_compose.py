"""The scale-out deployment files and the README's "Scale-out" commands, checked against the code.

No container engine runs here, so `compose.yaml` and the proxy configurations in `deploy/` are
never run: this reads them and checks what can be checked without running them. Every `SOUK_`
variable must be a setting, the settings given to each node must pass `Settings.from_env`, every
`souk …` command must parse with the real CLI parser, the image must be built from the repository's
Dockerfile, and the proxies must point at the ports the nodes listen on.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import ipaddress
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from server.cli import _parser
from server.settings import SETTINGS_DOC, Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SHARED_ENV = ROOT / "deploy" / "souk.env"

SETTING_NAMES = {s.env for s in SETTINGS_DOC}
# Values for the variables compose.yaml requires (`${VAR:?message}`) and has no default for.
REQUIRED = {"SOUK_SECRET_KEY": "0123456789abcdef" * 4}
SHELL_SEPARATORS = {"&", "&&", ";", "|", "||"}


# --- reading the files -------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def souk_services() -> dict[str, dict[str, Any]]:
    """The services that run the Souk image (built from this repository)."""
    return {name: svc for name, svc in services().items() if "build" in svc}


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$\$|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: str) -> str:
    """What compose makes of `value` with none of its variables set: defaults, or REQUIRED values."""

    def one(match: re.Match[str]) -> str:
        name, kind, default, bare = match.groups()
        if match.group(0) == "$$":
            return "$"
        if bare:
            raise AssertionError(f"write ${{{bare}}} with a default (${{{bare}:-…}}) in compose.yaml")
        if kind in (":-", "-"):
            return str(default)
        if kind in (":?", "?"):
            assert name in REQUIRED, f"{name} is required by compose.yaml: give the test a value for it"
            return REQUIRED[name]
        raise AssertionError(f"${{{name}}} has no default in compose.yaml: write ${{{name}:-…}}")

    return _VARIABLE.sub(one, value)


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): interpolate(str(v)) for k, v in env.items()}


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Scale-out\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def shared_env() -> dict[str, str]:
    """deploy/souk.env as `set -a; . ./deploy/souk.env` loads it (plain KEY=value lines)."""
    values: dict[str, str] = {}
    for line in SHARED_ENV.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"not a KEY=value line: {line!r}"
            values[key] = value
    return values


def parse_souk(args: list[str]) -> argparse.Namespace:
    """`souk ARGS` through the real parser; an unknown command or option fails the test."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return _parser().parse_args(args)
    except SystemExit:
        raise AssertionError(f"`souk {' '.join(args)}` is not a command souk accepts: {err.getvalue()}") from None


# --- compose.yaml ------------------------------------------------------------------------------


def test_souk_services_build_the_repository_dockerfile() -> None:
    assert set(souk_services()) == {"migrate", "souk"}
    for name, svc in souk_services().items():
        build = svc["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (COMPOSE_FILE.parent / context / dockerfile).is_file(), name
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "EXPOSE 8000" in dockerfile and 'CMD ["souk", "serve"]' in dockerfile


def test_other_services_use_pinned_public_images() -> None:
    for name, svc in services().items():
        if "build" in svc:
            continue
        image = svc.get("image", "")
        assert re.fullmatch(r"[a-z0-9./-]+:[A-Za-z0-9._-]+", image), f"{name}: pin a tag, got {image!r}"
        assert not image.endswith(":latest"), name
    assert {"postgres", "redis", "proxy"} <= set(services())


def test_every_souk_variable_is_a_setting() -> None:
    for path in (COMPOSE_FILE, CADDYFILE, NGINX_CONF, SHARED_ENV):
        used = set(re.findall(r"\bSOUK_[A-Z0-9_]+", path.read_text()))
        assert used <= SETTING_NAMES, f"{path.name}: not settings Souk reads: {sorted(used - SETTING_NAMES)}"
    for name, svc in services().items():
        if "build" not in svc:
            assert not [k for k in environment(svc) if k.startswith("SOUK_")], name


@pytest.mark.parametrize("name", ["migrate", "souk"])
def test_each_node_gets_settings_souk_accepts(name: str) -> None:
    env = environment(souk_services()[name])
    settings = Settings.from_env(env)
    assert not settings.is_sqlite and settings.redis_url, "scale-out needs PostgreSQL and Redis"
    assert settings.photo_store == "database", "every node must serve every photo"
    assert settings.secret_key, "SOUK_SECRET_KEY must be the same on every node"
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert str(settings.data_dir) == "/data" and f"souk-data:{settings.data_dir}" in souk_services()[name]["volumes"]
    # What the README tells people to vary: several workers per container, Meilisearch.
    Settings.from_env({**env, "SOUK_WORKERS": "3"})
    assert Settings.from_env({**env, "SOUK_MEILI_URL": "http://meilisearch:7700"}).meili_url


def test_the_proxy_is_the_trusted_one() -> None:
    proxy = services()["proxy"]
    address = proxy["networks"]["default"]["ipv4_address"]
    subnet = compose()["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    for name in souk_services():
        assert Settings.from_env(environment(souk_services()[name])).trusted_proxies == (address,)


def test_commands_are_real_souk_commands_in_the_right_order() -> None:
    nodes = souk_services()
    for name, svc in nodes.items():
        command = svc["command"]
        assert isinstance(command, list) and command[0] == "souk", f"{name}: write the command as a list"
        parse_souk(command[1:])
    assert nodes["migrate"]["command"] == ["souk", "migrate"]
    serve = parse_souk(nodes["souk"]["command"][1:])
    assert serve.command == "serve" and serve.no_migrate, "nodes start after the one migration, without their own"
    needs = nodes["souk"]["depends_on"]
    assert needs["migrate"]["condition"] == "service_completed_successfully"
    assert needs["redis"]["condition"] == "service_healthy"
    assert nodes["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ports" not in nodes["souk"] and "container_name" not in nodes["souk"], "--scale souk=N must work"


def test_caddy_proxies_to_every_souk_container_on_its_port() -> None:
    caddy = CADDYFILE.read_text()
    proxy = services()["proxy"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    block = re.search(r"dynamic a \{([^}]*)\}", caddy)
    assert block, "the Caddyfile must look the nodes up in DNS (dynamic a)"
    options = dict(line.split(None, 1) for line in block.group(1).strip().splitlines())
    assert options["name"] in souk_services()
    port = Settings.from_env(environment(souk_services()[options["name"]])).port
    assert int(options["port"]) == port
    assert str(port) in souk_services()[options["name"]]["expose"]
    # The site address comes from the proxy's environment; the default public URL is its published port.
    assert "{$SITE_ADDRESS}" in caddy and environment(proxy)["SITE_ADDRESS"] == ":80"
    published = {interpolate(p).split(":")[1]: interpolate(p).split(":")[0] for p in proxy["ports"]}
    base = Settings.from_env(environment(souk_services()["souk"])).base_url
    assert base == f"http://localhost:{published['80']}"


# --- deploy/nginx.conf and deploy/souk.env -----------------------------------------------------


def nginx_upstreams() -> list[tuple[str, int]]:
    block = re.search(r"upstream souk \{(.*?)\n\}", NGINX_CONF.read_text(), re.S)
    assert block
    return [(host, int(port)) for host, port in re.findall(r"^\s*server ([\d.]+):(\d+)", block.group(1), re.M)]


def test_nginx_passes_websockets_and_photo_uploads_on() -> None:
    conf = NGINX_CONF.read_text()
    assert "proxy_pass http://souk;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_http_version 1.1;" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size and int(size.group(1)) * 1_000_000 > Settings.from_env({}).max_upload_bytes


def test_shared_env_file_is_valid_settings() -> None:
    values = shared_env()
    assert set(values) <= SETTING_NAMES
    settings = Settings.from_env(values)
    assert not settings.is_sqlite and settings.redis_url and settings.secret_key
    assert settings.photo_store == "database" and settings.base_url.startswith("https://")
    assert {"SOUK_HOST", "SOUK_PORT"}.isdisjoint(values), "each process sets its own address"


# --- the README's Scale-out section --------------------------------------------------------------


def readme_commands() -> Iterator[str]:
    """Every shell line in the section: fenced code lines and inline code spans."""
    section = readme_section()
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        yield from (line for line in block.splitlines() if line.strip())
    yield from re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", section, flags=re.S))


def segments(command: str) -> Iterator[list[str]]:
    """The simple commands of a shell line, split at & ; | and friends."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="&;|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words: list[str] = []
    for token in lexer:
        if token in SHELL_SEPARATORS:
            yield words
            words = []
        else:
            words.append(token)
    yield words


def souk_invocations() -> Iterator[tuple[dict[str, str], list[str], str]]:
    """(SOUK_ assignments before it, souk arguments, the line) for every `souk …` in the README section."""
    compose_services = services()
    for line in readme_commands():
        for words in segments(line):
            assigned: dict[str, str] = {}
            while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                key, _, value = words.pop(0).partition("=")
                assigned[key] = value
            if words[:2] == ["docker", "compose"]:
                words = list(_compose_command(words[2:], compose_services))
            if len(words) >= 2 and words[0] == "souk":
                yield assigned, words[1:], line


def _compose_command(words: list[str], compose_services: Mapping[str, Any]) -> Iterator[str]:
    """Check a `docker compose …` line's service names; yield the command it runs in a container."""
    profiles = {p for svc in compose_services.values() for p in svc.get("profiles", [])}
    while words and words[0] in ("--profile",):
        assert words[1] in profiles, words
        words = words[2:]
    action, rest = words[0], words[1:]
    if action == "up":
        for i, word in enumerate(rest):
            if word == "--scale":
                assert rest[i + 1].split("=")[0] in compose_services, rest
        return
    assert action in ("run", "exec"), f"docker compose {action}: not checked here"
    while rest[0].startswith("-"):
        rest = rest[2:] if rest[0] in ("--index", "-e", "--env", "-u", "--user") else rest[1:]
    assert rest[0] in compose_services, f"no compose service {rest[0]!r}"
    yield from rest[1:]


def test_readme_section_names_only_real_settings() -> None:
    used = set(re.findall(r"\bSOUK_[A-Z0-9_]+", readme_section()))
    assert used and used <= SETTING_NAMES, sorted(used - SETTING_NAMES)
    for line in readme_commands():
        for words in segments(line):
            for word in words:
                if re.fullmatch(r"SOUK_[A-Z0-9_]*=.*", word):
                    assert word.split("=")[0] in SETTING_NAMES, line


def test_readme_commands_are_real_souk_commands_with_valid_settings() -> None:
    seen = set()
    for assigned, args, line in souk_invocations():
        parsed = parse_souk(args)
        seen.add(parsed.command)
        assert set(assigned) <= SETTING_NAMES, line
        if assigned:  # run after `. ./deploy/souk.env`, as the README says
            Settings.from_env({**shared_env(), **assigned})
    assert {"serve", "migrate", "create-organizer", "reindex", "demo"} <= seen


def test_readme_ports_are_the_proxies_upstreams() -> None:
    ports = {
        int(assigned["SOUK_PORT"])
        for assigned, args, _ in souk_invocations()
        if args[0] == "serve" and assigned.get("SOUK_HOST") == "127.0.0.1" and "SOUK_WORKERS" not in assigned
    }
    assert ports and ports == {port for host, port in nginx_upstreams() if host == "127.0.0.1"}
    caddy_line = next(line for line in readme_commands() if "reverse_proxy" in line)
    assert {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", caddy_line)} == ports
    for assigned, args, _ in souk_invocations():
        if args[0] == "serve" and assigned:  # a command to type, not `souk serve` in a sentence
            assert parse_souk(args).no_migrate, "nodes start after the one `souk migrate`"


def test_readme_vapid_key_command_makes_a_key(tmp_path: Path) -> None:
    line = next(line for line in readme_commands() if "load_or_create_vapid_keys" in line)
    words = shlex.split(line)
    assert words[:2] == ["python", "-c"]
    code = words[2].replace('"/var/lib/souk"', repr(str(tmp_path)))
    assert code != words[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, timeout=60)
    key = tmp_path / "vapid_private_key.pem"
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600
