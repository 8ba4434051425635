"""The package's import graph: no cycle, and figures sit on top of results only.

The graph is read from the source with :mod:`ast`, without importing anything. It holds
the infomec-internal imports that run when a module is imported: statements at module
level (including those inside a module-level ``if`` / ``try``). Two kinds are left out
on purpose:

- imports under ``if TYPE_CHECKING:`` (never run), and
- imports inside functions or methods (run on first call, after every module has
  loaded; e.g. ``ScoreResult.plot_nmi`` imports :mod:`infomec.figures` lazily).

An edge to ``pkg.sub`` does not add the implied edge to ``pkg/__init__.py`` (Python
imports parent packages first, but ``infomec/__init__`` re-exports the API and would
otherwise close a cycle with every module).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "infomec"


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _known(name: str) -> str:
    """``name`` itself if it is a module of the package, else its nearest enclosing one."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(_known(a.name) for a in node.names if a.name.startswith("infomec"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source == "infomec" or source.startswith("infomec."):
                    for alias in node.names:
                        full = f"{source}.{alias.name}"
                        found.add(full if full in MODULES else _known(source))
            # function and class bodies are not visited: their imports run lazily

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    found.discard(module)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read():
    # The parser finds known edges (a broken parser would find no cycle trivially).
    assert "infomec.result" in GRAPH["infomec.figures"]
    assert "infomec.scoring" in GRAPH["infomec.bootstrap"]
    assert "infomec.metrics.infomec" in GRAPH["infomec.metrics"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package():
    assert _cycle(GRAPH) is None


def _reachable(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


# Modules a figure or the HTML page may load: the result and leaf helpers below it.
BELOW_RESULT = {
    "infomec.result",
    "infomec.outputs",
    "infomec.sweep_table",
    "infomec.inputs.digest",  # a leaf: formats the input digest (numpy only)
}


@pytest.mark.parametrize("module", ["infomec.figures", "infomec.report_html"])
def test_figures_import_nothing_above_the_result(module):
    assert _reachable(module) <= BELOW_RESULT


def test_readme_links_stay_inside_the_repository():
    import re

    root = PACKAGE.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme  # the definitions live in docs/, in the repository
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert "docs/definitions.md" in local and "ARCHITECTURE.md" in local
    for target in local:
        assert (root / target).exists(), target
