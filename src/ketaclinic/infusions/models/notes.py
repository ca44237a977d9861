"""The session note and its addenda."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ClinicRecord
from ketaclinic.infusions.models.session import InfusionSession

USER = settings.AUTH_USER_MODEL


class SessionNote(ClinicRecord):
    """The note generated from what happened; signed, then locked."""

    session = models.OneToOneField(InfusionSession, on_delete=models.PROTECT, related_name="note")
    text = models.TextField()
    signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="note_signed_complete",
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
            ),
        ]

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class NoteAddendum(ClinicRecord):
    """A correction or addition to a signed note: who, when, why. Append-only."""

    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["created_at", "id"]
