"""Scoring one administration of an instrument: pure functions over the definition and the answers.

``score(instrument_id, answers)`` takes one answer per item, in the definition's item order, with
``None`` for an unanswered or skipped item, and returns a frozen :class:`Score`. Everything it refuses
(unknown instrument, wrong number of answers, a value not among the item's options, an answer to an item
that branching skips, more missing items than the instrument's rule allows) raises
:class:`~ketaclinic.core.errors.ValidationError` naming the item, the value and what is allowed.

Missing items (``missing.method: prorate_mean``, e.g. the PHQ-9 rule of the NHS Data Dictionary): each
missing item takes the mean of the answered items, so the total is ``sum(answered) × n / answered``. The
total is kept exact (a :class:`fractions.Fraction`) for band and threshold decisions and reported rounded
to two decimals; a prorated total falls into the band whose lower bound it has reached (9.5 is "mild",
not rounded up into "moderate").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments.registry import get_instrument
from ketaclinic.core.instruments.schema import Instrument, Rule

MSG_WRONG_COUNT = "{name} has {expected} items; {given} answers were given."
MSG_OUT_OF_RANGE = "{item}: {value} is not an allowed answer; allowed are {allowed}."
MSG_NOT_AN_INTEGER = "{item}: {value!r} is not a whole number; allowed are {allowed}."
MSG_SKIPPED_ANSWERED = "{item}: answered ({value}) although it is asked only when {condition}."
MSG_TOO_MANY_MISSING = (
    "{name}: {missing} items unanswered ({items}); at most {allowed} may be missing, so it cannot be scored."
)
MSG_MISSING_REFUSED = "{name}: {items} unanswered; every item is required, so it cannot be scored."


@dataclass(frozen=True)
class Score:
    """The result of scoring one administration."""

    instrument: str
    version: int
    total: float | None
    severity: str | None
    flags: tuple[str, ...]
    prorated: bool
    missing_items: tuple[str, ...]
    skipped_items: tuple[str, ...]
    subscores: Mapping[str, int] = field(default_factory=dict)
    validated: bool = True
    loinc_panel: str | None = None
    loinc_result: str | None = None
    exact_total: Fraction | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        total: float | int | None = self.total
        if total is not None and float(total).is_integer():
            total = int(total)
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": total,
            "severity": self.severity,
            "flags": list(self.flags),
            "prorated": self.prorated,
            "missing_items": list(self.missing_items),
            "skipped_items": list(self.skipped_items),
            "subscores": dict(self.subscores),
            "validated": self.validated,
            "loinc": {"panel": self.loinc_panel, "result": self.loinc_result},
        }


def _describe(rule: Rule) -> str:
    return " or ".join(
        " and ".join(
            f"{c.item} = {c.equals}" if c.equals is not None else f"{c.item} >= {c.at_least}" for c in clause
        )
        for clause in rule.any_of
    )


def _checked_answers(instrument: Instrument, answers: Sequence[int | None]) -> dict[str, int | None]:
    if isinstance(answers, str | bytes) or len(answers) != len(instrument.items):
        given = len(answers) if not isinstance(answers, str | bytes) else "text, not a list of"
        raise ValidationError(
            MSG_WRONG_COUNT.format(name=instrument.name, expected=len(instrument.items), given=given),
            field="answers",
            value=answers,
        )
    by_code: dict[str, int | None] = {}
    for item, value in zip(instrument.items, answers, strict=True):
        allowed = ", ".join(str(v) for v in item.allowed())
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(
                    MSG_NOT_AN_INTEGER.format(item=item.code, value=value, allowed=allowed),
                    field=item.code,
                    value=value,
                )
            if value not in item.allowed():
                raise ValidationError(
                    MSG_OUT_OF_RANGE.format(item=item.code, value=value, allowed=allowed),
                    field=item.code,
                    value=value,
                )
        by_code[item.code] = value
    return by_code


def questions_words(instrument: Instrument, codes: Sequence[str]) -> str:
    """Items as the person answering sees them, by number: "question 2", "questions 2, 4 and 6"."""
    numbers = [str(n) for n, item in enumerate(instrument.items, start=1) if item.code in codes]
    if len(numbers) == 1:
        return f"question {numbers[0]}"
    return f"questions {', '.join(numbers[:-1])} and {numbers[-1]}"


def score_instrument(instrument: Instrument, answers: Sequence[int | None]) -> Score:
    """Score one administration of ``instrument`` (see the module docstring for the rules)."""
    by_code = _checked_answers(instrument, answers)
    skipped: list[str] = []
    missing: list[str] = []
    for item in instrument.items:
        asked = item.ask_if is None or item.ask_if.holds(by_code)
        value = by_code[item.code]
        if not asked:
            if value is not None:
                assert item.ask_if is not None
                raise ValidationError(
                    MSG_SKIPPED_ANSWERED.format(
                        item=item.code, value=value, condition=_describe(item.ask_if)
                    ),
                    field=item.code,
                    value=value,
                )
            skipped.append(item.code)
        elif value is None:
            missing.append(item.code)
    rule = instrument.missing
    if missing and rule.method == "refuse":
        raise ValidationError(
            MSG_MISSING_REFUSED.format(name=instrument.name, items=questions_words(instrument, missing)),
            field="answers",
            value=missing,
        )
    if len(missing) > rule.max_missing:
        raise ValidationError(
            MSG_TOO_MANY_MISSING.format(
                name=instrument.name,
                missing=len(missing),
                items=questions_words(instrument, missing),
                allowed=rule.max_missing,
            ),
            field="answers",
            value=missing,
        )
    exact: Fraction | None = None
    severity: str | None = None
    if instrument.scoring.method == "sum":
        answered = [v for v in by_code.values() if v is not None]
        exact = Fraction(sum(answered))
        if missing:
            exact = exact * len(instrument.items) / len(answered)
        severity = next((b.label for b in reversed(instrument.bands) if exact >= Fraction(b.min)), None)
    else:
        severity = next(
            level.label
            for level in instrument.scoring.classification
            if level.rule is None or level.rule.holds(by_code)
        )
    flags = tuple(
        f.id
        for f in instrument.flags
        if (f.rule is not None and f.rule.holds(by_code))
        or (severity is not None and severity in f.severity_in)
    )
    subscores = {
        s.id: sum(by_code[c] or 0 for c in s.items)
        for s in instrument.subscales
        if all(by_code[c] is not None for c in s.items)
    }
    return Score(
        instrument=instrument.id,
        version=instrument.version,
        total=None if exact is None else round(float(exact), 2),
        severity=severity,
        flags=flags,
        prorated=bool(missing),
        missing_items=tuple(missing),
        skipped_items=tuple(skipped),
        subscores=subscores,
        validated=instrument.validated,
        loinc_panel=instrument.loinc_panel,
        loinc_result=instrument.loinc_result,
        exact_total=exact,
    )


def score(instrument_id: str, answers: Sequence[int | None]) -> Score:
    """Score one administration of a shipped instrument by id; see :func:`score_instrument`."""
    return score_instrument(get_instrument(instrument_id), answers)
