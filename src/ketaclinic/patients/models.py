"""Patients and what the registry keeps about them.

Body measurements, allergies and medications are append-only records: a correction is a new record
(or an end date with a reason), never an edit of what a clinician recorded.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Upper

from ketaclinic.accounts.models import Location
from ketaclinic.base.models import ClinicRecord
from ketaclinic.core.input_rules import PHONE_MATCH_DIGITS, phone_match_key


class PhoneMatchKeyField(models.CharField):  # type: ignore[type-arg]
    """The last digits of the row's ``phone`` (``core.input_rules.phone_match_key``), worked out by the row
    itself whenever it is written: ``save()`` and ``bulk_create()`` both ask each field's ``pre_save`` (after
    the input rules have normalised the phone), so no write path can forget it. Migrations see a plain
    ``CharField`` (``deconstruct``): they import nothing of ours."""

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = phone_match_key(getattr(model_instance, "phone", "") or "")
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class Patient(ClinicRecord):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other / intersex"
        UNKNOWN = "unknown", "Unknown"

    mrn = models.CharField("MRN", max_length=20, unique=True)
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    birth_date = models.DateField()
    sex_at_birth = models.CharField(
        max_length=10, choices=Sex.choices, help_text="Used for ideal body weight (Devine) in dosing."
    )
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    # the duplicate check's key: the phone's last seven digits, compared by equality on its index
    phone_last7 = PhoneMatchKeyField(max_length=PHONE_MATCH_DIGITS, blank=True, default="", editable=False)
    email = models.EmailField(blank=True)
    address = models.CharField("Home address", max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="The clinic location that cares for the patient.",
    )
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    emergency_contact_relation = models.CharField(max_length=60, blank=True)
    escort_name = models.CharField("Escort / driver", max_length=120, blank=True)
    escort_phone = models.CharField("Escort phone", max_length=30, blank=True)
    part2_protected = models.BooleanField(
        "42 CFR Part 2 records",
        default=False,
        help_text="Holds records received from a substance-use "
        "programme: disclosure needs the patient's consent.",
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(Lower("family_name"), Lower("given_name"), name="patient_name_ci"),
            models.Index(fields=["birth_date"]),
            # the duplicate check compares emails whatever their case (``Upper``: the same on both databases)
            models.Index(Upper("email"), name="patient_email_ci"),
            models.Index(fields=["phone_last7"], name="patient_phone_last7"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A save of some fields that include the phone also writes its match key."""
        fields = kwargs.get("update_fields")
        if fields is not None and "phone" in fields:
            kwargs["update_fields"] = {*fields, "phone_last7"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"


class BodyMeasurement(models.Model):
    """A weight or height as entered (value + unit) and in SI (kg, cm). LOINC 29463-7 / 8302-2."""

    class Kind(models.TextChoices):
        WEIGHT = "weight", "Weight"
        HEIGHT = "height", "Height"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measurements")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value_si = models.DecimalField(max_digits=7, decimal_places=2, help_text="kg for weight, cm for height")
    entered_value = models.DecimalField(max_digits=8, decimal_places=2)
    entered_unit = models.CharField(max_length=5)
    measured_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    LOINC = {"weight": "29463-7", "height": "8302-2"}

    class Meta:
        ordering = ["-measured_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="measurement_kind_known", condition=models.Q(kind__in=["weight", "height"])
            ),
            models.CheckConstraint(
                name="measurement_plausible_si",
                condition=(
                    models.Q(kind="weight", value_si__gte=20, value_si__lte=350)
                    | models.Q(kind="height", value_si__gte=100, value_si__lte=250)
                ),
            ),
            models.CheckConstraint(
                name="measurement_unit_matches_kind",
                condition=(
                    models.Q(kind="weight", entered_unit__in=["kg", "lb"])
                    | models.Q(kind="height", entered_unit__in=["cm", "in"])
                ),
            ),
        ]


class Allergy(ClinicRecord):
    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.UNKNOWN)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"


class MedicationStatement(ClinicRecord):
    """A medication the patient takes, as reported; flagged when it interacts with ketamine treatment."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=120)
    dose = models.CharField(max_length=80, blank=True, help_text="As taken, e.g. '0.5 mg twice daily'")
    interaction_classes = models.JSONField(default=list, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
