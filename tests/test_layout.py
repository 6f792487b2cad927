"""The layout's promises: draw/core and assign/core are pure (no database, files or clock), the
facades keep the names the CLI and the web layer import, and no two classes share a name unless
listed below."""

from __future__ import annotations

import ast
import collections
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "inspect_kit"
CORES = ("inspect_kit.draw.core", "inspect_kit.assign.core")

# What a pure module may not touch: the database, files, the environment or the clock.
FORBIDDEN_IMPORTS = {
    "sqlalchemy",
    "pathlib",
    "os",
    "shutil",
    "tempfile",
    "openpyxl",
    "reportlab",
    "inspect_kit.storage",
}
FORBIDDEN_CALLS = {"open"}
FORBIDDEN_ATTRIBUTES = {"now", "today", "utcnow", "read_text", "write_text", "read_bytes", "write_bytes"}


def _core_files() -> list[Path]:
    return sorted(f for c in CORES for f in (ROOT / c.replace(".", "/")).glob("*.py"))


def _impurities(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [
            f"line {node.lineno}: imports {n}"
            for n in names
            if any(n == f or n.startswith(f + ".") for f in FORBIDDEN_IMPORTS)
        ]
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: calls {f.id}()")
            if isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_ATTRIBUTES:
                found.append(f"line {node.lineno}: calls .{f.attr}()")
    return found


def test_core_modules_touch_no_database_file_or_clock():
    files = _core_files()
    assert len(files) > 20  # both cores found
    bad = {str(f.relative_to(ROOT)): p for f in files if (p := _impurities(ast.parse(f.read_text())))}
    assert bad == {}


def test_the_purity_check_catches_a_database_import_a_file_and_the_clock():
    sneaky = "import sqlalchemy.orm\nfrom inspect_kit.storage.models import Task\nopen('x')\nimport datetime\ndatetime.datetime.now()\n"
    assert len(_impurities(ast.parse(sneaky))) == 4


def test_importing_every_core_module_loads_no_database_or_document_library():
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORES!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(name + '.' + m.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'openpyxl', 'reportlab', 'alembic'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("facade", ["inspect_kit.draw.service", "inspect_kit.assign.service"])
def test_facades_export_what_they_list(facade):
    import importlib

    mod = importlib.import_module(facade)
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert missing == []


def test_draw_service_keeps_the_names_the_cli_imports_from_the_core():
    from inspect_kit.draw import service

    names = ("SeedSource", "SeedError", "DRAND_CHAINS", "CST", "Expected", "verify_bundle", "format_ticket")
    names += ("draw_from_file", "export_bundle", "TaskInfo", "current_tasks", "current_draw_ids", "task_by_no")
    for name in names:
        assert name in service.__all__ and getattr(service, name) is not None


def test_store_subpackages_hold_every_module_that_uses_the_database():
    """A module in draw/ or assign/ that imports SQLAlchemy lives in store/ (or is a facade or a demo)."""
    allowed_top = {"service.py", "demo.py", "__init__.py"}
    misplaced = []
    for stage in ("draw", "assign"):
        for f in sorted((PKG / stage).rglob("*.py")):
            rel = f.relative_to(PKG / stage)
            if rel.parts[0] == "store" or (len(rel.parts) == 1 and rel.name in allowed_top):
                continue
            if "sqlalchemy" in f.read_text():
                misplaced.append(str(rel))
    assert misplaced == []
    assert [m.name for m in pkgutil.iter_modules([str(PKG / "draw" / "store")])]  # store/ is a package


# Classes that still share a name (a dataclass of the core or the config and the ORM model of the
# same thing, ...): to rename one day; a collision not listed here fails the test below. "Role" is
# accounts.roles.Role (the web layer's, on main) beside publish.fonts.Role.
KNOWN_SHARED = {
    "Assignment": 2,
    "Column": 2,
    "ManualValue": 2,
    "Matter": 2,
    "Role": 2,
    "ScoringRun": 2,
    "Strict": 2,
    "Table": 2,
    "Unit": 2,
}


def test_no_new_class_name_collisions():
    seen: dict[str, list[str]] = collections.defaultdict(list)
    for f in sorted(PKG.rglob("*.py")):
        rel = str(f.relative_to(PKG))
        if rel.startswith(("storage/migrations/versions", "web/")):
            continue
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.ClassDef):
                seen[node.name].append(rel)
    shared = {name: len(where) for name, where in seen.items() if len(where) > 1}
    new = {n: seen[n] for n, k in shared.items() if k > KNOWN_SHARED.get(n, 1)}
    assert new == {}
    for renamed in ("VerifyReport", "ImportSummary", "Task", "Notice"):
        assert len(seen[renamed]) <= 1, seen[renamed]
