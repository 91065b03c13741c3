"""The Dockerfile copies files that exist and runs a real CLI command; `.ci/run` runs the README's test command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_copies_existing_files_and_runs_a_real_command() -> None:
    text = (ROOT / "Dockerfile").read_text()
    copied = [src for line in re.findall(r"^COPY (.+)$", text, re.M) for src in line.split()[:-1]]
    assert copied, "the Dockerfile copies nothing?"
    for src in copied:
        assert (ROOT / src).exists(), f"Dockerfile copies missing {src}"
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert re.search(r"^USER (?!root)\w+", text, re.M), "must not run as root"
    assert 'VOLUME ["/data"]' in text
    command = json.loads(re.findall(r"^CMD (.+)$", text, re.M)[-1])
    assert command[0] == "souk"
    result = subprocess.run([sys.executable, "-m", "server.cli", command[1], "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_python_package_is_in_the_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("server", "search", "sync", "kiosk", "pwa", "fixtures"):
        assert f"COPY {package} ./{package}" in text


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in readme[:6] if line.startswith("make ")]
    assert commands == ["make demo", "make test"]
    assert "exec make test" in (ROOT / ".ci" / "run").read_text()


def test_the_wheel_ships_every_module_and_browser_file(tmp_path: Path) -> None:
    """`pip install .` (the Docker image) gets every package, subpackages included, and every
    file the browser apps are served from: a module left out breaks the image, not the tests."""
    # From a copy of the files git knows: setuptools' build/ folder in the checkout would leak
    # files an earlier build put there into this one.
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    source = tmp_path / "source"
    for name in tracked.splitlines():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("souk-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    served = (".py", ".html", ".js", ".css", ".json", ".webmanifest", ".png", ".svg")
    wanted = {
        name
        for name in tracked.splitlines()
        if name.split("/")[0] in ("server", "search", "sync", "kiosk", "pwa", "fixtures")
        and name.endswith(served)
        and (ROOT / name).exists()
    }
    assert wanted, "git ls-files found nothing?"
    assert sorted(wanted - shipped) == []
