"""Reads of consent: the current documents, a patient's consent status, and ``consent_on_file`` for the
pre-infusion checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_read
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.core.access import Permission
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

ON_FILE = "on_file"
NEW_SIGNATURE_NEEDED = "new_signature_needed"
NOT_SIGNED = "not_signed"
STATE_LABELS = {
    ON_FILE: "Consent on file",
    NEW_SIGNATURE_NEEDED: "New signature needed (document changed)",
    NOT_SIGNED: "Not signed",
}


def documents_current(at: datetime | None = None) -> list[ConsentDocument]:
    """The newest version of each consent document that existed at ``at`` (now by default)."""
    seen: dict[str, ConsentDocument] = {}
    qs = ConsentDocument.objects.order_by("code", "-version")
    if at is not None:
        qs = qs.filter(created_at__lte=at)
    for doc in qs:
        seen.setdefault(doc.code, doc)
    return list(seen.values())


def consent_documents(*, user: User) -> list[ConsentDocument]:
    require(user, Permission.CONSENT_MANAGE)
    return list(ConsentDocument.objects.select_related("created_by").order_by("code", "-version"))


@dataclass(frozen=True)
class ConsentOnFile:
    """Whether a patient had signed every consent document current at a moment.

    ``state`` is ``on_file``, ``new_signature_needed`` (an older version is signed, the current is not) or
    ``not_signed``; ``signatures`` are the signatures of the current versions; ``missing`` the documents
    still to sign."""

    state: str
    signatures: tuple[ConsentSignature, ...]
    missing: tuple[ConsentDocument, ...]

    @property
    def ok(self) -> bool:
        return self.state == ON_FILE

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def message(self) -> str:
        if self.ok:
            return "; ".join(
                f"{s.document.title} v{s.document.version} signed {s.signed_at:%Y-%m-%d}"
                for s in self.signatures
            )
        return f"{self.label}: " + ", ".join(f"{d.title} v{d.version}" for d in self.missing)


def consent_on_file(patient: Patient, at: datetime | None = None) -> ConsentOnFile:
    """Consent of ``patient`` as it stood at ``at`` (now by default): the pre-infusion checklist's
    "consent on file" item. No permission check: callers are services that already checked theirs."""
    at = at or timezone.now()
    current = documents_current(at)
    signed = list(
        ConsentSignature.objects.filter(patient=patient, signed_at__lte=at).select_related("document")
    )
    signatures, missing, older = [], [], False
    for doc in current:
        mine = [s for s in signed if s.document_id == doc.pk]
        if mine:
            signatures.append(max(mine, key=lambda s: s.signed_at))
        else:
            missing.append(doc)
            older = older or any(s.document.code == doc.code for s in signed)
    state = ON_FILE if not missing and current else (NEW_SIGNATURE_NEEDED if older else NOT_SIGNED)
    if not current:
        missing = []
    return ConsentOnFile(state, tuple(signatures), tuple(missing))


def consent_status(*, user: User, patient: Patient) -> ConsentOnFile:
    """The patient's consent now, for the chart and the API."""
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    audit_read(patient, "consent")
    return consent_on_file(patient)


def consent_signatures(*, user: User, patient: Patient) -> list[ConsentSignature]:
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    audit_read(patient, "consent signatures")
    return list(patient.consent_signatures.select_related("document", "witnessed_by").order_by("-signed_at"))


def document_current(code: str) -> ConsentDocument | None:
    """The latest version of the document ``code``; None when no version of it is loaded."""
    return ConsentDocument.objects.filter(code=code).order_by("-version").first()
