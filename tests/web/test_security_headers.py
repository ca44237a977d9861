"""Headers on every response: no caching of anything that may carry patient data, a Content-Security-Policy
with no inline script, a Permissions-Policy; a refusal logged in one line."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from ketaclinic.core.access import Role

SRC = Path(__file__).parents[2] / "src" / "ketaclinic"


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/patients/", "/api/patients", "/sessions/board/?location=downtown"]
)
def test_pages_and_the_api_are_never_cached_and_carry_the_policies(path, staff, client_for):
    r = client_for(staff[Role.NURSE]).get(path)
    assert r.status_code == 200
    assert r["Cache-Control"] == "no-store, private"
    csp = r["Content-Security-Policy"]
    script = re.search(r"script-src ([^;]*)", csp)[1]
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "'self'" in script
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "camera=()" in r["Permissions-Policy"]


def test_the_sign_in_page_and_a_patients_link_page_are_not_cached(client, db):
    assert client.get("/accounts/login/")["Cache-Control"] == "no-store, private"
    assert client.get("/q/not-a-real-token/")["Cache-Control"] == "no-store, private"


def test_no_template_has_an_inline_script_or_handler():
    """The policy forbids inline scripts: every script is a static file, every handler is in one."""
    for template in SRC.rglob("templates/**/*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+=\"", text), template


def test_a_refusal_is_logged_in_one_line(staff, client_for, caplog):
    from ketaclinic.web.security_headers import RefusalsOneLine

    with caplog.at_level(logging.WARNING, logger="django.request"):
        r = client_for(staff[Role.BILLING]).get("/sessions/board/?location=downtown")
    assert r.status_code == 403
    (record,) = [rec for rec in caplog.records if rec.name == "django.request"]
    RefusalsOneLine().filter(record)
    assert record.exc_info is None and "\n" not in record.getMessage()
