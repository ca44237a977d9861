"""``{% staff_skills_card member %}``: the skills card on the admin's staff record page (the accounts app
cannot import the front desk's models; the page's template loads this tag instead)."""

from __future__ import annotations

from django import template

from ketaclinic.accounts.models import User
from ketaclinic.core.scheduling.needs import SKILL_WORDS, Skill
from ketaclinic.scheduling.models import StaffSkills

register = template.Library()

LABELS = {
    Skill.INFUSES: ("Gives infusions", "Can be booked for infusions, boosters and esketamine sessions."),
    Skill.PRESCRIBES: (
        "Prescribes",
        "Consultations, follow-ups and nerve blocks; counts as a prescriber on site.",
    ),
    Skill.SUPERVISES: (
        "Supervises on site",
        "A physician supervising infusions; counts as a prescriber on site.",
    ),
    Skill.HOME_VISITS: ("Makes home visits", "Can be booked for home infusions from a mobile location."),
}


@register.inclusion_tag("scheduling/resources/skills_card.html")
def staff_skills_card(member: User) -> dict[str, object]:
    row = StaffSkills.objects.filter(user=member).first()
    have = row.skills() if row is not None else frozenset()
    return {
        "member": member,
        "skills": [(s.value, LABELS[s][0], LABELS[s][1], s in have) for s in Skill],
        "words": SKILL_WORDS,
    }
