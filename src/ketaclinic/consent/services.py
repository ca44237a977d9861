"""Consent actions: load the shipped documents, edit a document (a new version), collect a signature on
the clinic's tablet, send a one-time link and sign through it."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_anonymous_refusal, audit_record
from ketaclinic.base.tokens import token_new, token_sha256
from ketaclinic.consent.models import ConsentDocument, ConsentLink, ConsentSignature
from ketaclinic.consent.selectors import document_current
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

LIBRARY_DIR = Path(__file__).with_name("library")
LINK_LIFETIME = timedelta(hours=72)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 300_000

SHIPPED_CHANGED = (
    "Consent document {code} v{version} is already loaded with different text; raise the version."
)
UNCHANGED = "The text is the same as version {version}; nothing to save."
TEXT_REQUIRED = "{field} is required."
NOT_CURRENT = "{title} v{version} was replaced by v{current}; the patient must sign the current version."
NAME_REQUIRED = "Type your full name."
NAME_MISMATCH = "The typed name {value!r} does not match the patient's name on file ({name})."
# Through a link the page is public (a forwarded link, a shared phone): it names no one beyond the first name.
NAME_MISMATCH_PUBLIC = (
    "The typed name {value!r} does not match the name the clinic has on file: type your full name, "
    "with your family name as the clinic knows it."
)
SIGNATURE_REQUIRED = "Draw the signature in the box."
SIGNATURE_NOT_PNG = "The signature must be a PNG image (data:image/png;base64,...)."
SIGNATURE_TOO_LARGE = "The signature image is {size} KB; the limit is 300 KB."
LINK_UNKNOWN = "This consent link is not valid. Please ask the clinic for a new link."
LINK_EXPIRED = "This consent link expired on {when}. Please ask the clinic for a new link."
LINK_USED = "This consent link was already used on {when}. Please ask the clinic for a new link if needed."
LINK_REPLACED = "The consent document changed since this link was sent. Please ask the clinic for a new link."


class ConsentLinkRefused(DomainError):
    """A one-time link that cannot be used (unknown, expired, used, or for a replaced version)."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def consent_documents_load_shipped() -> list[ConsentDocument]:
    """Load every shipped consent document (idempotent: the same version with the same text is a no-op)."""
    loaded = []
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        body = data["body"].strip()
        existing = ConsentDocument.objects.filter(code=data["code"], version=data["version"]).first()
        if existing is not None:
            if existing.sha256 != _sha(body):
                raise ValidationError(
                    SHIPPED_CHANGED.format(code=data["code"], version=data["version"]), value=path.name
                )
            loaded.append(existing)
            continue
        doc = ConsentDocument.objects.create(
            code=data["code"],
            version=data["version"],
            title=data["title"],
            body=body,
            changelog=data["changelog"],
            sha256=_sha(body),
            source_name=f"shipped:{path.name}",
            created_at=timezone.now(),
        )
        audit_record(
            action=AuditEntry.Action.CREATE,
            summary=f"Loaded consent document {doc.code} v{doc.version}",
            detail={"sha256": doc.sha256},
        )
        loaded.append(doc)
    return loaded


@transaction.atomic
def consent_document_edit(*, user: User, code: str, title: str, body: str, changelog: str) -> ConsentDocument:
    """Save an edited consent document as a new version; earlier versions and their signatures stay."""
    require(user, Permission.CONSENT_MANAGE)
    body, title, changelog = body.strip().replace("\r\n", "\n"), title.strip(), changelog.strip()
    for field, value in (("title", title), ("body", body), ("changelog", changelog)):
        if not value:
            raise ValidationError(TEXT_REQUIRED.format(field=field.capitalize()), field=field, value=value)
    latest = ConsentDocument.objects.select_for_update().filter(code=code).order_by("-version").first()
    if latest is not None and latest.sha256 == _sha(body) and latest.title == title:
        raise ValidationError(UNCHANGED.format(version=latest.version), field="body", value=None)
    doc = ConsentDocument.objects.create(
        code=code,
        version=(latest.version + 1) if latest else 1,
        title=title,
        body=body,
        changelog=changelog,
        sha256=_sha(body),
        source_name="edited",
        created_at=timezone.now(),
        created_by=user,
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        summary=f"New consent document version {doc.code} v{doc.version}: {changelog}"[:300],
        detail={"document": str(doc.external_id), "sha256": doc.sha256},
    )
    return doc


@dataclass(frozen=True)
class DrawnSignature:
    typed_name: str
    png: bytes


def _signature(
    *, patient: Patient, typed_name: str, signature_data: str, public: bool = False
) -> DrawnSignature:
    typed = " ".join(typed_name.split())
    if not typed:
        raise ValidationError(NAME_REQUIRED, field="typed_name", value=typed_name)
    if patient.family_name.casefold() not in typed.casefold():
        raise ValidationError(
            NAME_MISMATCH_PUBLIC.format(value=typed)
            if public
            else NAME_MISMATCH.format(value=typed, name=f"{patient.given_name} {patient.family_name}"),
            field="typed_name",
            value=typed,
        )
    if not signature_data:
        raise ValidationError(SIGNATURE_REQUIRED, field="signature", value="")
    prefix = "data:image/png;base64,"
    if not signature_data.startswith(prefix):
        raise ValidationError(SIGNATURE_NOT_PNG, field="signature", value=signature_data[:30])
    try:
        png = base64.b64decode(signature_data[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(SIGNATURE_NOT_PNG, field="signature", value=signature_data[:30]) from None
    if not png.startswith(PNG_MAGIC):
        raise ValidationError(SIGNATURE_NOT_PNG, field="signature", value=signature_data[:30])
    if len(png) > MAX_SIGNATURE_BYTES:
        raise ValidationError(
            SIGNATURE_TOO_LARGE.format(size=len(png) // 1000), field="signature", value=len(png)
        )
    return DrawnSignature(typed, png)


def _current(document: ConsentDocument) -> None:
    latest = document_current(document.code)
    assert latest is not None  # ``document`` itself is a version of it
    if latest.pk != document.pk:
        raise ValidationError(
            NOT_CURRENT.format(title=document.title, version=document.version, current=latest.version),
            field="document",
            value=document.version,
        )


@transaction.atomic
def consent_sign_in_clinic(
    *,
    user: User,
    patient: Patient,
    document: ConsentDocument,
    typed_name: str,
    signature_data: str,
    ip_address: str | None = None,
) -> ConsentSignature:
    """The patient signs the current version on the clinic's tablet; ``user`` witnesses."""
    patient_for(user, patient, Permission.CONSENT_RECORD)
    _current(document)
    drawn = _signature(patient=patient, typed_name=typed_name, signature_data=signature_data)
    sig = ConsentSignature.objects.create(
        patient=patient,
        document=document,
        document_sha256=document.sha256,
        method=ConsentSignature.Method.TABLET,
        typed_name=drawn.typed_name,
        signature_png=drawn.png,
        signed_at=timezone.now(),
        witnessed_by=user,
        ip_address=ip_address,
    )
    audit_record(
        action=AuditEntry.Action.SIGN,
        actor=user,
        patient=patient,
        summary=f"Consent signed in the clinic: {document.code} v{document.version}, witnessed",
        detail={"signature": str(sig.external_id), "document": str(document.external_id)},
    )
    return sig


@transaction.atomic
def consent_link_create(
    *, user: User, patient: Patient, document: ConsentDocument
) -> tuple[ConsentLink, str]:
    """A one-time link for the patient to sign from home; returns the link and the token (shown once)."""
    patient_for(user, patient, Permission.CONSENT_RECORD)
    _current(document)
    token = token_new()
    now = timezone.now()
    link = ConsentLink.objects.create(
        patient=patient,
        document=document,
        token_sha256=token_sha256(token),
        created_at=now,
        created_by=user,
        expires_at=now + LINK_LIFETIME,
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Consent link created for {document.code} v{document.version}, expires "
        f"{link.expires_at:%Y-%m-%d %H:%M} UTC",
        detail={"link": str(link.external_id)},
    )
    return link, token


def _check_link(link: ConsentLink | None) -> ConsentLink:
    if link is None:
        raise ConsentLinkRefused(LINK_UNKNOWN, field="token")
    if link.used_at is not None:
        raise ConsentLinkRefused(LINK_USED.format(when=f"{link.used_at:%Y-%m-%d %H:%M} UTC"), field="token")
    if timezone.now() >= link.expires_at:
        raise ConsentLinkRefused(
            LINK_EXPIRED.format(when=f"{link.expires_at:%Y-%m-%d %H:%M} UTC"), field="token"
        )
    current = document_current(link.document.code)
    if current is None or current.pk != link.document_id:  # never None: the link's document is a version
        raise ConsentLinkRefused(LINK_REPLACED, field="token")
    return link


def _refused(exc: ConsentLinkRefused, link: ConsentLink | None, ip_address: str | None) -> None:
    if link is None:  # nobody's record behind it: counted per address, not one entry each
        audit_anonymous_refusal("consent-link-unknown", f"Consent link refused: {exc.message}")
        return
    audit_record(
        action=AuditEntry.Action.DENIED,
        patient=link.patient if link else None,
        summary=f"Consent link refused: {exc.message}",
        detail={"status": 400, "link": str(link.external_id) if link else None, "ip": ip_address},
    )


def consent_link_open(*, token: str, ip_address: str | None = None) -> ConsentLink:
    """The link a patient opened, or a refusal (audited) naming why it cannot be used."""
    link = (
        ConsentLink.objects.select_related("patient", "document")
        .filter(token_sha256=token_sha256(token))
        .first()
    )
    try:
        return _check_link(link)
    except ConsentLinkRefused as exc:
        _refused(exc, link, ip_address)
        raise


def consent_sign_by_link(
    *, token: str, typed_name: str, signature_data: str, ip_address: str | None = None
) -> ConsentSignature:
    """The patient signs through the link: once, before it expires; the link is then used up."""
    link = consent_link_open(token=token, ip_address=ip_address)
    try:
        with transaction.atomic():
            link = _check_link(
                ConsentLink.objects.select_for_update()
                .select_related("patient", "document")
                .filter(pk=link.pk)
                .first()
            )
            drawn = _signature(
                patient=link.patient, typed_name=typed_name, signature_data=signature_data, public=True
            )
            now = timezone.now()
            sig = ConsentSignature.objects.create(
                patient=link.patient,
                document=link.document,
                document_sha256=link.document.sha256,
                method=ConsentSignature.Method.LINK,
                typed_name=drawn.typed_name,
                signature_png=drawn.png,
                signed_at=now,
                link=link,
                ip_address=ip_address,
            )
            link.used_at = now
            link.save(update_fields=["used_at"])
            audit_record(
                action=AuditEntry.Action.SIGN,
                patient=link.patient,
                summary="Consent signed through a one-time link: "
                f"{link.document.code} v{link.document.version}",
                detail={"signature": str(sig.external_id), "link": str(link.external_id), "ip": ip_address},
            )
    except ConsentLinkRefused as exc:
        _refused(exc, link, ip_address)
        raise
    return sig
