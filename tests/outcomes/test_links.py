"""The patient's single-use link: works once, expires, reveals nothing but the form, refusals audited."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.tokens import token_sha256
from ketaclinic.core.access import Role
from ketaclinic.outcomes import services
from ketaclinic.outcomes.models import PatientLink, QuestionnaireResponse, SafetyFlag
from tests.outcomes.conftest import phq9

pytestmark = pytest.mark.django_db


def post_answers(client, url, link, answers):
    data = {f"phq9_{i}": a for i, a in enumerate(answers, start=1) if a is not None}
    data["link"] = str(link.external_id)
    return client.post(url, data)


@pytest.fixture
def link(staff, patient):
    return services.link_create(user=staff[Role.NURSE], patient=patient, instrument="phq9")


def test_only_a_hash_of_the_random_token_is_stored(link):
    obj, token = link
    assert len(token) >= 43
    assert obj.token_sha256 == token_sha256(token) and token not in obj.token_sha256
    assert not PatientLink.objects.filter(token_sha256=token).exists()


def test_the_form_reveals_the_first_name_only_and_works_without_an_account(link, patient):
    obj, token = link
    page = Client().get(f"/q/{token}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Hello Maria" in body and "Little interest or pleasure" in body
    for secret in (patient.family_name, patient.mrn, "1985", patient.location.name):
        assert secret not in body
    assert "988" in body


def test_a_patient_answers_once_and_sees_the_crisis_line(link, patient, downtown):
    downtown.phone = "(555) 010-0199"
    downtown.save()
    obj, token = link
    client = Client()
    done = post_answers(client, f"/q/{token}/", obj, phq9(15, item9=1))
    body = done.content.decode()
    assert done.status_code == 200 and "988" in body and "(555) 010-0199" in body
    r = QuestionnaireResponse.objects.get()
    assert (r.source, r.link, r.total, r.patient) == ("patient_link", obj, 15.0, patient)
    assert SafetyFlag.objects.filter(response=r, status="open").exists()  # escalation from the phone too
    again = post_answers(client, f"/q/{token}/", obj, phq9(3))
    assert again.status_code == 403 and services.LINK_USED in again.content.decode()
    assert client.get(f"/q/{token}/").status_code == 403
    assert QuestionnaireResponse.objects.count() == 1
    assert AuditEntry.objects.filter(action="denied", summary__contains="link").count() >= 2


def test_expired_unknown_and_wrong_links_are_refused_nothing_saved_and_audited(link, staff, patient):
    obj, token = link
    client = Client()
    unknown = client.get("/q/not-a-real-token-at-all/")
    assert unknown.status_code == 403 and services.LINK_UNKNOWN in unknown.content.decode()
    other, other_token = services.link_create(user=staff[Role.NURSE], patient=patient, instrument="phq9")
    wrong = post_answers(client, f"/q/{token}/", other, phq9(5))  # a form of another link posted here
    assert wrong.status_code == 403 and services.LINK_OTHER_PATIENT in wrong.content.decode()
    PatientLink.objects.filter(pk=obj.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = post_answers(client, f"/q/{token}/", obj, phq9(5))
    assert expired.status_code == 403 and "expired" in expired.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    denied = AuditEntry.objects.filter(action="denied", summary__startswith="Questionnaire link").count()
    assert denied >= 3
    obj.refresh_from_db()
    assert obj.used_at is None


def test_invalid_answers_through_the_link_save_nothing_and_leave_it_usable(link):
    obj, token = link
    client = Client()
    bad = post_answers(client, f"/q/{token}/", obj, [None, None, None, 1, 1, 1, 1, 1, 0])
    assert bad.status_code == 400 and "3 items unanswered (questions 1, 2 and 3)" in bad.content.decode()
    assert "phq9_" not in bad.content.decode().split("<form")[0]  # the patient sees numbers, not keys
    assert not QuestionnaireResponse.objects.exists()
    obj.refresh_from_db()
    assert obj.used_at is None
    assert post_answers(client, f"/q/{token}/", obj, phq9(4)).status_code == 200


def test_link_service_refusals(staff, patient):
    from ketaclinic.core.errors import ValidationError

    with pytest.raises(ValidationError, match="between 1 and 168 hours"):
        services.link_create(user=staff[Role.NURSE], patient=patient, instrument="phq9", hours=500)
    with pytest.raises(ValidationError, match="licensed"):
        services.link_create(user=staff[Role.NURSE], patient=patient, instrument="cssrs_screener")
    with pytest.raises(ValidationError, match="already used|not valid"):
        services.link_submit(token="nope", answers=phq9(3))


def test_staff_page_creates_a_link_shown_once(staff, patient, client_for):
    """The link is in the answer to the form itself, in the location's time, and nowhere else: not in the
    session (another request could lose or read it), not on the next page, not in a cache."""
    client = client_for(staff[Role.INTAKE])
    r = client.post(
        f"/outcomes/patient/{patient.external_id}/link/",
        {"instrument": "gad7", "hours": "24", "how": "show"},
    )
    body = r.content.decode()
    token = re.search(r'<code class="newlink">http://testserver/q/([\w-]{43})/</code>', body).group(1)
    link = PatientLink.objects.get(instrument="gad7")
    assert r.status_code == 200 and link.token_sha256 == token_sha256(token)
    assert "no-store" in r["Cache-Control"]
    expires = timezone.localtime(link.expires_at, ZoneInfo(patient.location.timezone))
    assert f"until {expires:%b} {expires.day}, {expires:%H:%M} {expires.tzname()}" in body
    assert token not in str(dict(client.session.items()))
    again = client.get(f"/outcomes/patient/{patient.external_id}/").content.decode()
    assert "Link created" not in again and token not in again


def _everything_audited() -> str:
    return " ".join(f"{e.path} {e.summary} {e.detail}" for e in AuditEntry.objects.all().order_by("seq"))


def test_no_audit_entry_or_log_line_keeps_a_live_link_token(link, caplog):
    """A refused submission leaves the link usable, so its token must not be readable in the sealed trail
    (the admin's audit page, replicas, backups) or the logs: whoever read it could answer as the patient."""
    obj, token = link
    client = Client()
    assert client.get(f"/q/{token}/").status_code == 200
    refused = post_answers(client, f"/q/{token}/", obj, [None] * 9)  # nothing answered: refused, still open
    assert refused.status_code in (200, 400)
    assert Client().get(f"/q/{token}x/").status_code == 403  # a wrong token: refused and audited
    PatientLink.objects.filter(pk=obj.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(f"/q/{token}/").status_code == 403  # expired: Django logs "Forbidden: <path>"
    trail = _everything_audited()
    assert "/q/[link]/" in trail
    assert token not in trail
    assert token not in caplog.text and "/q/[link]/" in caplog.text


@pytest.mark.parametrize(
    "path",
    ["/q/{t}/", "/statement/{t}/", "/prep/{t}/", "/cal/{t}/appointments.ics", "/consent/sign/{t}/"],
)
def test_every_address_that_carries_a_token_is_masked_for_the_records(path):
    from ketaclinic.base.tokens import path_for_records, text_for_records, token_new

    token = token_new()
    masked = path.format(t="[link]")
    assert path_for_records(path.format(t=token)) == masked
    assert text_for_records(f"Forbidden: {path.format(t=token)}") == f"Forbidden: {masked}"


def test_every_url_with_a_token_is_one_the_records_mask():
    from django.urls import get_resolver

    from ketaclinic.base.tokens import path_for_records

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    with_token = [r for r in walk(get_resolver().url_patterns) if "<str:token>" in r]
    assert len(with_token) >= 5
    for route in with_token:
        path = "/" + route.replace("<str:token>", "A" * 43)
        assert "A" * 43 not in path_for_records(path), route


def test_the_server_access_log_masks_a_link_token():
    from types import SimpleNamespace

    from ketaclinic.web.logs import JsonServerLogger

    records: list[dict[str, object]] = []
    server_log = JsonServerLogger.__new__(JsonServerLogger)
    server_log.cfg = SimpleNamespace(accesslog="-", logconfig=None, logconfig_dict=None)
    server_log.access_log = SimpleNamespace(  # type: ignore[assignment]
        log=lambda level, msg, extra: records.append(extra)
    )
    response = SimpleNamespace(headers=[("X-Request-ID", "r1")], status_code=200, sent=10)
    token = "B" * 43
    server_log.access(
        response,
        None,
        {"REQUEST_METHOD": "GET", "PATH_INFO": f"/cal/{token}/appointments.ics"},
        timedelta(milliseconds=3),
    )
    assert records[0]["path"] == "/cal/[link]/appointments.ics"


@pytest.mark.parametrize("logger", ["django.server", "django.request"])
def test_djangos_own_request_lines_mask_a_link_token(logger, caplog):
    """The development server's request lines and Django's "Bad Request: <path>" print through Django's own
    handlers as well as ours: the token is masked at the logger, before any handler."""
    import logging

    from ketaclinic.base.tokens import token_new

    token = token_new()
    with caplog.at_level(logging.INFO, logger=logger):
        logging.getLogger(logger).info('"%s" %s %s', f"GET /q/{token}/ HTTP/1.1", 200, 5083)
        logging.getLogger(logger).warning(
            "%s: %s", "Bad Request", f"/consent/sign/{token}/"
        )  # as Django logs
    assert token not in caplog.text
    assert '"GET /q/[link]/ HTTP/1.1" 200 5083' in caplog.text
