"""Small presentation helpers for templates: field lookup, readable labels for codes."""

from __future__ import annotations

from typing import Any

from django import template

from ketaclinic.core.errors import DomainError
from ketaclinic.core.indications import indication_get

register = template.Library()

OUTCOME_LABELS = {"eligible": "Eligible", "not_eligible": "Not eligible", "needs_review": "Needs review"}


@register.filter
def getfield(form, name):  # type: ignore[no-untyped-def]
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
        questions = {q.code: q.question for q in screening.protocol_version.parsed.eligibility.contraindications}
    except (AttributeError, DomainError):
        pass
    return [(questions.get(code) or code_label(code), str(answer).capitalize())
            for code, answer in (screening.contraindication_answers or {}).items()]
