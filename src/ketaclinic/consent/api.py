"""Consent API: a patient's consent status, one-time links, in-clinic signatures, document versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Router, Schema, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.client_ip import client_ip
from ketaclinic.consent import selectors, services
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.core.access import Permission
from ketaclinic.core.input_rules import DOCUMENT_MAX, SIGNATURE_MAX
from ketaclinic.patients.selectors import patient_get

router = Router(tags=["consent"])


class DocumentOut(Schema):
    id: UUID = Field(alias="external_id")
    code: str
    version: int
    title: str
    body: str
    changelog: str
    sha256: str
    created_at: datetime


class DocumentIn(Schema):
    code: str = Field(pattern="^[a-z][a-z0-9-]{2,59}$")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=DOCUMENT_MAX)
    changelog: str = Field(min_length=1, max_length=300)


class SignatureOut(Schema):
    id: UUID = Field(alias="external_id")
    document: str = Field(alias="document.code")
    document_version: int = Field(alias="document.version")
    method: str
    typed_name: str
    signed_at: datetime


class StatusOut(Schema):
    state: str
    label: str
    signatures: list[SignatureOut]
    missing: list[str]

    @staticmethod
    def resolve_missing(obj: selectors.ConsentOnFile) -> list[str]:
        return [f"{d.code} v{d.version}" for d in obj.missing]


class LinkIn(Schema):
    document: str = Field(
        "ketamine-infusion",
        min_length=1,
        max_length=60,
        description="Document code; the current version is sent.",
    )


class LinkOut(Schema):
    url: str = Field(description="Shown once: only the token's hash is stored.")
    expires_at: datetime


class ConsentSignatureIn(Schema):
    document: UUID = Field(description="The document version the patient read and signs.")
    typed_name: str = Field(min_length=1, max_length=160)
    signature: str = Field(
        min_length=1, max_length=SIGNATURE_MAX, description="The drawn signature as a PNG data URL."
    )


@router.get(
    "/patients/{external_id}",
    response=StatusOut,
    summary="Consent status: on file, new signature needed, not signed",
)
def consent_status(request: AuthedRequest, external_id: UUID) -> selectors.ConsentOnFile:
    patient = patient_get(user=request.user, external_id=str(external_id))
    return selectors.consent_status(user=request.user, patient=patient)


@router.post(
    "/patients/{external_id}/links", response={201: LinkOut}, summary="Create a one-time consent link (72 h)"
)
def consent_link_create(request: AuthedRequest, external_id: UUID, payload: LinkIn) -> Status[dict[str, Any]]:
    require(request.user, Permission.CONSENT_RECORD)
    patient = patient_get(user=request.user, external_id=str(external_id))
    link, token = services.consent_link_create(
        user=request.user,
        patient=patient,
        document=ConsentDocument.objects.filter(code=payload.document).order_by("-version")[:1].get(),
    )
    return Status(
        201, {"url": request.build_absolute_uri(f"/consent/sign/{token}/"), "expires_at": link.expires_at}
    )


@router.post(
    "/patients/{external_id}/signatures",
    response={201: SignatureOut},
    summary="Record a signature made on the clinic's tablet (the caller witnesses)",
)
def consent_sign_in_clinic(
    request: AuthedRequest, external_id: UUID, payload: ConsentSignatureIn
) -> Status[ConsentSignature]:
    require(request.user, Permission.CONSENT_RECORD)
    patient = patient_get(user=request.user, external_id=str(external_id))
    sig = services.consent_sign_in_clinic(
        user=request.user,
        patient=patient,
        document=ConsentDocument.objects.get(external_id=payload.document),
        typed_name=payload.typed_name,
        signature_data=payload.signature,
        ip_address=client_ip(request),
    )
    return Status(201, sig)


@router.get("/documents", response=list[DocumentOut])
def consent_documents(request: AuthedRequest) -> list[ConsentDocument]:
    return selectors.consent_documents(user=request.user)


@router.post(
    "/documents", response={201: DocumentOut}, summary="Save an edited consent document as a new version"
)
def consent_document_edit(request: AuthedRequest, payload: DocumentIn) -> Status[ConsentDocument]:
    return Status(201, services.consent_document_edit(user=request.user, **payload.dict()))
