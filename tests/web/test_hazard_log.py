"""The hazard log (docs/safety/hazard-log.md) names, for each hazard, its control and the tests that fail
when the control is removed. This keeps the log honest: every control named must exist in the code and
every test named must exist in the suite, so a renamed function or a deleted test breaks the build."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
SEVERITIES = {"catastrophic", "major", "moderate", "minor"}
ROW = re.compile(
    r"^\|\s*(?P<id>HZ-\d{3})\s*\|(?P<hazard>[^|]+)\|(?P<severity>[^|]+)\|(?P<control>[^|]+)\|(?P<tests>[^|]+)\|\s*$"
)


def _rows() -> list[dict[str, str]]:
    rows = []
    for line in LOG.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            rows.append({k: v.strip() for k, v in m.groupdict().items()})
    return rows


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test_")
    }


def test_the_log_has_the_hazards_of_the_chair() -> None:
    rows = _rows()
    assert len(rows) >= 45, f"the hazard log lists {len(rows)} hazards; the infusion chair alone has about 45"
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "hazard ids must be unique"
    assert all(len(r["hazard"]) >= 15 for r in rows), "each hazard says what goes wrong, in words"


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["id"])
def test_each_hazard_has_a_severity_an_existing_control_and_existing_tests(row: dict[str, str]) -> None:
    assert row["severity"] in SEVERITIES, f"{row['id']}: severity {row['severity']!r}"
    for control in re.findall(r"`([^`]+)`", row["control"]):
        module, _, function = control.partition(":")
        obj = importlib.import_module(module)
        for part in function.split("."):
            assert hasattr(obj, part), f"{row['id']}: control {control} does not exist"
            obj = getattr(obj, part)
    tests = re.findall(r"`([^`]+)`", row["tests"]) or [
        t.strip() for t in row["tests"].split(",") if t.strip()
    ]
    assert tests, f"{row['id']}: names no test"
    for test in tests:
        path, _, name = test.partition("::")
        file = ROOT / path
        assert file.is_file(), f"{row['id']}: test file {path} does not exist"
        assert name in _test_names(file), f"{row['id']}: {path} has no test named {name}"


def test_the_log_is_assembled_from_the_current_fragments() -> None:
    spec = importlib.util.spec_from_file_location("hazard_assemble", ROOT / "docs" / "safety" / "assemble.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text, _ = module.assemble()
    assert LOG.read_text(encoding="utf-8") == text, (
        "run `python docs/safety/assemble.py` after editing a fragment"
    )
