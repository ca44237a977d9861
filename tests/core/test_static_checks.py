"""Static checks that run with the suite, so CI enforces them: ruff on all code, mypy on the code and tests.

A type is a guarantee only if it is checked: the whole package is type-checked strictly, with Django's types
and mypy plugin (django-stubs) and pydantic's, and the tests with it, less strictly (configuration in
pyproject.toml, [tool.mypy]). The pure core holds the safety-critical rules (dose, limits, eligibility,
thresholds, discharge): a type error there is a defect.
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


def test_the_package_and_the_tests_pass_mypy() -> None:
    cache = ROOT / "var" / "mypy-cache"  # reruns check only what changed
    result = run(sys.executable, "-m", "mypy", "--cache-dir", str(cache), "src/ketaclinic", "tests")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
