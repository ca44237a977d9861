"""The patient's answer to the day-before reminder: prepared for the infusion, and a driver home.

The clinics ask three things before an infusion (the domain notes §1 "Before" and "After", seeds 000, 001
and 003): a light meal only, at least 4 hours before; no alcohol or recreational drugs for 24 hours; a driver
home, since the patient must not drive for 24 hours afterwards. An empty chair is most often a patient who
ate, drank or has no ride, found out on arrival: the answer the day before lets the desk act in time.

Pure: the answer is judged here; the reminder app stores it and the day board shows it.

>>> preparation_judge(light_meal=True, no_alcohol=True, driver=True, driver_name="Ana", note="")
Preparation(status='confirmed', problems=())
>>> preparation_judge(light_meal=True, no_alcohol=False, driver=True, driver_name="Ana", note="").problems
('No alcohol or recreational drugs for 24 hours: not confirmed',)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ketaclinic.core.errors import ValidationError

CONFIRMED = "confirmed"
PROBLEM = "problem"

MEAL = "A light meal only, at least 4 hours before"
ALCOHOL = "No alcohol or recreational drugs for 24 hours"
DRIVER = "A driver home after the infusion"
NOT_CONFIRMED = "{item}: not confirmed"
DRIVER_UNNAMED = "A driver home: no name given"
NOTE_TOO_LONG = "The message to the clinic has {value} characters; at most {high} fit."
DRIVER_NAME_TOO_LONG = "The driver's name has {value} characters; at most {high} fit."
MAX_NOTE_CHARS = 500
MAX_DRIVER_CHARS = 80
REMIND_DAYS_BEFORE = 1  # the reminder goes out the day before, in the location's time zone


@dataclass(frozen=True)
class Preparation:
    status: str  # CONFIRMED, or PROBLEM with what was not confirmed
    problems: tuple[str, ...]


def preparation_judge(
    *, light_meal: bool, no_alcohol: bool, driver: bool, driver_name: str, note: str
) -> Preparation:
    """Confirmed when all three are confirmed and the driver is named; otherwise a problem, listing each item
    not confirmed in the words the desk reads (and a note from the patient is always a problem to read)."""
    name, text = driver_name.strip(), note.strip()
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationError(
            NOTE_TOO_LONG.format(value=len(text), high=MAX_NOTE_CHARS), field="note", value=len(text)
        )
    if len(name) > MAX_DRIVER_CHARS:
        raise ValidationError(
            DRIVER_NAME_TOO_LONG.format(value=len(name), high=MAX_DRIVER_CHARS),
            field="driver_name",
            value=len(name),
        )
    problems = [
        NOT_CONFIRMED.format(item=item) for item, ok in ((MEAL, light_meal), (ALCOHOL, no_alcohol)) if not ok
    ]
    if not driver:
        problems.append(NOT_CONFIRMED.format(item=DRIVER))
    elif not name:
        problems.append(DRIVER_UNNAMED)
    if text:
        problems.append(f"The patient wrote: {text}")
    return Preparation(PROBLEM if problems else CONFIRMED, tuple(problems))


def reminder_day(appointment_day: date) -> date:
    """The local day the reminder for an appointment on ``appointment_day`` is sent."""
    return appointment_day - timedelta(days=REMIND_DAYS_BEFORE)
