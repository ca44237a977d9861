"""Discharge after an infusion: PADSS (Chung 1995, J Clin Anesth, PMID 8534468) plus escort and instructions.

PADSS has five items, each 0–2, total 0–10: vital signs (within ``vitals_within_percent`` of baseline = 2,
up to ``vitals_one_point_percent`` = 1, beyond = 0 — computed here from the baseline and the latest
reading: the largest relative difference of systolic, diastolic BP and heart rate); activity and mental
status; pain, nausea/vomiting (one item: the nurse scores pain and nausea/vomiting separately and the item
takes the worse of the two); bleeding (not applicable to infusions: always 2); intake and output. Fit when
the total reaches the protocol's pass score (9 of 10), the vitals are within ``vitals_within_percent`` of
baseline, the escort is present when required, the instructions were given, and the observation minimum
has passed since the infusion ended.

Discharge rests on evidence (``recovery_evidence``): a COMPLETE set of vital signs (blood pressure, heart
rate,
SpO2, respiratory rate) taken after the infusion stopped, no older than the protocol's
``recovery_vitals_max_age_min``, within the protocol's hold thresholds; every reading taken after that set
must
be within them too. The PADSS deviation compares every one of systolic, diastolic and heart rate: a reading
missing one of them cannot be compared (never "0 %"). A "fit" assessment is voided by any later reading that
breaks the thresholds or the deviation (``assessment_voided``), checked again at the moment of discharge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vitals import VitalReading, alerts_for
from ketaclinic.core.protocols.monitoring import DischargeSection, MonitoringSection, Vital

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
        if b is None or x is None or b <= 0:
            return None  # every compared vital in both, or no comparison at all (never a partial "0 %")
        diffs.append(abs(x - b) / b * 100.0)
    return max(diffs)


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


def discharge_assess(
    section: DischargeSection,
    *,
    scores: dict[str, int],
    baseline: VitalReading | None,
    latest: VitalReading | None,
    escort_present: bool,
    instructions_given: bool,
    minutes_since_infusion_end: float | None,
    recovery_problems: tuple[str, ...],
) -> DischargeDecision:
    """Score PADSS and decide; ``reasons`` says every criterion not met (empty when fit).

    ``latest`` is the recovery set of ``recovery_evidence`` and ``recovery_problems`` its problems (each a
    reason)."""
    for item in SCORED_BY_NURSE:
        value = scores.get(item)
        if isinstance(value, bool) or value not in (0, 1, 2):
            raise ValidationError(
                SCORE_RANGE.format(item=item.replace("_", " "), value=value), field=item, value=value
            )
    dev = deviation_percent(baseline, latest)
    full = {
        "vital_signs": vital_signs_score(dev, section),
        "activity_mental_status": scores["activity_mental_status"],
        "pain_nausea_vomiting": min(scores["pain"], scores["nausea_vomiting"]),
        "bleeding": 2,
        "intake_output": scores["intake_output"],
    }
    total = sum(full.values())
    reasons = list(recovery_problems)
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
        reasons.append(
            OBSERVATION_SHORT.format(elapsed=max(elapsed or 0.0, 0.0), minimum=section.observation_min)
        )
    return DischargeDecision(full, total, dev, not reasons, tuple(reasons))


COMPLETE_SET = (Vital.SYSTOLIC, Vital.DIASTOLIC, Vital.HEART_RATE, Vital.SPO2, Vital.RESPIRATORY_RATE)
RECOVERY_NONE = (
    "no complete set of vital signs taken after the infusion stopped (blood pressure, heart rate, SpO2 "
    "and respiratory rate are all needed)"
)
RECOVERY_OLD = (
    "the last complete recovery vital signs ({reading}) were taken {age:.0f} min ago; a set taken within "
    "the last {limit:g} min is needed"
)
RECOVERY_BREACH = (
    "the recovery reading {reading}, taken {age:.0f} min ago, is outside the discharge thresholds: {problem}"
)
VOIDED = (
    "the fit assessment is void: the reading {reading}, taken after it, is outside the discharge thresholds: "
    "{problem}"
)


@dataclass(frozen=True, slots=True)
class TimedReading:
    """A reading with the (timezone-aware) time it was taken and the time it was recorded (entered; a reading
    may be entered later than it was taken)."""

    taken_at: datetime
    reading: VitalReading
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecoveryEvidence:
    latest: VitalReading | None  # the latest complete set taken after the infusion stopped
    problems: tuple[str, ...]


def describe(reading: VitalReading) -> str:
    """The reading in a nurse's words, e.g. "BP 195/115 mmHg, HR 135/min"."""
    parts = []
    sys_, dia = reading.systolic_mmhg, reading.diastolic_mmhg
    if sys_ is not None or dia is not None:
        parts.append(f"BP {'?' if sys_ is None else f'{sys_:g}'}/{'?' if dia is None else f'{dia:g}'} mmHg")
    for label, value, unit in (
        ("HR", reading.heart_rate_bpm, "/min"),
        ("SpO2", reading.spo2_percent, "%"),
        ("RR", reading.respiratory_rate_per_min, "/min"),
    ):
        if value is not None:
            parts.append(f"{label} {value:g}{unit}")
    return ", ".join(parts) or "with no values"


def complete(reading: VitalReading) -> bool:
    return all(reading.value(v) is not None for v in COMPLETE_SET)


def threshold_problems(
    reading: VitalReading,
    monitoring: MonitoringSection,
    section: DischargeSection,
    baseline: VitalReading | None,
) -> tuple[str, ...]:
    """Why this reading is outside the discharge thresholds: the protocol's hold thresholds and, when it
    can be
    compared with the baseline, the PADSS deviation beyond ``vitals_within_percent``."""
    out = [a.message for a in alerts_for(reading, monitoring)]
    dev = deviation_percent(baseline, reading)
    if dev is not None and dev > section.vitals_within_percent:
        out.append(VITALS_FAR.format(percent=dev, limit=section.vitals_within_percent))
    return tuple(out)


def _age(now: datetime, at: datetime) -> float:
    return max((now - at).total_seconds() / 60.0, 0.0)


def recovery_evidence(
    readings: Sequence[TimedReading],
    *,
    ended_at: datetime | None,
    now: datetime,
    section: DischargeSection,
    monitoring: MonitoringSection,
    baseline: VitalReading | None,
) -> RecoveryEvidence:
    """The latest complete set taken after ``ended_at`` and why it does not support discharge (empty when
    it does):
    none, older than ``recovery_vitals_max_age_min``, or it or any later reading outside the thresholds."""
    after = sorted(
        (r for r in readings if ended_at is not None and ended_at < r.taken_at <= now),
        key=lambda r: r.taken_at,
    )
    full = [r for r in after if complete(r.reading)]
    if not full:
        return RecoveryEvidence(None, (RECOVERY_NONE,))
    last = full[-1]
    problems = []
    age = _age(now, last.taken_at)
    if age > section.recovery_vitals_max_age_min:
        problems.append(
            RECOVERY_OLD.format(
                reading=describe(last.reading), age=age, limit=section.recovery_vitals_max_age_min
            )
        )
    for r in after:
        if r.taken_at < last.taken_at:
            continue
        for p in threshold_problems(r.reading, monitoring, section, baseline):
            problems.append(
                RECOVERY_BREACH.format(reading=describe(r.reading), age=_age(now, r.taken_at), problem=p)
            )
    return RecoveryEvidence(last.reading, tuple(problems))


def assessment_voided(
    assessed_at: datetime,
    later: Sequence[TimedReading],
    *,
    section: DischargeSection,
    monitoring: MonitoringSection,
    baseline: VitalReading | None,
) -> tuple[str, ...]:
    """Why a fit assessment no longer holds: each reading taken or recorded after ``assessed_at`` (a reading
    entered after the assessment with an earlier time counts too) outside the thresholds."""
    out = []
    for r in sorted(later, key=lambda r: r.taken_at):
        if r.taken_at <= assessed_at and (r.recorded_at is None or r.recorded_at <= assessed_at):
            continue
        for p in threshold_problems(r.reading, monitoring, section, baseline):
            out.append(VOIDED.format(reading=describe(r.reading), problem=p))
    return tuple(out)


# Severe adverse events: each notifies the prescriber and blocks discharge until a prescriber reviews it.
SEVERE_KINDS = frozenset(
    {"desaturation_apnoea", "chest_pain", "allergic_reaction", "fall", "seizure", "emergence_reaction_severe"}
)
UNREVIEWED = "the {kind} recorded at {time} is not yet reviewed by a prescriber"


def review_required(kind: str, severity: str) -> bool:
    """A severe kind (whatever severity was chosen) or any event graded severe needs a prescriber's review."""
    return kind in SEVERE_KINDS or severity == "severe"
