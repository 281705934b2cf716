"""The import rules of the README's Layout section, enforced on the source tree (ast, no imports run).

| package            | may import (of ours)                                                                   |
| reading/, index/, zoo/ | nothing: they are leaves; only their ``__main__.py`` shims import ``paperzoo``    |
| paperzoo/          | the public surfaces of reading, index and zoo (no ``_private`` module or name)         |
| ui/, app.py        | paperzoo and the public surfaces of reading, index and zoo                             |
| bench/, tests/     | anything                                                                               |

And within each package the modules import each other without a cycle, counting imports inside functions: deferring
an import is how a heavy dependency is kept off the fast path, not how a loop between our modules is hidden.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("reading", "index", "zoo")
OURS = {*LIBRARIES, "paperzoo", "ui"}
HEAVY = {"torch", "sentence_transformers", "transformers", "faiss"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom reads from."""
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _guarded(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (they never run)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out |= {id(n) for n in ast.walk(node)}
    return out


def imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """(module, names imported from it, at module level) for every import that runs, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = _guarded(tree)
    functions = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        top = id(node) not in functions
        if isinstance(node, ast.Import):
            out += [(a.name, [], top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((_resolve(path, node), [a.name for a in node.names], top))
    return out


def _files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def _ours(name: str) -> str | None:
    top = name.split(".")[0]
    return top if top in OURS else None


def _private(module: str, names: list[str]) -> str | None:
    """The first private part of ``from module import names`` (``_x`` module or name; dunders are fine)."""
    for part in [*module.split(".")[1:], *names]:
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return part
    return None


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", _files(*LIBRARIES), ids=_id)
def test_libraries_are_leaves(path):
    pkg = path.relative_to(ROOT).parts[0]
    for name, _, _ in imports(path):
        other = _ours(name)
        if other in (None, pkg):
            continue
        shim = path.name == "__main__.py" and path.parent == ROOT / pkg
        assert shim and other == "paperzoo", f"{_id(path)} imports {name}: {pkg} must not import other packages of ours"


@pytest.mark.parametrize("pkg, shim", [("reading", "paperzoo.reading_cli"), ("zoo", "paperzoo.zoo_cli")])
def test_python_dash_m_shims_only_forward_to_the_cli(pkg, shim):
    found = [(name, names) for name, names, _ in imports(ROOT / pkg / "__main__.py")]
    assert found == [(shim, ["cli", "main"])]


@pytest.mark.parametrize("path", _files("reading"), ids=_id)
def test_reading_imports_nothing_heavy_at_module_level(path):
    for name, _, top in imports(path):
        if top:
            assert name.split(".")[0] not in HEAVY, f"{_id(path)} imports {name} at module level"


@pytest.mark.parametrize("path", _files("paperzoo", "ui") + [ROOT / "app.py"], ids=_id)
def test_the_application_layer_and_the_ui_use_public_surfaces(path):
    for name, names, _ in imports(path):
        other = _ours(name)
        if other is None or other == path.relative_to(ROOT).parts[0] or (other == "ui" and path.name == "app.py"):
            continue
        if other == "ui":
            pytest.fail(f"{_id(path)} imports {name}: only the ui and app.py import ui")
        private = _private(name, names)
        assert private is None, f"{_id(path)} imports {private} from {name}: use the public surface"


@pytest.mark.parametrize("path", _files("paperzoo"), ids=_id)
def test_the_application_layer_defers_heavy_packages(path):
    """`reading add/list/show` load paperzoo: only the zoo CLI's modules may import zoo (torch) at module level,
    and nothing imports index (faiss, the embedder) at module level."""
    for name, _, top in imports(path):
        if not top:
            continue
        root = name.split(".")[0]
        assert root not in HEAVY and root != "index", f"{_id(path)} imports {name} at module level"
        if root == "zoo":
            assert path.name.startswith("zoo_cli"), f"{_id(path)} imports {name} at module level"


def _graph(pkg: str) -> dict[str, set[str]]:
    files = {_module_name(p): p for p in _files(pkg)}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        for name, names, _ in imports(path):  # an import inside a function is a dependency too
            if name.split(".")[0] != pkg:
                continue
            targets = [f"{name}.{n}" for n in names if f"{name}.{n}" in files] or [name]
            graph[module] |= {t for t in targets if t in files and t != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import one another in a loop (strongly connected, two or more), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


@pytest.mark.parametrize("pkg", [*LIBRARIES, "paperzoo", "ui"])
def test_no_import_cycles_between_the_modules_of_a_package(pkg):
    graph = _graph(pkg)
    # a package's __init__ re-exports its modules; a module importing its own package back would close a loop
    loops = _loops(graph)
    assert not loops, "modules in a loop: " + "; ".join(
        f"{', '.join(group)} (e.g. {' -> '.join(_cycle({m: graph[m] & set(group) for m in group}) or [])})"
        for group in loops)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    assert _loops({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}, "e": {"a"}}) == [["a", "b"], ["c", "d"]]


def test_an_import_inside_a_function_is_a_dependency(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def later():\n    from .a import x\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _loops(_graph("pkg")) == [["pkg.a", "pkg.b"]]


def test_no_package_reaches_outside_the_repo():
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "bench"}:
            continue
        text = path.read_text(encoding="utf-8")
        assert "sys.path.insert" not in text and "sys.path.append" not in text, path
        assert "../shared" not in text, path


def test_the_pages_are_listed_once():
    from ui._pages import PAGE_FILES, PAGES

    scripts = sorted(_id(p) for p in (ROOT / "ui" / "pages").glob("*.py"))
    assert sorted(PAGE_FILES.values()) == scripts and len(PAGES) == len(scripts)
    for path in [ROOT / "app.py", *_files("ui")]:
        if path.name != "_pages.py":
            assert "ui/pages/" not in path.read_text(encoding="utf-8"), f"{_id(path)} names a page script"


WRITERS = {"reading": "reading/_atomic.py", "index": "index/_store.py", "zoo": "zoo/_atomic.py"}


@pytest.mark.parametrize("pkg", [*LIBRARIES, "paperzoo"])
def test_one_atomic_writer_per_package(pkg):
    """Temp file + fsync + rename + folder fsync lives in one module per library (paperzoo uses theirs)."""
    for path in _files(pkg):
        calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)
                 and ast.unparse(n.func) in ("os.replace", "os.rename", "shutil.move")]
        if calls:
            assert _id(path) == WRITERS.get(pkg), f"{_id(path)} renames files itself: use {WRITERS.get(pkg)}"
