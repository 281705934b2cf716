"""The import table of DESIGN.md, enforced on the source tree.

| package  | may import (of ours)                                              |
| zoo/     | nothing; zoo/__main__.py is a shim over paperzoo.zoo_cli            |
| reading/ | nothing; reading/__main__.py is a shim over paperzoo.reading_cli    |
| index/   | reading (its public surface)                                      |
| ui/, app.py | the public surfaces of reading, index and zoo                  |
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"reading", "index", "zoo", "ui", "paperzoo"}
HEAVY = {"torch", "sentence_transformers", "transformers", "faiss"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module name, at module level) for every import in a file; relative imports resolved to the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = path.relative_to(ROOT).parts[0] if path.parent != ROOT else ""
    toplevel = {id(n) for n in tree.body}
    # statements guarded by `if TYPE_CHECKING:` at module level do not run
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            toplevel.discard(id(node))
        elif isinstance(node, (ast.If, ast.Try)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    toplevel.add(id(sub))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in toplevel) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg
                out.append((f"{base}.{node.module}" if node.module else base, id(node) in toplevel))
            else:
                out.append((node.module or "", id(node) in toplevel))
    return out


def _files(pkg: str) -> list[Path]:
    return sorted((ROOT / pkg).rglob("*.py"))


def _ours(name: str) -> str | None:
    top = name.split(".")[0]
    return top if top in OURS else None


@pytest.mark.parametrize("path", _files("zoo"), ids=lambda p: str(p.relative_to(ROOT)))
def test_zoo_imports_nothing_of_ours(path):
    for name, top in _imports(path):
        other = _ours(name)
        if other in (None, "zoo"):
            continue
        assert path.name == "__main__.py" and other == "paperzoo", f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _files("reading"), ids=lambda p: str(p.relative_to(ROOT)))
def test_reading_imports_nothing_of_ours_and_nothing_heavy(path):
    for name, top in _imports(path):
        other = _ours(name)
        if other == "paperzoo" and path.name == "__main__.py":
            continue
        assert other in (None, "reading"), f"{path.name} imports {name}"
        if top:
            assert name.split(".")[0] not in HEAVY, f"{path.name} imports {name} at module level"


@pytest.mark.parametrize("path", _files("index"), ids=lambda p: str(p.relative_to(ROOT)))
def test_index_imports_only_reading_public_surface(path):
    for name, _ in _imports(path):
        other = _ours(name)
        assert other in (None, "index", "reading"), f"{path.name} imports {name}"
        if other == "reading":
            assert not any(part.startswith("_") for part in name.split(".")[1:]), f"{path.name} imports private {name}"


@pytest.mark.parametrize("path", [ROOT / "app.py", *_files("ui")], ids=lambda p: str(p.relative_to(ROOT)))
def test_ui_uses_public_surfaces(path):
    for name, _ in _imports(path):
        other = _ours(name)
        if other in (None, "ui"):
            continue
        assert not any(part.startswith("_") for part in name.split(".")[1:]), f"{path.name} imports private {name}"


def test_no_package_reaches_outside_the_repo():
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "bench"}:
            continue
        text = path.read_text(encoding="utf-8")
        assert "sys.path.insert" not in text and "sys.path.append" not in text, path
        assert "../shared" not in text, path
