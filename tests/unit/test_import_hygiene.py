"""The core stays pure and the hub stays headless: proven by importing them in a clean process."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("banned", ["textual", "websockets", "sqlite3", "asyncio", "socket"])
def test_core_imports_no_io(banned: str) -> None:
    assert banned not in roots(imported_after("warroom.core"))


@pytest.mark.parametrize("banned", ["textual", "websockets", "sqlite3", "asyncio"])
def test_protocol_is_sans_io(banned: str) -> None:
    assert banned not in roots(imported_after("warroom.protocol"))


def test_hub_never_imports_textual() -> None:
    mods = roots(imported_after("server.hub") | imported_after("server.main"))
    assert "textual" not in mods
    assert "websockets" in mods  # the check itself works: the hub does use websockets


CORE = Path(__file__).parents[2] / "warroom" / "core"
# The capability modules: each registers ops or events, and none imports another.
CAPABILITIES = {
    "alerts",
    "blockers",
    "changes",
    "checklist",
    "handoff",
    "notes",
    "presence",
    "stages",
    "votes",
}


def core_modules() -> dict[str, ast.Module]:
    """Every module of the core by its dotted name (the package itself is `warroom.core`)."""
    modules = {}
    for path in sorted(CORE.glob("*.py")):
        name = "warroom.core" if path.stem == "__init__" else f"warroom.core.{path.stem}"
        modules[name] = ast.parse(path.read_text(), str(path))
    return modules


def core_imports(tree: ast.Module, known: set[str]) -> set[str]:
    """The core modules `tree` imports, those under TYPE_CHECKING and in functions included:
    `from warroom.core import x` names submodule x when there is one, else the package."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "warroom.core":
                for alias in node.names:
                    sub = f"warroom.core.{alias.name}"
                    found.add(sub if sub in known else "warroom.core")
            elif node.module in known:
                found.add(node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = core_modules()
    known = set(modules)
    return {name: core_imports(tree, known) - {name} for name, tree in modules.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in `graph`, as the path round it, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_core_has_no_import_cycle_even_for_the_type_checker() -> None:
    graph = import_graph()
    assert "warroom.core.model" in graph and "warroom.core.votes" in graph
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])


def test_the_cycle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle(graph) == ["a", "b", "c", "a"]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from warroom.core.votes import Vote\n")  # fmt: skip
    assert core_imports(tree, {"warroom.core.votes"}) == {"warroom.core.votes"}


def test_the_value_types_import_no_rule() -> None:
    graph = import_graph()
    for leaf in ("model", "train", "runbook", "commits", "text"):
        imported = {m.rsplit(".", 1)[1] for m in graph[f"warroom.core.{leaf}"]}
        assert imported <= {"train", "runbook", "commits"}, (leaf, imported)


def test_capabilities_import_no_other_capability() -> None:
    graph = import_graph()
    for name in CAPABILITIES:
        modules = graph[f"warroom.core.{name}"]
        imported = {m.rsplit(".", 1)[1] for m in modules}
        assert not imported & CAPABILITIES, (name, imported & CAPABILITIES)
        assert "warroom.core.dispatch" not in modules and "warroom.core" not in modules, name


def test_core_reads_no_clock() -> None:
    for path in sorted(CORE.glob("*.py")):
        source = path.read_text()
        for clock in ("time.time", "datetime.now", "monotonic", "import time"):
            assert clock not in source, f"warroom/core/{path.name} reads the clock ({clock})"


@pytest.mark.parametrize("banned", ["git", "subprocess", "asyncio", "socket", "textual"])
def test_trace_reading_is_pure(banned: str) -> None:
    assert banned not in roots(imported_after("warroom.traces"))
