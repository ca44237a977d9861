"""Informed consent: versioned documents the clinic edits, the patient's signatures, one-time links.

Its own app, not part of ``plans``: consent is a step of the clinic's day of its own (collected at the
front desk or from home, checked by the nurse before every infusion), with its own permissions
(``consent.record``, ``consent.manage``) and a patient-facing page without a login.

Every table here is append-only in the database (a trigger), except a link's one-time ``used_at``.
A new document version asks for a new signature: a signature names the exact version it signed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.patients.models import Patient


class ConsentDocument(ExternalIdentity):
    """One version of one consent document (``code``); editing makes a new version, never a change."""

    code = models.SlugField(max_length=60, help_text="Stable name, e.g. ketamine-infusion.")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="The text the patient reads (plain text; blank lines separate paragraphs)."
    )
    changelog = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="consent_document_version_unique"),
            models.CheckConstraint(
                name="consent_document_version_positive", condition=models.Q(version__gte=1)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class ConsentLink(ExternalIdentity):
    """A one-time link sent to the patient: only the token's hash is stored; it expires and is used once."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_links")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="links")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class ConsentSignature(ExternalIdentity):
    class Method(models.TextChoices):
        TABLET = "tablet", "On a tablet in the clinic"
        LINK = "link", "Through a one-time link"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_signatures")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="signatures")
    document_sha256 = models.CharField(max_length=64, help_text="The exact text signed.")
    method = models.CharField(max_length=10, choices=Method.choices)
    typed_name = models.CharField(max_length=160)
    signature_png = models.BinaryField(help_text="The drawn signature, PNG.")
    signed_at = models.DateTimeField()
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    link = models.OneToOneField(
        ConsentLink, null=True, blank=True, on_delete=models.PROTECT, related_name="signature"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(
                name="consent_signature_witness_or_link",
                condition=models.Q(method="tablet", witnessed_by__isnull=False, link__isnull=True)
                | models.Q(method="link", link__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.typed_name} signed {self.document} on {self.signed_at:%Y-%m-%d}"
