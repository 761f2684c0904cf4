"""docs/architecture.md's shape, checked on the code: imports point one way.

pipeline.commands → pipeline (the engine) → overlay, encoders → overdash. Lazy imports
inside functions count too: a command-only import in the engine would pull a
command's start-up cost (and its dependencies) into every worker.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# package (folder) → first-party top-level names it must not import
FORBIDDEN = {
    "overdash": {"overlay", "encoders", "pipeline"},
    "overlay": {"encoders", "pipeline"},
    "encoders": {"overlay", "pipeline"},
}


def imported_names(source: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_import_nothing_above_them(package):
    bad = [f"{source.relative_to(ROOT)} imports {name}"
           for source in sorted((ROOT / package).rglob("*.py"))
           for name in imported_names(source) if name.split(".")[0] in FORBIDDEN[package]]
    assert not bad, "\n".join(bad)


def test_the_engine_never_imports_a_command():
    engine = [p for p in sorted((ROOT / "pipeline").glob("*.py"))]
    assert {p.name for p in engine} >= {"scheduler.py", "worker.py", "writer.py", "ring.py"}
    bad = [f"{source.relative_to(ROOT)} imports {name}" for source in engine
           for name in imported_names(source) if name == "pipeline.commands" or name.startswith("pipeline.commands.")]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_violation(tmp_path):
    """The walk finds imports inside functions, so the tests above can fail."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from pipeline.commands.render import render\n    import overlay.widgets\n")
    assert imported_names(source) == ["pipeline.commands.render", "overlay.widgets"]
