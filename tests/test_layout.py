"""The tree says where each concern lives, and the code keeps to it.

* ``salesflow/`` keeps at most six top-level modules; every subpackage opens with a docstring saying
  what it is for and what it may import, and imports only that (checked on the source, not by hand);
* every stack and construct under ``terraform/`` is short enough to read: no method over 120 lines;
* cdktf stays inside ``terraform/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SALESFLOW = REPO_ROOT / "salesflow"
MAX_TOP_LEVEL_MODULES = 6
MAX_METHOD_LINES = 120
SHARED = {"config", "contracts", "cli_options"}
# What each subpackage may import besides the shared top-level modules (and itself).
MAY_IMPORT = {
    "events": set(),
    "sql": {"events", "cloud"},
    "twin": {"events", "sql", "ops"},
    "delivery": {"events", "cloud"},
    "cloud": set(),
    "ops": {"cloud", "delivery", "sql"},
}


def _subpackages() -> list[Path]:
    return sorted(path.parent for path in SALESFLOW.glob("*/__init__.py"))


def _salesflow_imports(path: Path) -> set[str]:
    """The salesflow subpackages or top-level modules a file imports (``salesflow.x.y`` -> ``x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "salesflow" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_the_top_level_keeps_only_what_every_subpackage_shares() -> None:
    modules = sorted(path.name for path in SALESFLOW.glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules
    assert {path.name for path in _subpackages()} == set(MAY_IMPORT)


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_subpackage_says_what_it_is_for_and_imports_only_what_it_may(package: str) -> None:
    docstring = ast.get_docstring(
        ast.parse((SALESFLOW / package / "__init__.py").read_text(encoding="utf-8"))
    )
    assert docstring and "May import" in docstring, f"salesflow/{package}/__init__.py needs its docstring"
    allowed = SHARED | MAY_IMPORT[package] | {package}
    for path in sorted((SALESFLOW / package).rglob("*.py")):
        stray = _salesflow_imports(path) - allowed
        assert not stray, f"{path.relative_to(REPO_ROOT)} imports salesflow.{sorted(stray)}; see its __init__"


def test_the_import_rule_is_checked_on_real_code(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("import salesflow.twin.demo\nfrom salesflow.events import records\nimport os\n")
    assert _salesflow_imports(module) == {"twin", "events"}


def _long_methods(path: Path) -> list[str]:
    long = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.end_lineno - item.lineno + 1 > MAX_METHOD_LINES:
                    long.append(f"{path.relative_to(REPO_ROOT)}: {node.name}.{item.name}")
    return long


def test_stacks_and_constructs_have_no_method_over_120_lines() -> None:
    files = [
        path
        for folder in ("stacks", "aws", "confluent", "flink")
        for path in sorted((REPO_ROOT / "terraform" / folder).glob("*.py"))
    ]
    assert files
    assert [entry for path in files for entry in _long_methods(path)] == []


def test_cdktf_is_imported_only_inside_terraform() -> None:
    outside = [
        path.relative_to(REPO_ROOT)
        for folder in ("salesflow", "exporter", "bench", "tools")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if {"cdktf", "constructs"} & {name.split(".")[0] for name in _imported_names(path)}
    ]
    assert outside == []


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names
