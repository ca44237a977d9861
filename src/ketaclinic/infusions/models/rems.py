"""The esketamine (Spravato) REMS Patient Monitoring Form of one session.

Prefilled from the session's records (``selectors.rems``), completed and confirmed by the prescriber, then
marked submitted by the clinic with the programme's reference number. ketaclinic does not talk to the REMS
programme (there is no public REMS interface here): "submitted" records that the clinic submitted the form
on the programme's own site or by fax. Once submitted the form never changes (the services refuse, and a
database trigger, migration 0012, refuses an edit that bypasses them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ClinicRecord
from ketaclinic.infusions.models.session import InfusionSession

USER = settings.AUTH_USER_MODEL


class RemsMonitoringForm(ClinicRecord):
    """What the REMS Patient Monitoring Form asks, for one esketamine session."""

    session = models.OneToOneField(InfusionSession, on_delete=models.PROTECT, related_name="rems_form")
    first_device_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(
        null=True, blank=True, help_text="Completion of monitoring (the patient's discharge)."
    )
    dose_total_mg = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    device_count = models.PositiveSmallIntegerField(default=0)
    device_lots = models.CharField(max_length=200, blank=True, help_text="Lot numbers, comma separated.")
    checks = models.JSONField(
        default=list,
        blank=True,
        help_text="One entry per check the protocol's rems section requires: code, time, BP or level.",
    )
    spo2_lowest_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    concomitant_medications = models.TextField(blank=True)
    serious_adverse_event = models.BooleanField(null=True, blank=True)
    serious_adverse_event_description = models.TextField(blank=True)
    confirmed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(
        max_length=60, blank=True, help_text="The confirmation number the REMS programme gave."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="rems_confirmed_complete",
                condition=models.Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | models.Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="rems_submitted_complete",
                condition=models.Q(submitted_by__isnull=True, submitted_at__isnull=True, reference="")
                | (
                    models.Q(
                        submitted_by__isnull=False, submitted_at__isnull=False, confirmed_at__isnull=False
                    )
                    & ~models.Q(reference="")
                ),
            ),
            models.CheckConstraint(
                name="rems_spo2_range",
                condition=models.Q(spo2_lowest_percent__isnull=True) | models.Q(spo2_lowest_percent__lte=100),
            ),
        ]

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def lots(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.device_lots.split(",") if x.strip())
