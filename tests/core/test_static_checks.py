"""Static checks that run with the suite, so CI enforces them: ruff on all code, mypy --strict on the core.

The pure core holds the safety-critical rules (dose, limits, eligibility, thresholds, discharge); a type
error there is a defect, so it is checked strictly (configuration in pyproject.toml, [tool.mypy]).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing_in_the_code_tests_and_benchmarks() -> None:
    result = run(str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_laid_out_by_ruff_format() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", "src", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pure_core_passes_mypy_strict() -> None:
    result = run(sys.executable, "-m", "mypy", "--cache-dir", "/dev/null", "src/ketaclinic/core")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
