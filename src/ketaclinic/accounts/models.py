"""Clinic locations and staff accounts with a role, a prescriber kind, and the locations they work at."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.core.access import (
    ROLE_LABELS,
    SECOND_FACTOR_REQUIRED,
    Permission,
    PrescriberKind,
    Role,
    role_can,
)

ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]
PRESCRIBER_KIND_CHOICES = [
    (PrescriberKind.PSYCHIATRIST.value, "Psychiatrist"),
    (PrescriberKind.ANESTHESIOLOGIST.value, "Anesthesiologist"),
    (PrescriberKind.NURSE_PRACTITIONER.value, "Nurse practitioner"),
]


class Location(ExternalIdentity):
    class Kind(models.TextChoices):
        CLINIC = "clinic", "Clinic"
        MOBILE = "mobile", "Mobile (home infusions)"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLINIC)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    timezone = models.CharField(max_length=64, default="America/New_York")
    active = models.BooleanField(default=True)
    # A mobile location's service area: homes within the radius (straight line) of this ZIP code's centre
    # (ketaclinic.core.travel.ServiceArea). Blank/None: no area set, so no home visit can be booked from it.
    service_centre_postal_code = models.CharField("service area centre (ZIP)", max_length=10, blank=True)
    service_radius_miles = models.DecimalField(
        "service area radius (miles)", max_digits=5, decimal_places=1, null=True, blank=True
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="service_radius_positive_at_most_200_miles",
                condition=models.Q(service_radius_miles__isnull=True)
                | models.Q(service_radius_miles__gt=0, service_radius_miles__lte=200),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(ExternalIdentity, AbstractUser):
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    prescriber_kind = models.CharField(max_length=30, choices=PRESCRIBER_KIND_CHOICES, blank=True)
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, DO, NP, RN")
    npi = models.CharField("NPI", max_length=10, blank=True)
    dea_number = models.CharField("DEA registration", max_length=9, blank=True)
    # set when an admin gives a temporary password: the next sign-in must choose a new one
    must_change_password = models.BooleanField(default=False)
    locations = models.ManyToManyField(Location, related_name="staff", blank=True)
    # the ids of ``locations``, kept on the instance by ketaclinic.accounts.permissions.user_location_ids
    _location_ids: list[int]

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="prescriber_kind_only_for_prescribers",
                condition=(models.Q(role=Role.PRESCRIBER.value) & ~models.Q(prescriber_kind=""))
                | (~models.Q(role=Role.PRESCRIBER.value) & models.Q(prescriber_kind="")),
            ),
            models.CheckConstraint(
                name="role_is_known", condition=models.Q(role__in=[r.value for r in Role])
            ),
        ]

    def __str__(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def role_label(self) -> str:
        label = ROLE_LABELS[self.role_enum]
        if self.prescriber_kind:
            label += f" ({self.get_prescriber_kind_display()})"
        return label

    def can(self, permission: Permission) -> bool:
        return self.is_active and role_can(self.role, permission)

    @property
    def needs_second_factor(self) -> bool:
        return self.role_enum in SECOND_FACTOR_REQUIRED


class BreakGlassAccess(ExternalIdentity):
    """An emergency access to one patient outside the clinician's locations (HIPAA §164.312(a)(2)(ii)).

    Granted at once on a stated reason, for a limited time, audited, and queued for an admin's review.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_accesses")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="break_glass_accesses"
    )
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(
        max_length=20,
        blank=True,
        choices=[("appropriate", "Appropriate"), ("inappropriate", "Inappropriate")],
    )
    review_note = models.TextField(blank=True)

    DURATION = timedelta(hours=4)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]

    def is_active(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) < self.expires_at


class Chair(ExternalIdentity):
    """An infusion chair (or room) at a clinic location; home visits have no chair."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=60)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="chair_name_unique_per_location")
        ]

    def __str__(self) -> str:
        return f"{self.location.name} · {self.name}"


LICENCE_KINDS = ["MD", "NP", "RN", "LPN", "PA", "CRNA", "DEA", "CSR", "other"]


class StaffLicence(ExternalIdentity):
    """A professional licence or registration of a member of staff, with its expiry (shown on the admin's
    staff list from ``core.identifiers.LICENCE_EXPIRY_WARNING_DAYS`` before it lapses)."""

    class Kind(models.TextChoices):
        MD = "MD", "Physician (MD/DO)"
        NP = "NP", "Nurse practitioner (NP)"
        RN = "RN", "Registered nurse (RN)"
        LPN = "LPN", "Licensed practical nurse (LPN)"
        PA = "PA", "Physician assistant (PA)"
        CRNA = "CRNA", "Nurse anesthetist (CRNA)"
        DEA = "DEA", "DEA registration"
        CSR = "CSR", "State controlled-substance registration"
        OTHER = "other", "Other"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="licences")
    state = models.CharField(max_length=2, help_text="Two-letter state, e.g. NY")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.CharField(max_length=40)
    expires_on = models.DateField()
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_on", "id"]
        indexes = [models.Index(fields=["removed_at", "expires_on"])]
        constraints = [
            models.CheckConstraint(name="licence_kind_known", condition=models.Q(kind__in=LICENCE_KINDS)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.state} {self.number}"
