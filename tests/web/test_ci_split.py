"""`make test` shares the browser tests out between its two passes by module: each module named for the
PostgreSQL pass exists (a misspelt name would quietly move a flow to SQLite), and the two passes together
collect every browser test exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import E2E_ON_POSTGRES

E2E = Path(__file__).resolve().parents[1] / "e2e"


def test_every_module_named_for_postgresql_exists():
    present = {p.name for p in E2E.glob("test_*.py")}
    assert E2E_ON_POSTGRES <= present, E2E_ON_POSTGRES - present


def _collected(share: str) -> set[str]:
    env = {**os.environ, "KETACLINIC_E2E_PASS": share, "DATABASE_URL": ""}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(E2E)],
        capture_output=True,
        text=True,
        env=env,
        cwd=E2E.parents[1],
        check=False,
    ).stdout
    return {line for line in out.splitlines() if "::" in line}


def test_the_two_passes_collect_every_browser_test_once():
    sqlite, postgres = _collected("sqlite"), _collected("postgres")
    every = _collected("")
    assert sqlite and postgres and not sqlite & postgres
    assert sqlite | postgres == every
