"""The core stays pure and the hub stays headless: proven by importing them in a clean process."""

from __future__ import annotations

import subprocess
import sys

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


def test_core_reads_no_clock() -> None:
    import inspect

    import warroom.core as core
    import warroom.core.deployers  # noqa: F401  (not imported by the core's __init__)

    names = ("model", "room", "presence", "notes", "registry", "schema", "wire", "changes")
    for name in (*names, "commits", "deployers"):
        source = inspect.getsource(getattr(core, name))
        for clock in ("time.time", "datetime.now", "monotonic", "import time"):
            assert clock not in source, f"warroom.core.{name} reads the clock ({clock})"


@pytest.mark.parametrize("banned", ["git", "subprocess", "asyncio", "socket", "textual"])
def test_trace_reading_is_pure(banned: str) -> None:
    assert banned not in roots(imported_after("warroom.traces"))
