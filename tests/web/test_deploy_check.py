"""`check --deploy` under the production settings reports only what the README explains (HSTS preload, a
decision for the clinic's whole domain), and the production settings refuse to start without their secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "DJANGO_SETTINGS_MODULE": "ketaclinic.web.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "x9-Q" * 12,
    "KETACLINIC_AUDIT_KEY": "audit-key-for-the-check",
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    "KETACLINIC_REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
}


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KETACLINIC_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_only_what_the_readme_explains() -> None:
    result = check(ENV)
    out = result.stdout + result.stderr
    warnings = sorted(
        {line.split(")")[0].split("(")[-1] for line in out.splitlines() if line.startswith("?: (")}
    )
    assert warnings == ["security.W021"], out
    assert "security.W021" in (ROOT / "README.md").read_text()


def test_production_refuses_to_start_without_each_secret() -> None:
    for name in ("DJANGO_SECRET_KEY", "KETACLINIC_AUDIT_KEY", "DATABASE_URL", "KETACLINIC_REDIS_URL"):
        result = check({k: v for k, v in ENV.items() if k != name})
        assert result.returncode != 0 and f"{name} must be set in production" in result.stderr, name
