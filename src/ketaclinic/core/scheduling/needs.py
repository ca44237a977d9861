"""What each kind of appointment needs: its length, a chair or a room, a staff member with a skill, and
whether a prescriber must be on site (present at the location for the whole appointment).

>>> infusion = AppointmentRules(name="Ketamine infusion", duration_minutes=120, needs_chair=True,
...     skill=Skill.INFUSES, prescriber_on_site=True)
>>> needs_problem(infusion, chair=None, room=None, at_home=False, staff="Ann Lee, RN",
...     staff_skills=frozenset({Skill.INFUSES}), prescriber_present=True).message
'A ketamine infusion needs a chair; choose one.'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from ketaclinic.core.errors import ValidationError

MIN_MINUTES, MAX_MINUTES = 5, 480


class Skill(StrEnum):
    INFUSES = "infuses"
    PRESCRIBES = "prescribes"
    SUPERVISES = "supervises"  # a physician supervising on site (counts as a prescriber on site)
    HOME_VISITS = "home_visits"


SKILL_WORDS = {
    Skill.INFUSES: "gives infusions",
    Skill.PRESCRIBES: "prescribes",
    Skill.SUPERVISES: "supervises on site",
    Skill.HOME_VISITS: "makes home visits",
}
ON_SITE_SKILLS = frozenset({Skill.PRESCRIBES, Skill.SUPERVISES})

NEEDS_CHAIR = "A {type} needs a chair; choose one."
NEEDS_ROOM = "A {type} needs a room; choose one."
NO_CHAIR_OR_ROOM = "A {type} takes neither a chair nor a room; leave them empty."
HOME_NO_PLACE = "A home visit takes no chair or room."
HOME_NOT_ALLOWED = "A {type} is not given at home."
STAFF_LACKS_SKILL = (
    "{staff} is not recorded as someone who {skill}; a {type} needs that. Choose someone who does."
)
NO_PRESCRIBER_ON_SITE = (
    "No prescriber or supervising physician is on shift at {location} for all of {when}; a {type} needs one "
    "on site throughout. Choose a time when one is on shift, or add their shift first."
)
DURATION_RANGE = "An appointment of {value} minutes is outside {low}-{high} minutes."
CHAIR_AND_ROOM = "A {type} needs a chair or a room, not both."


class Problem(NamedTuple):
    """What is wrong with a booking, and the field of the request it is about."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class AppointmentRules:
    name: str
    duration_minutes: int
    needs_chair: bool = False
    needs_room: bool = False
    skill: Skill | None = None
    prescriber_on_site: bool = False
    at_home_allowed: bool = False

    def __post_init__(self) -> None:
        if not MIN_MINUTES <= self.duration_minutes <= MAX_MINUTES:
            raise ValidationError(
                DURATION_RANGE.format(value=self.duration_minutes, low=MIN_MINUTES, high=MAX_MINUTES),
                field="duration_minutes",
                value=self.duration_minutes,
            )
        if self.needs_chair and self.needs_room:
            raise ValidationError(
                CHAIR_AND_ROOM.format(type=self.name.lower()), field="needs_room", value=True
            )


def needs_problem(
    rules: AppointmentRules,
    *,
    chair: str | None,
    room: str | None,
    at_home: bool,
    staff: str,
    staff_skills: frozenset[Skill],
    prescriber_present: bool,
) -> Problem | None:
    """Why this appointment cannot be booked as asked (None when it can). ``prescriber_present`` says
    whether someone who prescribes or supervises is on shift at the location for the whole appointment."""
    kind = rules.name.lower()
    if at_home:
        if not rules.at_home_allowed:
            return Problem("at_home", HOME_NOT_ALLOWED.format(type=kind))
        if chair is not None or room is not None:
            return Problem("chair" if chair is not None else "room", HOME_NO_PLACE)
        if Skill.HOME_VISITS not in staff_skills:
            words = SKILL_WORDS[Skill.HOME_VISITS]
            return Problem("staff", STAFF_LACKS_SKILL.format(staff=staff, skill=words, type=kind))
    else:
        place = _place_problem(rules, chair=chair, room=room)
        if place is not None:
            return place
    if rules.skill is not None and rules.skill not in staff_skills:
        return Problem(
            "staff", STAFF_LACKS_SKILL.format(staff=staff, skill=SKILL_WORDS[rules.skill], type=kind)
        )
    return None


def _place_problem(rules: AppointmentRules, *, chair: str | None, room: str | None) -> Problem | None:
    kind = rules.name.lower()
    if rules.needs_chair and chair is None:
        return Problem("chair", NEEDS_CHAIR.format(type=kind))
    if rules.needs_room and room is None:
        return Problem("room", NEEDS_ROOM.format(type=kind))
    if chair is not None and not rules.needs_chair:
        words = NEEDS_ROOM.format(type=kind) if rules.needs_room else NO_CHAIR_OR_ROOM.format(type=kind)
        return Problem("chair", words)
    if room is not None and not rules.needs_room:
        words = NEEDS_CHAIR.format(type=kind) if rules.needs_chair else NO_CHAIR_OR_ROOM.format(type=kind)
        return Problem("room", words)
    return None


def check_prescriber_on_site(rules: AppointmentRules, *, present: bool, location: str, when: str) -> None:
    if rules.prescriber_on_site and not present:
        raise ValidationError(
            NO_PRESCRIBER_ON_SITE.format(location=location, when=when, type=rules.name.lower()),
            field="start",
            value=when,
        )
