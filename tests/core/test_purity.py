"""The core is pure: importing every module of ketaclinic.core loads no Django and no web framework."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import ketaclinic.core

CORE_DIR = Path(ketaclinic.core.__file__).parent
FORBIDDEN = ("django", "ninja", "psycopg", "requests", "ketaclinic.web")


def _core_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages([str(CORE_DIR)], prefix="ketaclinic.core.")]


def test_core_has_modules() -> None:
    assert "ketaclinic.core.eligibility" in _core_modules()


def test_importing_the_whole_core_loads_no_django() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {_core_modules()!r}: importlib.import_module(m)\n"
        f"bad = sorted(k for k in sys.modules if k.split('.')[0] in {FORBIDDEN!r} "
        "or k.startswith('ketaclinic.web'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the core loaded: {out.stdout.strip()}"


def test_no_core_source_imports_a_forbidden_package() -> None:
    offenders = []
    for path in CORE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in FORBIDDEN or n.startswith("ketaclinic.web")
            ]
    assert offenders == []
