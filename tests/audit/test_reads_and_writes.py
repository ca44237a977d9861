"""Every read and every write of a patient's record leaves its audit entry: one per request per patient
for reads, one per action (in the action's own transaction) for writes; refusals are audited as denied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from ketaclinic.accounts.services import break_glass_review, staff_create
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import DomainError
from ketaclinic.patients.access import break_glass_open
from ketaclinic.patients.models import Allergy, BodyMeasurement, Patient
from ketaclinic.patients.services import (
    allergy_record,
    measurement_record,
    medication_record,
    medication_stop,
    patient_update,
)
from ketaclinic.screening.models import Referral
from ketaclinic.screening.services import screening_sign
from tests.accounts.conftest import refer, screen
from tests.conftest import PASSWORD, register

pytestmark = pytest.mark.django_db

A = AuditEntry.Action


def views(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=A.VIEW, **filters).order_by("seq"))


def last_seq() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


# --- reads --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.NURSE, Role.BILLING], ids=str)
def test_a_chart_page_leaves_exactly_one_view_entry_per_request(role, clinic, client_for, settings):
    settings.KETACLINIC_AUDIT_READ_REPEAT_MINUTES = (
        0  # every request its own entry (repeats: test_shards_and_checkpoints)
    )
    client = client_for(clinic.staff[role])
    for request_number in (1, 2):
        before = last_seq()
        assert client.get(f"/patients/{clinic.patient.external_id}/").status_code == 200
        (entry,) = AuditEntry.objects.filter(seq__gt=before)
        assert entry.action == A.VIEW
        assert entry.patient_external_id == clinic.patient.external_id
        assert entry.actor == clinic.staff[role]
        assert entry.path == f"/patients/{clinic.patient.external_id}/"
        assert len(views(patient_external_id=clinic.patient.external_id)) == request_number
    read = entry.detail["read"]
    if role is Role.BILLING:
        assert read == ["chart (demographics)"]
    else:  # the chart, its referrals, screenings, treatment plans and consent: five reads, one entry
        assert read == [
            "chart (demographics, allergies, medications)",
            "referrals",
            "screenings",
            "treatment plans",
            "consent",
        ]


def test_a_screening_page_and_the_api_reads_are_audited_once_each(clinic, client_for):
    client = client_for(clinic.staff[Role.NURSE])
    pid = clinic.patient.external_id
    for url in (
        f"/screening/{clinic.screening_for_page.external_id}/",
        f"/api/patients/{pid}",
        f"/api/screening/patients/{pid}/referrals",
        f"/api/screening/patients/{pid}/screenings",
        f"/api/screening/screenings/{clinic.screening_for_api.external_id}",
    ):
        before = last_seq()
        assert client.get(url).status_code == 200, url
        (entry,) = AuditEntry.objects.filter(seq__gt=before)
        assert (entry.action, entry.patient_external_id, entry.path) == (A.VIEW, pid, url)


def test_a_list_or_search_leaves_one_entry_listing_the_patients(clinic, client_for):
    second = register(
        clinic.staff[Role.INTAKE],
        clinic.patient.location,
        given_name="Omar",
        family_name="Haddad",
        birth_date=date(1970, 1, 2),
    )
    client = client_for(clinic.staff[Role.NURSE])
    for url, expected in (
        ("/patients/", {clinic.patient, second}),
        ("/patients/?q=Haddad", {second}),
        ("/api/patients", {clinic.patient, second}),
        ("/api/patients?q=Garcia", {clinic.patient}),
    ):
        before = last_seq()
        assert client.get(url).status_code == 200
        (entry,) = AuditEntry.objects.filter(seq__gt=before)
        assert entry.action == A.VIEW
        assert entry.patient_external_id is None
        assert set(entry.detail["patients"]) == {str(p.external_id) for p in expected}
        assert entry.summary.startswith(f"Listed {len(expected)} patients")


def test_a_search_that_shows_nobody_leaves_no_read_entry(clinic, client_for):
    client = client_for(clinic.staff[Role.NURSE])
    before = last_seq()
    assert client.get("/patients/?q=Nobody").status_code == 200
    assert not views(seq__gt=before)


def test_the_dashboard_lists_patients_and_that_read_is_audited(clinic, client_for):
    client = client_for(clinic.staff[Role.PRESCRIBER])
    before = last_seq()
    page = client.get("/dashboard/")
    assert clinic.patient.family_name.encode() in page.content  # "Screenings awaiting your signature"
    (entry,) = views(seq__gt=before)
    assert entry.detail["patients"] == [str(clinic.patient.external_id)]


def test_a_refused_form_still_audits_the_record_it_showed(clinic, client_for):
    client = client_for(clinic.staff[Role.INTAKE])
    before = last_seq()
    response = client.post(f"/patients/{clinic.patient.external_id}/edit/", {"given_name": ""})
    assert response.status_code == 400
    assert clinic.patient.family_name.encode() in response.content
    assert [e.patient_external_id for e in views(seq__gt=before)] == [clinic.patient.external_id]


# --- writes -------------------------------------------------------------------------------------------


def _writes(c):
    """(name, action, call) for every write service; each call returns the patient it wrote about."""
    s = c.staff
    p = c.patient

    def stop_medication():
        med = medication_record(user=s[Role.NURSE], patient=p, name="lorazepam", dose="1 mg")
        medication_stop(user=s[Role.NURSE], medication=med, reason="Stopped before the first infusion")
        return p

    def review():
        access = break_glass_open(
            user=s[Role.NURSE], patient=c.other_patient, reason="Patient in crisis here today"
        )
        break_glass_review(user=s[Role.ADMIN], access=access, outcome="appropriate")
        return c.other_patient

    return {
        "patient_register": (A.CREATE, lambda: register(s[Role.INTAKE], p.location, family_name="Haddad")),
        "patient_update": (
            A.UPDATE,
            lambda: patient_update(user=s[Role.INTAKE], patient=p, phone="617-555-0100"),
        ),
        "measurement_record": (
            A.CREATE,
            lambda: (
                measurement_record(
                    user=s[Role.NURSE], patient=p, kind="weight", value=Decimal("150"), unit="lb"
                ).patient
            ),
        ),
        "allergy_record": (
            A.CREATE,
            lambda: allergy_record(user=s[Role.NURSE], patient=p, substance="Latex").patient,
        ),
        "medication_record": (
            A.CREATE,
            lambda: medication_record(user=s[Role.NURSE], patient=p, name="lamotrigine").patient,
        ),
        "medication_stop": (A.UPDATE, stop_medication),
        "referral_record": (A.CREATE, lambda: refer(s[Role.INTAKE], p).patient),
        "screening_record": (A.CREATE, lambda: screen(s[Role.NURSE], p).patient),
        "screening_sign": (
            A.SIGN,
            lambda: (
                screening_sign(
                    user=s[Role.PRESCRIBER],
                    screening=c.screening_for_api,
                    outcome="not_eligible",
                    note="Judgement",
                ).patient
            ),
        ),
        "break_glass_open": (
            A.BREAK_GLASS,
            lambda: (
                break_glass_open(
                    user=s[Role.PRESCRIBER],
                    patient=c.other_patient,
                    reason="Patient transferred to us tonight",
                ).patient
            ),
        ),
        "break_glass_review": (A.REVIEW, review),
    }


WRITES = [
    "patient_register",
    "patient_update",
    "measurement_record",
    "allergy_record",
    "medication_record",
    "medication_stop",
    "referral_record",
    "screening_record",
    "screening_sign",
    "break_glass_open",
    "break_glass_review",
]


@pytest.mark.parametrize("name", WRITES)
def test_every_write_service_leaves_its_entry(name, clinic):
    action, call = _writes(clinic)[name]
    before = last_seq()
    patient = call()
    entry = AuditEntry.objects.filter(seq__gt=before).order_by("seq").last()
    assert entry.action == action
    assert entry.patient_external_id == patient.external_id
    assert entry.actor is not None


@pytest.mark.parametrize("name", WRITES)
def test_a_write_and_its_entry_commit_or_roll_back_together(name, clinic):
    action, call = _writes(clinic)[name]
    before = last_seq()
    seen_inside: list[bool] = []

    def write_then_fail() -> None:
        with transaction.atomic():
            call()
            seen_inside.append(AuditEntry.objects.filter(seq__gt=before, action=action).exists())
            raise RuntimeError("the surrounding transaction fails after the write")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert seen_inside == [True]
    assert last_seq() == before


def test_an_audit_failure_undoes_the_write(clinic, monkeypatch):
    import ketaclinic.patients.services as patient_services

    def broken(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(patient_services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        allergy_record(user=clinic.staff[Role.NURSE], patient=clinic.patient, substance="Latex")
    with pytest.raises(RuntimeError):
        register(clinic.staff[Role.INTAKE], clinic.patient.location, family_name="Haddad")
    assert not Allergy.objects.exists()
    assert not Patient.objects.filter(family_name="Haddad").exists()


def test_a_refused_registration_leaves_no_entry_and_no_half_saved_rows(clinic, client_for):
    client = client_for(clinic.staff[Role.INTAKE])
    patients, measurements, before = Patient.objects.count(), BodyMeasurement.objects.count(), last_seq()
    response = client.post(
        "/api/patients",
        {
            "given_name": "Lena",
            "family_name": "Okafor",
            "birth_date": "1990-02-03",
            "sex_at_birth": "female",
            "location": "downtown",
            "weight": {"value": "61", "unit": "kg"},
            "height": {"value": "900", "unit": "cm"},
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "height"
    with pytest.raises(DomainError):
        register(clinic.staff[Role.INTAKE], clinic.patient.location, family_name="Okafor", weight=("0", "kg"))
    assert (Patient.objects.count(), BodyMeasurement.objects.count()) == (patients, measurements)
    assert not AuditEntry.objects.filter(seq__gt=before, action=A.CREATE).exists()


@pytest.mark.parametrize("role", [Role.BILLING, Role.NURSE], ids=str)
def test_a_refused_write_leaves_a_denial_and_no_create_entry(role, clinic, client_for):
    client = client_for(clinic.staff[role])
    before, referrals = last_seq(), Referral.objects.count()
    response = client.post(
        f"/api/screening/patients/{clinic.patient.external_id}/referrals",
        {
            "indication": "trd",
            "referrer_name": "Dr. A",
            "referrer_role": "psychiatrist",
            "reason": "TRD",
            "received_on": "2026-11-02",
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Referral.objects.count() == referrals  # the clinic's own
    assert [e.action for e in AuditEntry.objects.filter(seq__gt=before)] == [A.DENIED]
    with pytest.raises(PermissionDenied):
        refer(clinic.staff[role], clinic.patient)
    assert not AuditEntry.objects.filter(seq__gt=before, action=A.CREATE).exists()


def test_staff_creation_is_audited_with_who_created_the_account(clinic):
    admin = clinic.staff[Role.ADMIN]
    staff_create(
        user=admin,
        username="new.billing",
        password=PASSWORD,
        role="billing",
        locations=list(admin.locations.all()),
    )
    entry = AuditEntry.objects.order_by("seq").last()
    assert (entry.action, entry.actor) == (A.CREATE, admin)
    assert "new.billing" in entry.summary
