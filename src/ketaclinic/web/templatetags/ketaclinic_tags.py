"""Small presentation helpers for templates: field lookup, readable labels for codes."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms, template
from django.forms import BoundField

from ketaclinic.base.time_zones import zone_words
from ketaclinic.core.errors import DomainError
from ketaclinic.core.indications import indication_get

register = template.Library()

OUTCOME_LABELS = {"eligible": "Eligible", "not_eligible": "Not eligible", "needs_review": "Needs review"}


@register.filter
def getfield(form: forms.BaseForm, name: str) -> BoundField:
    """A bound field of ``form`` by name (for fields built from protocol data)."""
    return form[name]


@register.filter
def code_label(code: str) -> str:
    """``needs_review`` → ``Needs review``: a readable label for a code with no display name."""
    text = str(code).replace("_", " ").strip()
    return OUTCOME_LABELS.get(str(code), text[:1].upper() + text[1:])


@register.filter
def indication_label(code: str) -> str:
    """The clinic's name for an indication code (``trd`` → ``Treatment-resistant depression``)."""
    try:
        return indication_get(str(code)).label
    except DomainError:
        return code_label(code)


@register.simple_tag
def contraindication_answers(screening: Any) -> list[tuple[str, str]]:
    """(question as the protocol asked it, answer) for each contraindication answered in ``screening``."""
    questions: dict[str, str] = {}
    try:
        questions = {
            q.code: q.question for q in screening.protocol_version.parsed.eligibility.contraindications
        }
    except (AttributeError, DomainError):
        pass
    return [
        (questions.get(code) or code_label(code), str(answer).capitalize())
        for code, answer in (screening.contraindication_answers or {}).items()
    ]


_NOTES = {
    "1": "care pathway",
    "2": "dosing",
    "3": "pharmacokinetics",
    "4": "monitoring and discharge",
    "5": "rating scales",
    "6": "clinical codes",
    "7": "controlled substances",
    "8": "privacy and security",
}
_CITATIONS = (
    # our sourced-facts file, by section: named by subject, not by file
    (
        re.compile(r"DOMAIN\.md\s*§\s*(\d)"),
        lambda m: f"ketaclinic reference notes, {_NOTES.get(m[1], 'section ' + m[1])}",
    ),
    (re.compile(r"DOMAIN\.md"), lambda m: "ketaclinic reference notes"),
    # the published pathways of the clinics surveyed (numbered files in the project)
    (re.compile(r"\bseeds?\s+\d{3}(?:\s*(?:,|/|and)\s*\d{3})*"), lambda m: "published clinic pathways"),
    # a project issue number: what it asked for is said in words next to it, or it is a clinic requirement
    (re.compile(r"\s*\(issue \d+\)"), lambda m: ""),
    (re.compile(r"\bissue \d+\b"), lambda m: "clinic requirement"),
    # a module path
    (re.compile(r"\bketaclinic(?:\.\w+)+"), lambda m: "ketaclinic's interaction list"),
)


@register.filter
def for_people(text: Any) -> str:
    """A protocol's source or changelog in words for people: no file names, issue numbers or module paths
    (the protocol document keeps them for the engineers who maintain it)."""
    out = str(text or "")
    for pattern, words in _CITATIONS:
        out = pattern.sub(words, out)
    return out


@register.filter
def zone_name(zone: Any, moments: Any = None) -> str:
    """``{{ location.timezone|zone_name:week.days }}``: the zone in words with its abbreviation on the dates
    shown, "New York time, EST" (a date, a datetime, or a list of them or of calendar days), never the key."""
    given = moments if isinstance(moments, list | tuple) else [] if moments in (None, "") else [moments]
    found = [m if isinstance(m, date) else getattr(m, "day", None) for m in given]  # a calendar's Day
    return zone_words(zone, [m for m in found if isinstance(m, date)])
