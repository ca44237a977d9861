"""Discharge after an infusion: PADSS (Chung 1995, J Clin Anesth, PMID 8534468) plus escort and instructions.

PADSS has five items, each 0–2, total 0–10: vital signs (within ``vitals_within_percent`` of baseline = 2,
up to ``vitals_one_point_percent`` = 1, beyond = 0 — computed here from the baseline and the latest
reading: the largest relative difference of systolic, diastolic BP and heart rate); activity and mental
status; pain, nausea/vomiting (one item: the nurse scores pain and nausea/vomiting separately and the item
takes the worse of the two); bleeding (not applicable to infusions: always 2); intake and output. Fit when
the total reaches the protocol's pass score (9 of 10), the vitals are within ``vitals_within_percent`` of
baseline, the escort is present when required, the instructions were given, and the observation minimum
has passed since the infusion ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vitals import VitalReading
from ketaclinic.core.protocols.monitoring import DischargeSection, Vital

PADSS_ITEMS = ("vital_signs", "activity_mental_status", "pain_nausea_vomiting", "bleeding", "intake_output")
SCORED_BY_NURSE = ("activity_mental_status", "pain", "nausea_vomiting", "intake_output")
SCORE_RANGE = "PADSS {item} score {value!r} must be 0, 1 or 2."
NEEDS_BASELINE = "vital signs cannot be compared: baseline or latest reading missing"
BELOW_PASS = "PADSS total {total} is below the pass score {score}"
NO_ESCORT = "no escort present (the protocol requires one)"
NO_INSTRUCTIONS = "discharge instructions not given"
OBSERVATION_SHORT = "observation {elapsed:.0f} min is shorter than the protocol's {minimum:g} min"
VITALS_FAR = "vital signs {percent:.0f}% from baseline (within {limit:g}% expected)"

COMPARED = (Vital.SYSTOLIC, Vital.DIASTOLIC, Vital.HEART_RATE)


def deviation_percent(baseline: VitalReading | None, latest: VitalReading | None) -> float | None:
    """The largest |latest − baseline| / baseline × 100 over systolic, diastolic and heart rate."""
    if baseline is None or latest is None:
        return None
    diffs = []
    for v in COMPARED:
        b, x = baseline.value(v), latest.value(v)
        if b is not None and x is not None and b > 0:
            diffs.append(abs(x - b) / b * 100.0)
    return max(diffs) if diffs else None


def vital_signs_score(deviation: float | None, section: DischargeSection) -> int:
    if deviation is None:
        return 0
    if deviation <= section.vitals_within_percent:
        return 2
    if deviation <= section.vitals_one_point_percent:
        return 1
    return 0


@dataclass(frozen=True, slots=True)
class DischargeDecision:
    scores: dict[str, int]
    total: int
    deviation_percent: float | None
    fit: bool
    reasons: tuple[str, ...]


def discharge_assess(section: DischargeSection, *, scores: dict[str, int], baseline: VitalReading | None,
                     latest: VitalReading | None, escort_present: bool, instructions_given: bool,
                     minutes_since_infusion_end: float | None) -> DischargeDecision:
    """Score PADSS and decide; ``reasons`` says every criterion not met (empty when fit)."""
    for item in SCORED_BY_NURSE:
        value = scores.get(item)
        if isinstance(value, bool) or value not in (0, 1, 2):
            raise ValidationError(SCORE_RANGE.format(item=item.replace("_", " "), value=value), field=item, value=value)
    dev = deviation_percent(baseline, latest)
    full = {"vital_signs": vital_signs_score(dev, section), "activity_mental_status": scores["activity_mental_status"],
            "pain_nausea_vomiting": min(scores["pain"], scores["nausea_vomiting"]), "bleeding": 2,
            "intake_output": scores["intake_output"]}
    total = sum(full.values())
    reasons = []
    if dev is None:
        reasons.append(NEEDS_BASELINE)
    elif dev > section.vitals_within_percent:
        reasons.append(VITALS_FAR.format(percent=dev, limit=section.vitals_within_percent))
    if total < section.padss_pass_score:
        reasons.append(BELOW_PASS.format(total=total, score=section.padss_pass_score))
    if section.escort_required and not escort_present:
        reasons.append(NO_ESCORT)
    if not instructions_given:
        reasons.append(NO_INSTRUCTIONS)
    elapsed = minutes_since_infusion_end
    if elapsed is None or elapsed < section.observation_min:
        reasons.append(OBSERVATION_SHORT.format(elapsed=max(elapsed or 0.0, 0.0), minimum=section.observation_min))
    return DischargeDecision(full, total, dev, not reasons, tuple(reasons))
