"""Referral → screening (decision computed from the stored protocol version) → prescriber signature."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.eligibility import SIGN_CANNOT_OVERRIDE_EXCLUSION
from ketaclinic.core.errors import ValidationError
from ketaclinic.screening.models import Referral, Screening
from ketaclinic.screening.services import (
    ALREADY_SIGNED,
    DOCUMENT_TYPE_REFUSED,
    referral_record,
    screening_record,
    screening_sign,
)
from tests.conftest import register

pytestmark = pytest.mark.django_db

NO = {
    "ketamine_hypersensitivity": "no",
    "uncontrolled_hypertension": "no",
    "vascular_aneurysm": "no",
    "intracerebral_haemorrhage": "no",
    "raised_icp_iop": "no",
    "psychosis_history": "no",
    "pregnancy": "no",
    "hepatic_impairment": "no",
}
TRIALS = [
    {"kind": "antidepressant", "name": "sertraline", "dose": "150 mg", "weeks": 8},
    {"kind": "antidepressant", "name": "venlafaxine XR", "dose": "225 mg", "weeks": 10},
]


def refer(user, patient, role="psychiatrist", **kw):
    return referral_record(
        user=user,
        patient=patient,
        indication=kw.pop("indication", "trd"),
        referrer_name="Dr. Blake",
        referrer_role=role,
        reason="TRD after two trials",
        received_on=date.today(),
        **kw,
    )


def screen(user, patient, referral, **kw):
    args = dict(indication="trd", referral=referral, contraindications=dict(NO), trials=list(TRIALS))
    args.update(kw)
    return screening_record(user=user, patient=patient, **args)


def test_eligible_screening_records_the_protocol_version_and_its_trials(intake, patient, protocols):
    s = screen(intake, patient, refer(intake, patient))
    assert s.computed_outcome == "eligible"
    assert s.protocol_version == protocols["depression-standard"]
    assert [t.name for t in s.trials.all()] == ["sertraline", "venlafaxine XR"]
    assert s.referral.status == Referral.Status.SCREENING
    assert AuditEntry.objects.filter(action="create", summary__startswith="Screened for").exists()


def test_a_referral_from_a_therapist_counts_but_from_a_primary_care_doctor_does_not(
    intake, patient, protocols
):
    assert screen(intake, patient, refer(intake, patient, role="therapist")).computed_outcome == "eligible"
    s = screen(intake, patient, refer(intake, patient, role="primary_care"))
    assert s.computed_outcome == "not_eligible"
    assert [r["code"] for r in s.computed_reasons] == ["referral_missing"]


def test_past_substance_use_needs_review_then_prescriber_signs_with_a_note(
    intake, prescriber, patient, protocols
):
    s = screen(intake, patient, refer(intake, patient), substance_use="past")
    assert s.computed_outcome == "needs_review"
    with pytest.raises(ValidationError, match="note is required"):
        screening_sign(user=prescriber, screening=s, outcome="eligible", note="")
    signed = screening_sign(
        user=prescriber, screening=s, outcome="eligible", note="Sober 6 years; sponsor letter"
    )
    assert (signed.status, signed.signed_outcome, signed.signed_by) == ("signed", "eligible", prescriber)
    assert Referral.objects.get(pk=s.referral_id).status == Referral.Status.CLOSED


def test_a_minor_cannot_be_signed_eligible(intake, prescriber, downtown, protocols):
    minor = register(
        intake, downtown, given_name="Teen", birth_date=date.today() - timedelta(days=17 * 365 + 30)
    )
    s = screen(intake, minor, refer(intake, minor))
    with pytest.raises(ValidationError) as exc:
        screening_sign(user=prescriber, screening=s, outcome="eligible", note="parent consents")
    assert exc.value.message == SIGN_CANNOT_OVERRIDE_EXCLUSION.format(reasons="age_out_of_range")
    assert Screening.objects.get(pk=s.pk).status == "computed"


def test_only_prescribers_sign(staff, intake, patient, protocols):
    s = screen(intake, patient, refer(intake, patient))
    for role in ("nurse", "intake", "billing", "admin"):
        user = next(u for r, u in staff.items() if r.value == role)
        with pytest.raises(PermissionDenied):
            screening_sign(user=user, screening=s, outcome="eligible")


def test_a_signed_decision_cannot_change(intake, prescriber, patient, protocols):
    s = screening_sign(
        user=prescriber, screening=screen(intake, patient, refer(intake, patient)), outcome="eligible"
    )
    with pytest.raises(ValidationError) as exc:
        screening_sign(user=prescriber, screening=s, outcome="not_eligible", note="changed my mind")
    assert exc.value.message.startswith(ALREADY_SIGNED.split("{")[0])
    with pytest.raises(DatabaseError, match="signed screening cannot change"), transaction.atomic():
        Screening.objects.filter(pk=s.pk).update(signed_outcome="not_eligible")


def test_unknown_indication_and_bad_answers_are_refused_and_nothing_saved(intake, patient, protocols):
    referral = refer(intake, patient)
    with pytest.raises(ValidationError, match="Unknown indication 'insomnia'"):
        screen(intake, patient, referral, indication="insomnia")
    with pytest.raises(ValidationError, match="Answer 'perhaps' to pregnancy is unknown"):
        screen(intake, patient, referral, contraindications=dict(NO, pregnancy="perhaps"))
    with pytest.raises(ValidationError, match="Substance use 'sometimes' is unknown"):
        screen(intake, patient, referral, substance_use="sometimes")
    assert Screening.objects.count() == 0


def test_a_referral_dated_in_the_future_is_refused(intake, patient):
    with pytest.raises(ValidationError, match="in the future"):
        referral_record(
            user=intake,
            patient=patient,
            indication="trd",
            referrer_name="Dr. B",
            referrer_role="psychiatrist",
            reason="x",
            received_on=date.today() + timedelta(days=2),
        )


def test_referral_documents_are_kept_and_bad_types_refused(intake, patient):
    pdf = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 referral letter", content_type="application/pdf")
    r = refer(intake, patient, documents=[("Referral letter", pdf)])
    assert r.documents.get().title == "Referral letter"
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(ValidationError) as exc:
        refer(intake, patient, documents=[("bad", exe)])
    assert exc.value.message == DOCUMENT_TYPE_REFUSED.format(name="x.exe", value="application/x-msdownload")
    assert Referral.objects.count() == 1


def test_the_screening_keeps_its_protocol_version_after_a_new_version_loads(intake, patient, protocols):
    from ketaclinic.protocols.files import shipped_protocol
    from ketaclinic.protocols.services import protocol_load

    s = screen(intake, patient, refer(intake, patient))
    data = shipped_protocol("depression-standard").model_dump(mode="json")
    data.update(version=data["version"] + 1, changelog="Raise the upper age to 70")
    data["eligibility"]["age"]["max_years"] = 70
    from ketaclinic.core.protocols import parse_protocol

    v2, created = protocol_load(document=parse_protocol(data), user=None)
    assert created
    assert Screening.objects.get(pk=s.pk).protocol_version.version == v2.version - 1
    assert screen(intake, patient, None, indication="trd").protocol_version == v2
