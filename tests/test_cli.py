"""The `souk` command, run as a user runs it: a real process, a real server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.pdf_qr import qr_texts_per_page

SOUK = [sys.executable, "-m", "server.cli"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    env.update(SOUK_DATA_DIR=str(data_dir), **extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`souk demo` with the default market, served on a free port; yields (base URL, its output)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, SOUK_PORT=str(port), SOUK_BASE_URL=base)
    out_path = tmp_path / "demo.log"
    with out_path.open("w") as out:
        process = subprocess.Popen([*SOUK, "demo"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                assert process.poll() is None, out_path.read_text()
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            else:
                pytest.fail("souk demo did not come up: " + out_path.read_text())
            yield base, out_path.read_text()
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the demo command's embedded path runs in the SQLite pass")
def test_demo_brings_up_a_full_market(demo_server: tuple[str, str]) -> None:
    base, output = demo_server
    assert "Organizer login: organizer@demo.souk.test" in output
    events = httpx.get(f"{base}/api/events").json()
    assert len(events) == 1
    slug = events[0]["slug"]
    stalls = httpx.get(f"{base}/api/events/{slug}/stalls").json()
    assert len(stalls) >= 80
    total = 0
    for offset in range(0, 5000, 500):
        page = httpx.get(f"{base}/api/events/{slug}/items", params={"limit": 500, "offset": offset}).json()
        total += len(page)
        if len(page) < 500:
            break
    assert total >= 2000 - 200  # sold-out items are still listed; hidden/deleted are not
    stall_page = httpx.get(f"{base}/s/{stalls[0]['code']}")
    assert stall_page.status_code == 200 and "<img" in stall_page.text
    tags = {t["key"] for t in httpx.get(f"{base}/api/events/{slug}/hashtags").json()}
    assert "socialcause" in tags
    # Every page of the all-stalls PDF decodes to its stall's URL.
    organizer = httpx.post(
        f"{base}/api/auth/login", json={"email": "organizer@demo.souk.test", "password": "demo-organizer"}
    ).json()["token"]
    pdf = httpx.get(
        f"{base}/api/events/{slug}/signs.pdf", headers={"Authorization": f"Bearer {organizer}"}, timeout=120
    )
    assert pdf.status_code == 200
    assert qr_texts_per_page(pdf.content) == [[s["url"]] for s in stalls]
    login = httpx.post(
        f"{base}/api/auth/login", json={"email": "vendor01@demo.souk.test", "password": "demo-vendor-01"}
    )
    assert login.status_code == 201


def test_create_organizer_then_sign_in(tmp_path: Path) -> None:
    env = _env(tmp_path, **({"SOUK_DATABASE_URL": TEST_DATABASE_URL} if TEST_DATABASE_URL else {}))
    result = subprocess.run(
        [*SOUK, "create-organizer", "boss@example.org", "--password", "long enough"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    again = subprocess.run(
        [*SOUK, "create-organizer", "boss@example.org", "--password", "long enough"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = subprocess.run(
        [*SOUK, "create-organizer", "not-an-email", "--password", "long enough"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "email" in bad.stderr


def test_bad_settings_exit_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run([*SOUK, "migrate"], env=_env(tmp_path, SOUK_PORT="eighty"), capture_output=True, text=True)
    assert result.returncode == 2 and "SOUK_PORT" in result.stderr


def test_unreachable_database_says_what_to_do(tmp_path: Path) -> None:
    env = _env(tmp_path, SOUK_DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    result = subprocess.run([*SOUK, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "SOUK_DATABASE_URL" in result.stderr, result.stderr


def test_demo_refuses_to_wipe_postgres_without_the_flag(tmp_path: Path) -> None:
    env = _env(tmp_path, SOUK_DATABASE_URL="postgres://postgres@127.0.0.1:5432/never_touched")
    result = subprocess.run([*SOUK, "demo", "--no-serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "--reset-database" in result.stderr


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the embedded path runs in the SQLite pass")
def test_small_demo_then_reindex(tmp_path: Path) -> None:
    env = _env(tmp_path)
    demo = subprocess.run(
        [*SOUK, "demo", "--no-serve", "--stalls", "8", "--items", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    assert "8 stalls, 120 items" in demo.stdout
    assert "photos: 100%" in demo.stderr or "photos" in demo.stderr  # progress is shown
    # A size the layout cannot hold is refused before anything is wiped: the market above survives.
    for size in (["--stalls", "6"], ["--stalls", "8", "--items", "9999"]):
        bad = subprocess.run([*SOUK, "demo", "--no-serve", *size], env=env, capture_output=True, text=True)
        assert bad.returncode == 1 and "Change --stalls or --items" in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    result = subprocess.run([*SOUK, "reindex"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Search index rebuilt: 120 items." in result.stdout


def test_an_unusable_address_or_port_says_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command in (["serve", "--no-migrate"], ["demo"]):
            result = subprocess.run(
                [*SOUK, *command], env=_env(tmp_path, SOUK_PORT=port), capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 1, result.stderr
            assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "SOUK_PORT" in result.stderr
    assert not (tmp_path / "souk.sqlite3").exists()  # the demo stopped before writing anything
    for host in ("192.0.2.1", "no-such-host.invalid"):  # TEST-NET-1: never an address of this machine
        result = subprocess.run([*SOUK, "serve"], env=_env(tmp_path, SOUK_HOST=host), capture_output=True, text=True)
        assert result.returncode == 1 and f"SOUK_HOST={host} is not an address of this machine" in result.stderr


def _serve_output(tmp_path: Path, **settings: str) -> str:
    """Start `souk serve` with these settings, wait until it answers, stop it; what it printed."""
    port = _free_port()
    out_path = tmp_path / f"serve-{port}.log"
    env = _env(tmp_path, SOUK_PORT=str(port), **settings)
    with out_path.open("w") as out:
        process = subprocess.Popen([*SOUK, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, out_path.read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, out_path.read_text()
                    time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=20)
    return out_path.read_text()


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the embedded path runs in the SQLite pass")
def test_serve_warns_when_phones_cannot_use_the_public_url(tmp_path: Path) -> None:
    everywhere = _serve_output(tmp_path, SOUK_HOST="0.0.0.0")  # the case being tested
    assert "QR codes and links point at http://127.0.0.1:8000, which phones cannot reach" in everywhere
    plain = _serve_output(tmp_path, SOUK_BASE_URL="http://192.168.1.20:8000")
    assert "http://192.168.1.20:8000 is plain http" in plain and "SOUK_BASE_URL=https://" in plain
    fine = _serve_output(tmp_path, SOUK_BASE_URL="https://market.example.org")
    assert "warning" not in fine and "Serving on" in fine
