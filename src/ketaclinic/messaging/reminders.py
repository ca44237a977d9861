"""The words of an appointment reminder: when and where, the preparation the clinic asks for, and the link to
confirm. Nothing clinical beyond the preparation: no drug, no diagnosis, no dose.

The preparation is what the clinics' own patient pages ask (the project's domain notes, §1 "Before" and
"After", seeds 000, 001 and 003): a light meal only, nothing heavy in the 4 hours before; no alcohol or
recreational drugs for 24 hours before; a driver home, since the patient must not drive for 24 hours after.
They are the clinic's defaults, in words a patient reads on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ketaclinic.core.errors import ValidationError

PREPARATION = (
    "Eat only a light meal, at least 4 hours before your appointment.",
    "No alcohol or recreational drugs for 24 hours before.",
    "Arrange a driver to take you home: you must not drive for 24 hours afterwards.",
)
REMINDER_BODY = (
    "Hello {first_name}, this is a reminder of your appointment at {location} on {when}.\n"
    "To prepare:\n{preparation}\n"
    "Please confirm that you are prepared and have a driver: {confirm_url}\n"
    "Questions or need to change the time? Call the clinic."
)
NAIVE_TIME = "The appointment's start time needs its time zone (got {value})."


def reminder_when(starts_at: datetime, time_zone: str) -> str:
    """``Tuesday, December 8 at 9:30 AM`` in the location's time zone."""
    if starts_at.tzinfo is None:
        raise ValidationError(
            NAIVE_TIME.format(value=starts_at.isoformat()), field="starts_at", value=starts_at
        )
    local = starts_at.astimezone(ZoneInfo(time_zone))
    return f"{local:%A, %B} {local.day} at {local:%I:%M %p}".replace(" at 0", " at ")


def reminder_body(
    *,
    first_name: str,
    starts_at: datetime,
    time_zone: str,
    location_name: str,
    confirm_url: str,
    preparation: Sequence[str] = PREPARATION,
) -> str:
    """The reminder a patient receives the day before: time (in the location's zone), place, preparation
    (the defaults above, or the clinic's own from its protocol), and the one-tap link to confirm preparation
    and driver."""
    return REMINDER_BODY.format(
        first_name=first_name,
        location=location_name,
        when=reminder_when(starts_at, time_zone),
        preparation="\n".join(f"- {line}" for line in preparation),
        confirm_url=confirm_url,
    )


VISIT_BODY = (
    "Hello {first_name}, this is a reminder of your appointment on {when}, {place}.\n"
    "Your upcoming appointments: {link_url}\n"
    "To cancel or change the time, please call the clinic{phone}."
)


def visit_place(*, at_home: bool, location_name: str, address: str) -> str:
    """Where the patient goes: "at your home", or the clinic's name and street address."""
    if at_home:
        return "at your home"
    return f"at {location_name}, {address}" if address else f"at {location_name}"


def visit_reminder_body(
    *,
    first_name: str,
    starts_at: datetime,
    time_zone: str,
    place: str,
    link_url: str,
    clinic_phone: str = "",
) -> str:
    """The reminder of an appointment that is not a dosing session (a consultation, a follow-up, therapy):
    time (in the location's zone), place and how to cancel, nothing clinical: not even the kind of
    appointment, since a text is read on a lock screen and "nerve block" or "therapy" says why."""
    return VISIT_BODY.format(
        first_name=first_name,
        when=reminder_when(starts_at, time_zone),
        place=place,
        link_url=link_url,
        phone=f" on {clinic_phone}" if clinic_phone else "",
    )
