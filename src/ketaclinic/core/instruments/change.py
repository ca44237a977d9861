"""Change from baseline, response, remission, reliable change and relapse: pure functions on totals.

Definitions (each instrument's numbers live in its definition's ``change`` section):

* **percent change** = (baseline − current) / baseline × 100, so a fall in symptoms is a positive
  number; undefined (``None``) when the baseline is 0.
* **response** = the baseline is at least ``response_min_baseline`` and the total has fallen by at least
  ``response_drop_fraction`` of the baseline (PHQ-9: ≥ 50 % from a baseline ≥ 10, NQF 1884). Exactly
  50 % counts.
* **remission** = the baseline is at least ``remission_min_baseline`` and the total is below
  ``remission_below`` (PHQ-9: < 5 from a baseline ≥ 10, CMS159).
* **reliable change** = the total moved by at least ``reliable_change_points`` (PCL-5: 15, Marx et al.
  2022): ``"improved"`` or ``"worsened"``, else ``"no reliable change"``; ``None`` when the instrument
  gives no figure.
* **clinically important change** = the total fell by at least ``important_change_points`` (pain NRS:
  2 points, Farrar 2001).

A definition an instrument does not give yields ``None``, never ``False``: "not defined" is not "no".

**Relapse** (:func:`relapse_check`): once a response has been reached, the best (lowest) total from the
response onwards is the patient's best; a relapse is the latest total rising back toward the baseline by
at least ``threshold_fraction`` of the improvement achieved, i.e.
``current − best ≥ threshold_fraction × (baseline − best)``. The threshold is the protocol's (a
clinic default, no consensus source); exactly the threshold counts as relapse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments.registry import get_instrument
from ketaclinic.core.instruments.schema import Instrument

MSG_TOTAL_OUT_OF_RANGE = "{field}: {value} is outside the {name} total range {lo}..{hi}."
MSG_NOT_SUM_SCORED = "{name} is not scored as a total, so change from baseline does not apply."
MSG_THRESHOLD = "threshold_fraction: {value} is not allowed; it must be above 0 and at most 1."

ReliableChange = Literal["improved", "worsened", "no reliable change"]


@dataclass(frozen=True)
class ChangeFromBaseline:
    instrument: str
    baseline: float
    current: float
    change_points: float
    percent_change: float | None
    response: bool | None
    remission: bool | None
    reliable_change: ReliableChange | None
    important_improvement: bool | None


@dataclass(frozen=True)
class RelapseCheck:
    relapsed: bool
    responded_at: int | None
    best: float | None
    regained_fraction: float | None
    reason: str


def _sum_scored(instrument: Instrument) -> tuple[int, int]:
    lo, hi = instrument.scoring.min_total, instrument.scoring.max_total
    if instrument.scoring.method != "sum" or lo is None or hi is None:
        raise ValidationError(
            MSG_NOT_SUM_SCORED.format(name=instrument.name), field="instrument", value=instrument.id
        )
    return lo, hi


def _checked_total(instrument: Instrument, field: str, value: float) -> Fraction:
    lo, hi = _sum_scored(instrument)
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction) or not lo <= value <= hi:
        raise ValidationError(
            MSG_TOTAL_OUT_OF_RANGE.format(field=field, value=value, name=instrument.name, lo=lo, hi=hi),
            field=field,
            value=value,
        )
    return Fraction(value)


def _responded(instrument: Instrument, baseline: Fraction, current: Fraction) -> bool | None:
    c = instrument.change
    if c.response_drop_fraction is None:
        return None
    if c.response_min_baseline is not None and baseline < Fraction(c.response_min_baseline):
        return False
    if baseline == 0:
        return False
    return baseline - current >= Fraction(str(c.response_drop_fraction)) * baseline


def change_from_baseline_for(instrument: Instrument, baseline: float, current: float) -> ChangeFromBaseline:
    """Compare one total with the baseline total of the same instrument (definitions in the module
    docstring)."""
    b = _checked_total(instrument, "baseline", baseline)
    now = _checked_total(instrument, "current", current)
    c = instrument.change
    remission: bool | None = None
    if c.remission_below is not None:
        eligible = c.remission_min_baseline is None or b >= Fraction(c.remission_min_baseline)
        remission = eligible and now < Fraction(c.remission_below)
    reliable: ReliableChange | None = None
    if c.reliable_change_points is not None:
        step = Fraction(str(c.reliable_change_points))
        reliable = "improved" if b - now >= step else "worsened" if now - b >= step else "no reliable change"
    important = (
        None if c.important_change_points is None else b - now >= Fraction(str(c.important_change_points))
    )
    return ChangeFromBaseline(
        instrument=instrument.id,
        baseline=float(b),
        current=float(now),
        change_points=float(now - b),
        percent_change=None if b == 0 else round(float((b - now) / b * 100), 2),
        response=_responded(instrument, b, now),
        remission=remission,
        reliable_change=reliable,
        important_improvement=important,
    )


def change_from_baseline(instrument_id: str, baseline: float, current: float) -> ChangeFromBaseline:
    return change_from_baseline_for(get_instrument(instrument_id), baseline, current)


def relapse_check_for(
    instrument: Instrument, baseline: float, totals: Sequence[float], threshold_fraction: float
) -> RelapseCheck:
    """Has the latest of ``totals`` (after baseline, oldest first) relapsed after a response?"""
    if isinstance(threshold_fraction, bool) or not 0 < threshold_fraction <= 1:
        raise ValidationError(
            MSG_THRESHOLD.format(value=threshold_fraction),
            field="threshold_fraction",
            value=threshold_fraction,
        )
    if instrument.change.response_drop_fraction is None:
        raise ValidationError(
            MSG_NOT_SUM_SCORED.format(name=instrument.name), field="instrument", value=instrument.id
        )
    b = _checked_total(instrument, "baseline", baseline)
    checked = [_checked_total(instrument, f"totals[{i}]", t) for i, t in enumerate(totals)]
    responded_at = next((i for i, t in enumerate(checked) if _responded(instrument, b, t)), None)
    if responded_at is None:
        return RelapseCheck(False, None, None, None, "no response yet, so no relapse")
    if responded_at == len(checked) - 1:
        return RelapseCheck(False, responded_at, float(checked[-1]), 0.0, "the latest total is the response")
    best = min(checked[responded_at:-1])
    current = checked[-1]
    regained = (current - best) / (b - best) if b > best else Fraction(0)
    relapsed = regained >= Fraction(str(threshold_fraction))
    reason = (
        f"rose from {float(best):g} to {float(current):g}, {float(regained) * 100:.0f}% of the way back to "
        f"the baseline {float(b):g} (threshold {threshold_fraction * 100:g}%)"
    )
    return RelapseCheck(relapsed, responded_at, float(best), round(float(regained), 4), reason)


def relapse_check(
    instrument_id: str, baseline: float, totals: Sequence[float], threshold_fraction: float
) -> RelapseCheck:
    return relapse_check_for(get_instrument(instrument_id), baseline, totals, threshold_fraction)
