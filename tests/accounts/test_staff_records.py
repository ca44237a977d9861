"""Staff records: NPI, DEA registration and licences; the admin edits staff, resets a password (the user
chooses a new one at next sign-in) and a second factor (the user enrols again), every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import StaffLicence, User
from ketaclinic.accounts.services import (
    STAFF_LAST_ADMIN_ROLE,
    licence_add,
    licence_remove,
    staff_password_reset,
    staff_second_factor_reset,
    staff_update,
)
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _edit(admin, member, **changes):
    fields = dict(
        first_name=member.first_name,
        last_name=member.last_name,
        email=member.email,
        role=member.role,
        prescriber_kind=member.prescriber_kind,
        credentials=member.credentials,
        npi=member.npi,
        dea_number=member.dea_number,
        locations=list(member.locations.all()),
    )
    fields.update(changes)
    return staff_update(user=admin, staff_member=member, **fields)


def test_admin_records_npi_and_dea_and_the_audit_keeps_old_and_new(staff):
    admin, doctor = staff[Role.ADMIN], staff[Role.PRESCRIBER]
    _edit(admin, doctor, npi="1234567893", dea_number="bj 1234563", credentials="MD")
    doctor.refresh_from_db()
    assert (doctor.npi, doctor.dea_number, doctor.credentials) == ("1234567893", "BJ1234563", "MD")
    entry = AuditEntry.objects.filter(summary__startswith="Edited staff account prescriber.downtown").get()
    assert entry.actor == admin
    assert entry.detail["changes"]["dea_number"] == {"from": "", "to": "BJ1234563"}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("npi", "1234567890", "not a valid NPI"), ("dea_number", "BJ1234564", "check digit")],
)
def test_a_wrong_check_digit_is_refused_and_nothing_is_saved(staff, field, value, words):
    doctor = staff[Role.PRESCRIBER]
    with pytest.raises(ValidationError) as exc:
        _edit(staff[Role.ADMIN], doctor, credentials="DO", **{field: value})
    assert words in exc.value.message and exc.value.field == field
    doctor.refresh_from_db()
    assert (doctor.credentials, doctor.npi, doctor.dea_number) == ("", "", "")


def test_the_last_admin_keeps_the_admin_role(staff):
    admin = staff[Role.ADMIN]
    with pytest.raises(ValidationError, match=STAFF_LAST_ADMIN_ROLE):
        _edit(admin, admin, role="nurse")


def test_a_nurse_becoming_a_prescriber_needs_a_prescriber_kind(staff):
    with pytest.raises(ValidationError) as exc:
        _edit(staff[Role.ADMIN], staff[Role.NURSE], role="prescriber", prescriber_kind="")
    assert exc.value.field == "prescriber_kind"
    member = _edit(
        staff[Role.ADMIN], staff[Role.NURSE], role="prescriber", prescriber_kind="nurse_practitioner"
    )
    assert member.role_label == "Prescriber (Nurse practitioner)"


def test_licences_are_added_checked_removed_and_audited(staff):
    admin, nurse = staff[Role.ADMIN], staff[Role.NURSE]
    soon = timezone.localdate() + timedelta(days=30)
    licence = licence_add(
        user=admin, staff_member=nurse, kind="RN", state="ny", number="RN-778812", expires_on=soon
    )
    assert (licence.state, licence.number) == ("NY", "RN-778812")
    with pytest.raises(ValidationError) as exc:
        licence_add(
            user=admin, staff_member=nurse, kind="DEA", state="NY", number="BJ1234564", expires_on=soon
        )
    assert exc.value.field == "number"
    with pytest.raises(ValidationError) as exc:
        licence_add(user=admin, staff_member=nurse, kind="RN", state="New York", number="1", expires_on=soon)
    assert exc.value.field == "state"
    licence_remove(user=admin, licence=licence)
    assert StaffLicence.objects.get(pk=licence.pk).removed_at is not None
    with pytest.raises(ValidationError):
        licence_remove(user=admin, licence=licence)
    summaries = list(AuditEntry.objects.filter(actor=admin).values_list("summary", flat=True))
    assert any(s.startswith("Added licence RN NY to nurse.downtown") for s in summaries)
    assert any(s.startswith("Removed licence RN NY of nurse.downtown") for s in summaries)


def test_the_staff_list_shows_licences_expiring_within_60_days_and_expired_ones(staff, client_for):
    admin, nurse, doctor = staff[Role.ADMIN], staff[Role.NURSE], staff[Role.PRESCRIBER]
    today = timezone.localdate()
    licence_add(
        user=admin,
        staff_member=nurse,
        kind="RN",
        state="NY",
        number="RN-1",
        expires_on=today + timedelta(days=59),
    )
    licence_add(
        user=admin,
        staff_member=doctor,
        kind="MD",
        state="NY",
        number="MD-2",
        expires_on=today + timedelta(days=61),
    )
    licence_add(
        user=admin,
        staff_member=doctor,
        kind="DEA",
        state="NY",
        number="BJ1234563",
        expires_on=today - timedelta(days=3),
    )
    page = client_for(admin).get("/accounts/staff/").content.decode()
    alerts = page.split('data-testid="licence-alerts"')[1].split("</section>")[0]
    assert "RN-1" in alerts and "expires in 59 days" in alerts
    assert "BJ1234563" in alerts and "expired 3 days ago" in alerts
    assert "MD-2" not in alerts


def test_staff_list_queries_do_not_grow_with_staff(staff, client_for, django_assert_max_num_queries):
    from tests.conftest import make_staff

    admin = client_for(staff[Role.ADMIN])
    for i in range(6):
        member = make_staff(Role.NURSE, staff[Role.NURSE].locations.get(), username=f"n{i}")
        licence_add(
            user=staff[Role.ADMIN],
            staff_member=member,
            kind="RN",
            state="NY",
            number=f"R{i}",
            expires_on=timezone.localdate() + timedelta(days=10),
        )
    with django_assert_max_num_queries(20):
        assert admin.get("/accounts/staff/").status_code == 200


def test_password_reset_gives_a_temporary_password_that_must_be_changed_at_next_sign_in(staff, client_for):
    admin, nurse = staff[Role.ADMIN], staff[Role.NURSE]
    page = client_for(admin).post(f"/accounts/staff/{nurse.external_id}/", {"action": "password_reset"})
    assert page.status_code == 200
    temporary = page.content.decode().split('<strong class="mono">')[1].split("</strong>")[0]
    assert len(temporary) >= 16
    entry = AuditEntry.objects.filter(summary__startswith="Reset the password of nurse.downtown").get()
    assert temporary not in str(entry.detail) and temporary not in entry.summary
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": nurse.username, "password": PASSWORD}).status_code == 200
    )
    assert (
        client.post("/accounts/login/", {"username": nurse.username, "password": temporary}).status_code
        == 302
    )
    assert client.get("/patients/")["Location"] == "/accounts/password/"
    refused = client.post("/accounts/password/", {"current_password": temporary, "new_password": "short"})
    assert refused.status_code == 400
    done = client.post(
        "/accounts/password/", {"current_password": temporary, "new_password": "a-fresh-unusual-passphrase"}
    )
    assert done.status_code == 302
    assert client.get("/patients/").status_code == 200  # still signed in, no longer sent to change it
    nurse.refresh_from_db()
    assert nurse.must_change_password is False and nurse.check_password("a-fresh-unusual-passphrase")


def test_second_factor_reset_makes_the_user_enrol_again(staff):
    admin, doctor = staff[Role.ADMIN], staff[Role.PRESCRIBER]
    assert staff_second_factor_reset(user=admin, staff_member=doctor) == 1
    assert not TOTPDevice.objects.filter(user=doctor).exists()
    client = Client()
    client.post("/accounts/login/", {"username": doctor.username, "password": PASSWORD})
    response = client.get("/patients/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/2fa/setup/")
    assert AuditEntry.objects.filter(
        summary__startswith="Reset the second factor of prescriber.downtown"
    ).exists()


def test_admin_edits_a_member_through_the_page(staff, downtown, northside, client_for):
    admin, nurse = staff[Role.ADMIN], staff[Role.NURSE]
    admin.locations.add(northside)
    client = client_for(admin)
    assert "DEA registration" in client.get(f"/accounts/staff/{nurse.external_id}/").content.decode()
    response = client.post(
        f"/accounts/staff/{nurse.external_id}/",
        {
            "action": "save",
            "first_name": "Priya",
            "last_name": "Patel",
            "role": "nurse",
            "credentials": "RN, BSN",
            "npi": "",
            "dea_number": "",
            "locations": [downtown.pk, northside.pk],
        },
    )
    assert response.status_code == 302
    nurse = User.objects.get(pk=nurse.pk)
    assert (nurse.first_name, nurse.credentials) == ("Priya", "RN, BSN")
    assert set(nurse.locations.values_list("code", flat=True)) == {"downtown", "northside"}
    bad = client.post(
        f"/accounts/staff/{nurse.external_id}/",
        {
            "action": "save",
            "first_name": "P",
            "last_name": "P",
            "role": "nurse",
            "dea_number": "XX",
            "locations": [downtown.pk],
        },
    )
    assert bad.status_code == 400 and "Nothing was saved" in bad.content.decode()


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN], ids=str)
def test_only_the_admin_opens_or_changes_a_staff_record(role, staff, client_for):
    member = staff[Role.NURSE]
    client = client_for(staff[role])
    assert client.get(f"/accounts/staff/{member.external_id}/").status_code == 403
    assert (
        client.post(f"/accounts/staff/{member.external_id}/", {"action": "password_reset"}).status_code == 403
    )
    assert (
        client.post(f"/accounts/staff/{member.external_id}/", {"action": "second_factor_reset"}).status_code
        == 403
    )
    member.refresh_from_db()
    assert member.must_change_password is False


def test_services_refuse_other_roles(staff):
    for role in (Role.PRESCRIBER, Role.INTAKE):
        with pytest.raises(Exception, match="may not manage staff"):
            staff_password_reset(user=staff[role], staff_member=staff[Role.NURSE])
