"""The front desk's resources and bookings: rooms, opening hours, closures, staff shifts and skills, the
kinds of appointment the clinic books, and the appointments themselves.

No double booking: a chair, a room, a staff member and a patient are never in two booked appointments at
once. PostgreSQL enforces it with exclusion constraints over ``tstzrange(start, end, '[)')`` (migration
0002); on SQLite the booking service checks inside a transaction SQLite serialises.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.base.models import ClinicRecord, ExternalIdentity
from ketaclinic.core.scheduling.needs import Skill
from ketaclinic.core.series import WEEKDAY_NAMES
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion

#: The PostgreSQL exclusion constraints of migration 0002: booked appointments never overlap per chair, room,
#: staff member or patient.
NO_DOUBLE_BOOKING = (
    "appointment_chair_no_overlap",
    "appointment_room_no_overlap",
    "appointment_staff_no_overlap",
    "appointment_patient_no_overlap",
)
WEEKDAY_CHOICES = list(enumerate(WEEKDAY_NAMES))
SKILL_CHOICES = [(s.value, s.value.replace("_", " ").capitalize()) for s in Skill]


class Room(ExternalIdentity):
    """A consultation or treatment room (TMS, a nerve block, a follow-up visit) at a location."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=60)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_name_unique_per_location")
        ]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening period of a weekday at a location, on the location's wall clock."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                name="hours_open_before_close", condition=models.Q(opens__lt=models.F("closes"))
            ),
            models.CheckConstraint(name="hours_weekday_known", condition=models.Q(weekday__lte=6)),
        ]


class Closure(ClinicRecord):
    """Whole days a location is closed (a holiday, a training day), first to last inclusive."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="closures")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=120)

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                name="closure_first_not_after_last", condition=models.Q(first_day__lte=models.F("last_day"))
            )
        ]


class StaffShift(ClinicRecord):
    """When a member of staff works at a location."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="shifts")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["location", "start"]), models.Index(fields=["user", "start"])]
        constraints = [
            models.CheckConstraint(
                name="shift_starts_before_end", condition=models.Q(start__lt=models.F("end"))
            )
        ]


class StaffSkills(models.Model):
    """What a member of staff does for the front desk's rules (a licence says what they may do; this says
    what the clinic has them do)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills")
    infuses = models.BooleanField(default=False)
    prescribes = models.BooleanField(default=False)
    supervises = models.BooleanField(default=False, help_text="Supervises infusions on site.")
    home_visits = models.BooleanField(default=False)

    def skills(self) -> frozenset[Skill]:
        return frozenset(s for s in Skill if getattr(self, s.value))


class AppointmentType(ExternalIdentity):
    """A kind of appointment the clinic books (clinic data, seeded by migration 0003)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField()
    needs_chair = models.BooleanField(default=False)
    needs_room = models.BooleanField(default=False)
    staff_skill = models.CharField(max_length=20, choices=SKILL_CHOICES, blank=True)
    prescriber_on_site = models.BooleanField(default=False)
    is_infusion = models.BooleanField(
        default=False, help_text="A ketamine infusion: booked only inside the treatment pathway."
    )
    at_home_allowed = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="type_chair_or_room_not_both", condition=~models.Q(needs_chair=True, needs_room=True)
            ),
            models.CheckConstraint(
                name="type_duration_range",
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=480),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Appointment(ClinicRecord):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    chair = models.ForeignKey(
        Chair, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    at_home = models.BooleanField(default=False)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    # one booked appointment per plan slot (a cancelled one gives the slot back to be booked again)
    planned_infusion = models.ForeignKey(
        PlannedInfusion, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    cancel_reason = models.CharField(max_length=200, blank=True)
    reason = models.CharField(
        max_length=300, blank=True, help_text="Why an infusion is booked outside the plan's dated slots."
    )
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["location", "start"]),
            models.Index(fields=["patient", "start"]),
            models.Index(fields=["staff", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="appointment_starts_before_end", condition=models.Q(start__lt=models.F("end"))
            ),
            models.CheckConstraint(
                name="appointment_chair_or_room_not_both",
                condition=~models.Q(chair__isnull=False, room__isnull=False),
            ),
            models.CheckConstraint(
                name="appointment_home_has_no_place",
                condition=~models.Q(at_home=True, chair__isnull=False)
                & ~models.Q(at_home=True, room__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["planned_infusion"],
                condition=models.Q(status="booked"),
                name="one_booking_per_plan_slot",
            ),
            models.CheckConstraint(
                name="appointment_cancel_has_reason",
                condition=~models.Q(status="cancelled", cancel_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} on {self.start:%Y-%m-%d %H:%M}"


class CalendarFeed(ExternalIdentity):
    """A calendar subscription link (iCalendar) of one member of staff or one patient: its token is in the
    link only, the database keeps its SHA-256 (as the reminders' and questionnaires' links), so a copy of the
    database opens no feed. Revoked, the link answers "not found"; a new link revokes the old one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calendar_feeds",
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="calendar_feeds"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="feed_of_staff_or_patient",
                condition=models.Q(user__isnull=False, patient__isnull=True)
                | models.Q(user__isnull=True, patient__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="one_live_feed_per_staff"
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_feed_per_patient",
            ),
        ]
