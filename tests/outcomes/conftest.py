"""Helpers for the outcomes tests: PHQ-9 answers with a given total and item 9, recorded at given times."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone


def phq9(total: int, item9: int = 0) -> list[int | None]:
    """Nine answers summing to ``total`` with item 9 = ``item9``."""
    rest = total - item9
    assert 0 <= rest <= 24
    answers = []
    for _ in range(8):
        a = min(3, rest)
        answers.append(a)
        rest -= a
    return [*answers, item9]


def gad7(total: int) -> list[int | None]:
    rest, answers = total, []
    for _ in range(7):
        a = min(3, rest)
        answers.append(a)
        rest -= a
    return answers


def at(days: float, base: datetime | None = None) -> datetime:
    base = base or timezone.make_aware(datetime(2026, 3, 2, 10, 0))
    return base + timedelta(days=days)
