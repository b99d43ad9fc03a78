"""The core stays pure: no module under schemashift.core imports I/O, clocks or threads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "schemashift" / "core"

FORBIDDEN = {
    "socket",
    "asyncio",
    "threading",
    "multiprocessing",
    "subprocess",
    "os",
    "io",
    "pathlib",
    "time",
    "datetime.datetime.now",
    "random",
    "secrets",
    "sqlite3",
    "sqlalchemy",
    "psycopg",
    "nats",
    "httpx",
    "fastapi",
    "uvicorn",
    "urllib.request",
    "requests",
    "tempfile",
    "shutil",
    "logging",
    "schemashift.registry",
    "schemashift.bus",
    "schemashift.pipeline",
    "schemashift.api",
    "schemashift.cli",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_io(path: Path) -> None:
    """Every core module imports nothing that does I/O or reads a clock."""
    bad = {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_contract_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself flags an I/O import (so the test above can fail)."""
    module = tmp_path / "bad.py"
    module.write_text("import socket\nfrom schemashift.registry import x\n")
    assert imported_modules(module) == {"socket", "schemashift.registry"}
