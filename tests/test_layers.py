"""The top-level folders are layers, and a module imports only from its own layer or below.

Bottom to top:
- `sync/` (the change log, its readers and compaction, the pull and push protocols) and the
  browser-asset folders `pwa/` and `kiosk/` (whose few Python files import no project folder);
- `search/` (the search engines and the indexer, which reads the change log with `sync`'s
  reader: search sits on sync, never the other way round);
- `server/` (the app, its tables, domain and API; it wires sync and search together, giving
  them what they need from above: the push handlers, the pull feed, the documents to index);
- `fixtures/` (the demo market, loaded through `server.domain`).

`tests/` and `bench/` may import anything and are not checked. The one named exception is the
CLI: `server/cli.py` is the program's entry point (`souk`), above every layer, and loads the
demo market from `fixtures` inside `souk demo`.

Every `import` and `from ... import` counts, relative ones and those inside functions or
`if TYPE_CHECKING:` blocks included, and so does `importlib.import_module("...")` with a
literal name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS: dict[str, int] = {"sync": 0, "pwa": 0, "kiosk": 0, "search": 1, "server": 2, "fixtures": 3}

# Entry points above every layer: file -> the top-level folders it may import besides its own.
ENTRY_POINTS: dict[str, set[str]] = {"server/cli.py": {"fixtures"}}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository, e.g. "sync/push.py"
    line: int
    module: str  # absolute dotted name, e.g. "server.tables"

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def target(self) -> str:
        return self.module.split(".", 1)[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} → {self.module}"


def _package_of(path: Path, root: Path) -> list[str]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts if path.name == "__init__.py" else parts[:-1]


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every module `path` imports, resolved to absolute dotted names."""
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    package = _package_of(path, root)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(rel, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                stem = ".".join([*base, node.module] if node.module else base)
                if node.module:
                    found.append(Import(rel, node.lineno, stem))
                else:  # `from . import a, b`: the submodules a, b of the package
                    found += [Import(rel, node.lineno, f"{stem}.{alias.name}") for alias in node.names]
            elif node.module:
                found.append(Import(rel, node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            found.append(Import(rel, node.lineno, node.args[0].value))
    return found


def layered_files() -> list[Path]:
    files: list[Path] = []
    for folder in LAYERS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def upward_imports(files: list[Path], root: Path = ROOT) -> list[Import]:
    """Imports of a top-level folder that is not at or below the importing file's layer."""
    bad: list[Import] = []
    for path in files:
        for imp in imports_of(path, root):
            if imp.target not in LAYERS or imp.target == imp.folder:
                continue
            if imp.target in ENTRY_POINTS.get(imp.path, set()):
                continue
            if LAYERS[imp.target] >= LAYERS[imp.folder]:
                bad.append(imp)
    return bad


def test_every_top_level_folder_imports_only_downward() -> None:
    files = layered_files()
    assert len(files) > 50, "the layer check found too few files; is ROOT right?"
    bad = upward_imports(files)
    assert not bad, "upward imports between top-level folders (see tests/test_layers.py):\n" + "\n".join(
        f"  {imp}  ({imp.folder} may not import {imp.target})" for imp in bad
    )


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """A sync module importing the server in each way the check must catch."""
    (tmp_path / "sync").mkdir()
    probe = tmp_path / "sync" / "_layer_probe_for_test.py"
    probe.write_text(
        "from __future__ import annotations\n"
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "import server.tables\n"
        "from server.domain import chat\n"
        "if TYPE_CHECKING:\n"
        "    from server.domain.context import Market\n"
        "def later() -> None:\n"
        "    from search.engine import SearchEngine\n"
        "    importlib.import_module('fixtures.market')\n"
        "from .log import step\n"
        "from . import cursor\n",
        encoding="utf-8",
    )
    found = [str(imp) for imp in upward_imports([probe], tmp_path)]
    everything = [str(imp) for imp in imports_of(probe, tmp_path)]
    name = "sync/_layer_probe_for_test.py"
    assert found == [
        f"{name}:4 → server.tables",
        f"{name}:5 → server.domain",
        f"{name}:7 → server.domain.context",
        f"{name}:9 → search.engine",
        f"{name}:10 → fixtures.market",
    ]
    assert f"{name}:11 → sync.log" in everything
    assert f"{name}:12 → sync.cursor" in everything


def test_the_cli_is_the_only_named_exception() -> None:
    assert {"server/cli.py": {"fixtures"}} == ENTRY_POINTS
    cli_imports = {imp.target for imp in imports_of(ROOT / "server" / "cli.py")}
    assert "fixtures" in cli_imports, "server/cli.py no longer needs its exception: remove it"
