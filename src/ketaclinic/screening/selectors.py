"""Reads of referrals and screenings."""

from __future__ import annotations

from django.db.models import QuerySet

from ketaclinic.accounts.models import User
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.eligibility import EligibilityDecision, Outcome, Reason
from ketaclinic.patients.access import patient_for, patients_visible_to
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Referral, ReferralDocument, Screening


def referrals_for_patient(*, user: User, patient: Patient) -> list[Referral]:
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    audit_read(patient, "referrals")
    return list(patient.referrals.prefetch_related("documents").all())


def screenings_for_patient(*, user: User, patient: Patient) -> list[Screening]:
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    audit_read(patient, "screenings")
    return list(
        patient.screenings.select_related("protocol_version", "signed_by", "referral").prefetch_related(
            "trials"
        )
    )


def screening_get(*, user: User, external_id: str) -> Screening:
    screening = (
        Screening.objects.select_related(
            "patient", "patient__location", "protocol_version", "signed_by", "referral"
        )
        .prefetch_related("trials")
        .get(external_id=external_id)
    )
    patient_for(user, screening.patient, Permission.CLINICAL_VIEW)
    audit_read(screening.patient, "screening")
    return screening


def screenings_awaiting_signature(*, user: User) -> QuerySet[Screening]:
    patients = patients_visible_to(user, Permission.SCREENING_SIGN)
    return (
        Screening.objects.filter(status=Screening.Status.COMPUTED, patient__in=patients)
        .select_related("patient", "protocol_version")
        .order_by("screening_date", "id")
    )


def referrals_open(*, user: User) -> QuerySet[Referral]:
    patients = patients_visible_to(user, Permission.CLINICAL_VIEW)
    return (
        Referral.objects.filter(status=Referral.Status.RECEIVED, patient__in=patients)
        .select_related("patient")
        .order_by("received_on", "id")
    )


def decision_of(screening: Screening) -> EligibilityDecision:
    """The stored computed decision as the core's value (for sign checks and display)."""
    reasons = tuple(
        Reason(r["code"], Outcome(r["outcome"]), r["message"]) for r in screening.computed_reasons
    )
    pv = screening.protocol_version
    return EligibilityDecision(Outcome(screening.computed_outcome), reasons, pv.protocol_id, pv.version)


def referral_document_get(*, user: User, external_id: str) -> ReferralDocument:
    """A referral's document, within the user's reach (clinical view of the patient); each opening is
    audited. Raises ReferralDocument.DoesNotExist."""
    document = ReferralDocument.objects.select_related(
        "referral__patient", "referral__patient__location"
    ).get(external_id=external_id)
    patient_for(user, document.referral.patient, Permission.CLINICAL_VIEW)
    audit_read(document.referral.patient, f"referral document '{document.title}'")
    return document
