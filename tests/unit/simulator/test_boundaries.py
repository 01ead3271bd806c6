"""The simulator stands for the outside world: it may know the protocol, not the platform."""

from __future__ import annotations

import ast
from pathlib import Path

SIMULATOR = Path(__file__).parents[3] / "src/prepaidgrid/simulator"


def _prepaidgrid_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    return {name for name in names if name.startswith("prepaidgrid")}


def test_the_simulator_imports_only_the_domain_and_itself() -> None:
    imported = {name for path in SIMULATOR.glob("*.py") for name in _prepaidgrid_imports(path)}

    assert imported
    assert {
        name
        for name in imported
        if not name.startswith(("prepaidgrid.domain", "prepaidgrid.simulator"))
    } == set()
