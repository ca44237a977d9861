"""Calendar feeds (iCalendar, RFC 5545) of a member of staff's or a patient's booked appointments, at a
revocable link whose token only the link carries (the database keeps its SHA-256).

Built with the ``icalendar`` library (time zones as TZID with a VTIMEZONE from zoneinfo, escaping and line
folding), not by hand. A feed leaves the clinic: phones sync it to calendar clouds and show it on lock
screens, so it carries no clinical detail. A patient's event says "Appointment at <clinic>", the time and
the address (or "At your home"). A member of staff's event names no patient, not even initials (with a time
and a chair, initials identify a patient in a small clinic), and no drug or treatment: "Clinic booking -
Chair 2", "Clinic booking - Room A" or "Home visit"; the day board and the calendar pages have the rest."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from icalendar import Calendar, Event

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.tokens import token_new, token_sha256
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, CalendarFeed

PAST_DAYS = 30  # the feed keeps the last month, so a calendar does not drop what just happened
AHEAD_DAYS = 366


def feed_live(*, user: User | None = None, patient: Patient | None = None) -> CalendarFeed | None:
    """The owner's feed link in use (not revoked), or None."""
    return CalendarFeed.objects.filter(user=user, patient=patient, revoked_at__isnull=True).first()


@transaction.atomic
def feed_create(*, actor: User, user: User | None = None, patient: Patient | None = None) -> str:
    """A new feed link for a member of staff (their own) or a patient (by the desk); the previous link of the
    same owner stops working. Returns the token, shown once; audited."""
    feed_revoke(actor=actor, user=user, patient=patient)
    token = token_new()
    CalendarFeed.objects.create(
        user=user, patient=patient, token_sha256=token_sha256(token), created_by=actor
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=actor,
        patient=patient,
        summary="Calendar feed link made" + ("" if patient else f" for {user}"),
    )
    return token


@transaction.atomic
def feed_revoke(*, actor: User, user: User | None = None, patient: Patient | None = None) -> int:
    """Stop the owner's feed link (a subscribed calendar gets "not found"); audited when one was live."""
    revoked = CalendarFeed.objects.filter(user=user, patient=patient, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    if revoked:
        audit_record(
            action=AuditEntry.Action.UPDATE,
            actor=actor,
            patient=patient,
            summary="Calendar feed link revoked" + ("" if patient else f" for {user}"),
        )
    return revoked


def feed_by_token(token: str) -> CalendarFeed | None:
    """The live feed a link's token opens, or None (unknown or revoked)."""
    return (
        CalendarFeed.objects.select_related("user", "patient")
        .filter(token_sha256=token_sha256(token), revoked_at__isnull=True)
        .first()
    )


def _appointments(feed: CalendarFeed) -> QuerySet[Appointment]:
    now = timezone.now()
    owner = {"patient_id": feed.patient_id} if feed.patient_id else {"staff_id": feed.user_id}
    return (
        Appointment.objects.filter(
            **owner,
            status=Appointment.Status.BOOKED,
            start__gte=now - timedelta(days=PAST_DAYS),
            start__lt=now + timedelta(days=AHEAD_DAYS),
        )
        .select_related("location", "chair", "room")
        .order_by("start", "pk")
    )


def _address(a: Appointment) -> str:
    loc = a.location
    town = " ".join(p for p in (loc.state, loc.postal_code) if p)
    return ", ".join(p for p in (loc.name, loc.address, loc.city, town) if p)


def _staff_summary(a: Appointment) -> str:
    if a.at_home:
        return "Home visit"
    place = a.chair or a.room
    return f"Clinic booking - {place}" if place else "Clinic booking"


def feed_ics(feed: CalendarFeed) -> bytes:
    """The feed's calendar: one event per booked appointment of the last month and the next year (cancelled
    ones left out, so a subscribed calendar drops them), each in its location's time zone."""
    cal = Calendar()
    cal.add("prodid", "-//ketaclinic//appointments//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Clinic appointments")
    stamp = timezone.now()
    for a in _appointments(feed):
        tz = ZoneInfo(a.location.timezone)
        event = Event()
        event.add("uid", f"{a.external_id}@ketaclinic")
        event.add("dtstamp", stamp)
        event.add("dtstart", a.start.astimezone(tz))
        event.add("dtend", a.end.astimezone(tz))
        if feed.patient_id:
            event.add("summary", f"Appointment at {a.location.name}")
            event.add("location", "At your home" if a.at_home else _address(a))
            if a.location.phone:
                event.add(
                    "description", f"To cancel or change the time, call the clinic on {a.location.phone}."
                )
        else:
            event.add("summary", _staff_summary(a))
            event.add("location", "Home visit" if a.at_home else _address(a))
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    ics: bytes = cal.to_ical()
    return ics
