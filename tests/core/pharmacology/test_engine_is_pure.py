"""The dose and PK engine loads no plotting library, no units registry and no Django (no I/O at import)."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["units", "models", "regimen", "simulation", "population", "target", "dosing"]


def test_engine_imports_no_io_heavy_library() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {MODULES!r}: importlib.import_module('ketaclinic.core.pharmacology.' + m)\n"
        "print(','.join(sorted(k for k in sys.modules if "
        "k.split('.')[0] in ('matplotlib', 'pint', 'django'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
