"""Sign-in security: argon2, lockout after 5 failures (django-axes), TOTP for prescribers and admins
(django-otp), and automatic logoff after inactivity."""

from __future__ import annotations

import importlib
import importlib.util
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.middleware import (
    IDLE_SIGNED_OUT,
    LAST_SEEN,
    LAST_SEEN_EVERY_SECONDS,
    SECOND_FACTOR_REQUIRED,
    InactivityLogoutMiddleware,
)
from ketaclinic.accounts.services import staff_create
from ketaclinic.accounts.views import INVALID_CODE
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import SECOND_FACTOR_REQUIRED as ROLES_NEEDING_TOTP
from ketaclinic.core.access import Role
from tests.clock import real_now
from tests.conftest import PASSWORD, current_totp

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/2fa/verify/"
SETUP = "/accounts/2fa/setup/"


def password_only(user) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def entries(action: str, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("seq"))


# --- passwords ----------------------------------------------------------------------------------------


def test_argon2_is_the_first_password_hasher_in_the_base_settings():
    base = importlib.import_module("ketaclinic.web.settings.base")
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_production_settings_do_not_replace_the_hashers():
    for name in ("production", "local"):
        source = Path(importlib.util.find_spec("ketaclinic.web.settings.base").origin).parent / f"{name}.py"
        assert "PASSWORD_HASHERS" not in source.read_text(), name


def test_the_argon2_hasher_works_in_this_environment():
    hasher = Argon2PasswordHasher()  # the test settings use MD5 for speed, so call it directly
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify("wrong password!", encoded)


# --- lockout (django-axes) -----------------------------------------------------------------------------


def test_five_failures_lock_the_account_and_then_even_the_right_password_is_refused(staff):
    nurse = staff[Role.NURSE]
    client = Client()  # Django's test client sends REMOTE_ADDR 127.0.0.1, which axes needs
    for attempt in range(1, 5):
        response = client.post(LOGIN, {"username": nurse.username, "password": f"wrong {attempt}"})
        assert response.status_code == 200, attempt
        assert response.context["form"].errors, attempt
    fifth = client.post(LOGIN, {"username": nurse.username, "password": "wrong 5"})
    assert fifth.status_code == 429
    response = client.post(LOGIN, {"username": nurse.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Account locked" in response.content
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert not client.session.get("_auth_user_id")
    assert client.get("/dashboard/").status_code == 302
    assert len(entries(AuditEntry.Action.LOGIN_FAILED)) == 6  # the refused right password too
    assert not entries(AuditEntry.Action.LOGIN, actor=nurse)


def test_four_failures_do_not_lock_and_a_success_resets_the_count(staff):
    nurse = staff[Role.NURSE]
    client = Client()
    for attempt in range(4):
        client.post(LOGIN, {"username": nurse.username, "password": f"wrong {attempt}"})
    assert client.post(LOGIN, {"username": nurse.username, "password": PASSWORD}).status_code == 302
    other = Client()
    for attempt in range(4):
        assert (
            other.post(LOGIN, {"username": nurse.username, "password": f"wrong {attempt}"}).status_code == 200
        )
    assert Client().post(LOGIN, {"username": nurse.username, "password": PASSWORD}).status_code == 302


def test_the_lockout_lasts_30_minutes(staff):
    nurse = staff[Role.NURSE]
    client = Client()
    for attempt in range(5):
        client.post(LOGIN, {"username": nurse.username, "password": f"wrong {attempt}"})
    # django-axes reads the machine's clock (not the test clock): the attempts are backdated from it
    AccessAttempt.objects.update(attempt_time=real_now() - timedelta(minutes=29))
    assert client.post(LOGIN, {"username": nurse.username, "password": PASSWORD}).status_code == 429
    AccessAttempt.objects.update(attempt_time=real_now() - timedelta(minutes=31))
    assert client.post(LOGIN, {"username": nurse.username, "password": PASSWORD}).status_code == 302


def test_a_lockout_of_one_account_does_not_lock_another(staff):
    client = Client()
    for attempt in range(5):
        client.post(LOGIN, {"username": staff[Role.NURSE].username, "password": f"wrong {attempt}"})
    assert (
        client.post(LOGIN, {"username": staff[Role.INTAKE].username, "password": PASSWORD}).status_code == 302
    )


# --- second factor (django-otp TOTP) --------------------------------------------------------------------

NEEDS_TOTP = pytest.mark.parametrize("role", sorted(ROLES_NEEDING_TOTP), ids=str)
PAGES = [
    "/",
    "/dashboard/",
    "/patients/",
    "/patients/new/",
    "/protocols/",
    "/audit/",
    "/accounts/break-glass/reviews/",
]


def test_prescribers_and_admins_are_the_roles_needing_a_second_factor():
    assert {Role.PRESCRIBER, Role.ADMIN} == ROLES_NEEDING_TOTP


@NEEDS_TOTP
def test_password_only_is_sent_to_the_code_page_from_every_page(role, staff, patient):
    client = password_only(staff[role])
    for url in [*PAGES, f"/patients/{patient.external_id}/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(VERIFY + "?next="), url
    assert client.get(VERIFY).status_code == 200


@NEEDS_TOTP
def test_password_only_gets_403_json_from_the_api_and_the_refusal_is_audited(role, staff, patient):
    user = staff[role]
    client = password_only(user)
    for url in ("/api/patients", f"/api/patients/{patient.external_id}", "/api/protocols"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"] == {
            "code": "second_factor_required",
            "message": SECOND_FACTOR_REQUIRED,
            "field": None,
            "value": None,
        }
    assert len(entries(AuditEntry.Action.DENIED, actor=user)) == 3


@NEEDS_TOTP
def test_a_wrong_code_is_refused_and_audited(role, staff):
    user = staff[role]
    client = password_only(user)
    wrong = f"{(int(current_totp()) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"token": wrong})
    assert response.status_code == 400
    assert INVALID_CODE.encode() in response.content
    assert client.get("/dashboard/").status_code == 302
    (failed,) = entries(AuditEntry.Action.LOGIN_FAILED, actor=user)
    assert failed.path == VERIFY


@NEEDS_TOTP
def test_the_right_code_opens_the_app_and_returns_to_the_page_asked_for(role, staff):
    user = staff[role]
    client = password_only(user)
    response = client.post(VERIFY, {"token": current_totp(), "next": "/protocols/"})
    assert response.status_code == 302
    assert response["Location"] == "/protocols/"
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/patients").status_code == 200


def test_a_code_page_next_to_another_site_is_not_followed(staff):
    client = password_only(staff[Role.PRESCRIBER])
    response = client.post(VERIFY, {"token": current_totp(), "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


@NEEDS_TOTP
def test_enrolment_for_a_user_without_a_device_confirms_with_a_valid_code(role, downtown):
    user = staff_create(
        username=f"new.{role.value}",
        password=PASSWORD,
        role=role.value,
        locations=[downtown],
        prescriber_kind="anesthesiologist" if role is Role.PRESCRIBER else "",
    )
    client = password_only(user)
    to_verify = client.get("/dashboard/")
    assert to_verify["Location"].startswith(VERIFY)
    to_setup = client.get(to_verify["Location"])
    assert to_setup.status_code == 302
    assert to_setup["Location"].startswith(SETUP)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(SETUP, {"token": f"{(totp(device.bin_key) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400
    assert INVALID_CODE.encode() in wrong.content
    # The wrong attempt started django-otp's throttle (1 s); clear it as a second later would.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    response = client.post(SETUP, {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/dashboard/").status_code == 200
    assert entries(AuditEntry.Action.SYSTEM, actor=user)[-1].summary == "Enrolled an authenticator app (TOTP)"
    assert len(entries(AuditEntry.Action.LOGIN_FAILED, actor=user)) == 1


def test_a_user_with_a_confirmed_device_cannot_enrol_another_with_a_password_only(staff):
    user = staff[Role.ADMIN]
    client = password_only(user)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("role", [r for r in Role if r not in ROLES_NEEDING_TOTP], ids=str)
def test_nurses_intake_and_billing_need_no_second_factor(role, staff):
    client = password_only(staff[role])
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/patients").status_code == 200


# --- automatic logoff ---------------------------------------------------------------------------------


@pytest.fixture
def idle_after_60s(settings):
    settings.KETACLINIC_IDLE_LOGOUT_SECONDS = 60


def go_idle(client: Client, seconds: float) -> None:
    session = client.session
    session[LAST_SEEN] = time.time() - seconds
    session.save()


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_an_idle_session_is_signed_out_on_the_next_page_and_audited(role, staff, client_for, idle_after_60s):
    user = staff[role]
    client = client_for(user)
    assert client.get("/dashboard/").status_code == 200
    go_idle(client, 61)
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?timeout=1&next=%2Fpatients%2F"
    login_page = client.get(response["Location"])
    assert b"signed out after a period of inactivity" in login_page.content
    assert client.get("/dashboard/")["Location"].startswith(LOGIN)
    (logout,) = entries(AuditEntry.Action.LOGOUT, actor=user)
    assert logout.summary == "Signed out after inactivity"
    assert logout.path == "/patients/"
    assert logout.ip_address == "127.0.0.1"


def test_an_idle_session_gets_401_from_the_api(staff, client_for, idle_after_60s):
    nurse = staff[Role.NURSE]
    client = client_for(nurse)
    assert client.get("/api/patients").status_code == 200
    go_idle(client, 120)
    response = client.get("/api/patients")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == IDLE_SIGNED_OUT
    assert client.get("/api/patients").status_code == 401
    assert len(entries(AuditEntry.Action.LOGOUT, actor=nurse)) == 1


def test_activity_within_the_limit_keeps_the_session(staff, client_for, idle_after_60s):
    client = client_for(staff[Role.NURSE])
    go_idle(client, 50)
    assert client.get("/dashboard/").status_code == 200
    assert client.session[LAST_SEEN] > time.time() - 5


def test_pages_opened_within_half_a_minute_do_not_rewrite_the_session(staff, client_for, idle_after_60s):
    """The idle clock moves at most every LAST_SEEN_EVERY_SECONDS: a page opened soon after the last move
    leaves the session as it is, and one opened later moves the clock."""
    client = client_for(staff[Role.NURSE])
    go_idle(client, LAST_SEEN_EVERY_SECONDS - 5)
    seen = client.session[LAST_SEEN]
    assert client.get("/patients/").status_code == 200
    assert client.session[LAST_SEEN] == seen
    go_idle(client, LAST_SEEN_EVERY_SECONDS + 1)
    assert client.get("/patients/").status_code == 200
    assert client.session[LAST_SEEN] > time.time() - 5


def test_a_request_running_beside_a_form_does_not_undo_what_the_form_kept(staff, client_for):
    """A picture the page asked for loads the session, the nurse's form stores a one-time link in it, and
    the picture's request then ends: the link must still be there for the page that shows it."""
    nurse = staff[Role.NURSE]
    client = client_for(nurse)
    assert client.get("/dashboard/").status_code == 200  # the page moves the idle clock
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    store = importlib.import_module(django_settings.SESSION_ENGINE).SessionStore

    picture = RequestFactory().get("/patients/")  # any request made beside the form
    picture.user = nurse
    picture.session = store(key)
    picture.session.get(LAST_SEEN)  # loaded now, before the form is posted

    kept = store(key)
    kept["kept_by_a_form"] = "https://clinic.example/q/one-time/"
    kept.save()

    sessions = SessionMiddleware(lambda request: HttpResponse())
    response = InactivityLogoutMiddleware(lambda request: HttpResponse())(picture)
    sessions.process_response(picture, response)  # saves the session only if this request changed it
    assert store(key).get("kept_by_a_form") == "https://clinic.example/q/one-time/"


def test_the_default_idle_limit_is_15_minutes():
    base = importlib.import_module("ketaclinic.web.settings.base")
    assert base.KETACLINIC_IDLE_LOGOUT_SECONDS == 15 * 60


def test_signing_out_is_audited_once(staff, client_for):
    nurse = staff[Role.NURSE]
    client = client_for(nurse)
    assert client.post("/accounts/logout/").status_code == 302
    (logout,) = entries(AuditEntry.Action.LOGOUT, actor=nurse)
    assert logout.summary == "Signed out"


def test_the_idle_clock_starts_at_sign_in(staff):
    client = password_only(staff[Role.NURSE])
    assert client.session[LAST_SEEN] > time.time() - 5


def test_the_sign_in_page_states_the_lockout_rule_from_the_settings(staff, settings):
    response = Client().post(LOGIN, {"username": staff[Role.NURSE].username, "password": "wrong"})
    assert b"After 5 failed attempts the account is locked for 30 minutes." in response.content
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME) == (5, 0.5)
