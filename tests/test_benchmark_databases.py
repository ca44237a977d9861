"""The benchmarks empty, truncate and drop their database, so each runs only in its own
(``ketaclinic_bench_<name>``) and refuses, before connecting to anything, a BENCH_DATABASE_URL or
DATABASE_URL naming any other database."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# Port 1 answers nobody: a benchmark that tried to connect would fail with a connection error instead.
CLINIC = "postgres://postgres:secret@127.0.0.1:1/clinic"


def bench_db() -> Any:
    spec = importlib.util.spec_from_file_location("bench_db", BENCHMARKS / "bench_db.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("script", "database"),
    [("outcomes.py", "outcomes"), ("audit_load.py", "audit_load"), ("pages.py", "pages")],
)
@pytest.mark.parametrize("variable", ["DATABASE_URL", "BENCH_DATABASE_URL"])
def test_a_benchmark_pointed_at_another_database_refuses_before_connecting(script, database, variable):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BENCH_DATABASE_URL")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / script)],
        env={**env, variable: CLINIC},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    assert f"{variable} names the database 'postgres://postgres@127.0.0.1:1/clinic'" in run.stderr
    assert f"runs only on 'ketaclinic_bench_{database}'" in run.stderr
    assert "secret" not in run.stderr  # the password is never shown
    assert "connection" not in run.stderr.lower()


def test_the_server_may_be_chosen_but_not_the_database():
    module = bench_db()
    url = "postgres://bench@db.example.org:6543/ketaclinic_bench_outcomes"
    assert module.bench_url("outcomes", {"DATABASE_URL": url}) == url
    assert module.bench_url("outcomes", {}) == "postgres://postgres@127.0.0.1:5432/ketaclinic_bench_outcomes"
    with pytest.raises(module.NotTheBenchmarkDatabase):
        module.bench_url("outcomes", {"DATABASE_URL": url, "BENCH_DATABASE_URL": CLINIC})
    with pytest.raises(module.NotTheBenchmarkDatabase):  # another benchmark's database is not this one's
        module.bench_url("audit_load", {"DATABASE_URL": url})
    with pytest.raises(module.NotTheBenchmarkDatabase):
        module.bench_url("outcomes", {"DATABASE_URL": "sqlite:///ketaclinic_bench_outcomes"})


def test_a_prefix_gives_each_person_their_own_benchmark_databases_and_nothing_else():
    module = bench_db()
    mine = {"BENCH_DATABASE_PREFIX": "kc_mine_bench_"}
    assert module.bench_url("pages", mine) == "postgres://postgres@127.0.0.1:5432/kc_mine_bench_pages"
    with pytest.raises(module.NotTheBenchmarkDatabase):  # the default database is not this prefix's
        module.bench_url("pages", {**mine, "DATABASE_URL": "postgres://h/ketaclinic_bench_pages"})
    for prefix in ("clinic_", "kc_mine_", "KC_bench_"):  # a prefix must say it names benchmark databases
        with pytest.raises(module.NotTheBenchmarkDatabase):
            module.database_name("pages", {"BENCH_DATABASE_PREFIX": prefix})
