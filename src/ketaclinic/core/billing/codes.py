"""Codes computed, not typed (issue 14): CPT infusion codes from the real start and stop, the drug's HCPCS
code and units from the dose given, ICD-10-CM diagnosis codes checked against the CMS tabular.

Rules and sources (DOMAIN.md §6; docs/billing-codes.md explains each with its source):

* CPT 96365 "IV infusion, for therapy, prophylaxis, or diagnosis; initial, up to 1 hour". An infusion of
  15 minutes or less is reported as a push, 96374 (CPT introductory guidelines for 96360–96379: "an
  intravenous or intra-arterial push is defined as ... an infusion of 15 minutes or less"), so 96365 needs
  16 minutes or more. [C]
* CPT 96366 "each additional hour": reported for an interval of more than 30 minutes beyond each full hour
  (CPT guideline "for each additional hour, ... infusion intervals of greater than 30 minutes beyond 1-hour
  increments"): 91–150 min → 1 unit, 151–210 min → 2 units. [S]
* One initial code per encounter (96365 or 96374, never both for one infusion). [S]
* Time counts whole minutes from the real start to the real stop; a part minute does not count (time
  billed is never rounded up).
* HCPCS J3490 "unclassified drugs" for ketamine, 1 unit, with the drug's name, NDC and milligrams in the
  claim note (payers' instructions for unclassified drug codes). [S]
* HCPCS J0013 "esketamine, nasal spray, 1 mg" from 2026-01-01, S0013 (same descriptor) before; units = mg
  given — for Medicaid and commercial payers. Medicare instead pays G2082 (up to 56 mg) / G2083 (more than
  56 mg): the esketamine visit with the drug and 2 hours of post-administration observation bundled (CMS
  Physician Fee Schedule 2020 final rule), so a Medicare claim carries the G-code and no drug line. [S]/[C]
* ICD-10-CM FY2026 via the ``simple-icd-10-cm`` package (it ships the CMS FY2026 tabular): only billable
  (leaf) codes, and only in the families that fit the screened indication. There is no ICD-10-CM code for
  treatment-resistant depression: F32/F33 with the failed trials documented. [C]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.indications import indication_get
from ketaclinic.core.input_rules import shown

with warnings.catch_warnings():  # the package imports pkg_resources, which warns that it is deprecated
    warnings.simplefilter("ignore")
    import simple_icd_10_cm as icd

__all__ = [
    "ESKETAMINE_DEVICE_MG",
    "ESKETAMINE_VISIT_THRESHOLD_MG",
    "INDICATION_ICD10CM_FAMILIES",
    "J0013_FROM",
    "PUSH_MAX_MINUTES",
    "CodeLine",
    "CodeSystem",
    "Drug",
    "diagnoses_for",
    "diagnosis_check",
    "drug_lines",
    "infusion_cpt_lines",
    "infusion_minutes",
]


class CodeSystem(StrEnum):
    CPT = "CPT"
    HCPCS = "HCPCS"
    ICD10CM = "ICD-10-CM"


class Drug(StrEnum):
    KETAMINE = "ketamine"  # racemic ketamine hydrochloride, IV
    ESKETAMINE = "esketamine"  # esketamine nasal spray (Spravato), 28 mg per device


@dataclass(frozen=True, slots=True)
class CodeLine:
    """One code on a superbill or claim line: ``units`` of ``code``; ``note`` carries what the payer needs
    with an unclassified code (drug name, NDC, mg); ``source`` names the rule's source."""

    system: CodeSystem
    code: str
    units: int
    description: str
    source: str
    note: str = ""
    modifiers: tuple[str, ...] = field(default=())
    ndc: str = ""  # 11 digits (5-4-2), for a drug line given with its NDC


#: An infusion this long or shorter is a push (CPT 96360–96379 guidelines).
PUSH_MAX_MINUTES = 15
#: The initial hour of 96365.
INITIAL_HOUR_MINUTES = 60
#: 96366 is reported for an interval of more than this many minutes beyond each full hour.
ADDITIONAL_HOUR_THRESHOLD_MINUTES = 30
#: A typo guard: an infusion visit longer than this is refused.
INFUSION_MAX_MINUTES = 24 * 60

SOURCE_PUSH = "CPT 96360–96379 guidelines: an infusion of 15 minutes or less is a push (DOMAIN.md §6)"
SOURCE_96365 = "CPT 96365: initial hour, needs more than 15 minutes (DOMAIN.md §6)"
SOURCE_96366 = "CPT 96366: each additional hour, for more than 30 minutes beyond each hour (DOMAIN.md §6)"

CPT_DESCRIPTIONS = {
    "96365": "IV infusion, therapy/prophylaxis/diagnosis; initial, up to 1 hour",
    "96366": "IV infusion, therapy/prophylaxis/diagnosis; each additional hour",
    "96374": "IV push, single or initial substance/drug",
}

TIME_NAIVE = "The infusion {label} time {value} has no time zone: give the time with its zone."
TIME_BACKWARDS = (
    "The infusion stop time {stop} is not after its start time {start}: the stop must be after the start."
)
TIME_TOO_LONG = (
    "The infusion lasted {minutes:,} minutes; at most {limit:,} minutes are allowed: check the times."
)


def infusion_minutes(start: datetime, stop: datetime) -> int:
    """Whole minutes from start to stop (a part minute does not count), counted in real elapsed time."""
    for label, value in (("start", start), ("stop", stop)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(TIME_NAIVE.format(label=label, value=value), field=label, value=value)
    # in UTC: two times with the same zone are compared on the wall clock by Python, which is wrong across a
    # daylight-saving change (01:50 EDT to 01:10 EST is 20 minutes, not −40)
    start_utc, stop_utc = start.astimezone(UTC), stop.astimezone(UTC)
    if stop_utc <= start_utc:
        raise ValidationError(TIME_BACKWARDS.format(start=start, stop=stop), field="stop", value=stop)
    minutes = int((stop_utc - start_utc).total_seconds() // 60)
    if minutes > INFUSION_MAX_MINUTES:
        raise ValidationError(
            TIME_TOO_LONG.format(minutes=minutes, limit=INFUSION_MAX_MINUTES), field="stop", value=stop
        )
    return minutes


def additional_hours(minutes: int) -> int:
    """Units of 96366 for an infusion of ``minutes``: one per interval of more than 30 minutes beyond each
    full hour (91–150 → 1, 151–210 → 2, ...)."""
    beyond = minutes - INITIAL_HOUR_MINUTES
    if beyond <= ADDITIONAL_HOUR_THRESHOLD_MINUTES:
        return 0
    return (beyond - ADDITIONAL_HOUR_THRESHOLD_MINUTES - 1) // 60 + 1


def infusion_cpt_lines(start: datetime, stop: datetime) -> tuple[CodeLine, ...]:
    """The CPT lines for one IV infusion from its real start and stop (one initial code per encounter)."""
    minutes = infusion_minutes(start, stop)
    if minutes <= PUSH_MAX_MINUTES:
        return (
            CodeLine(CodeSystem.CPT, "96374", 1, CPT_DESCRIPTIONS["96374"], SOURCE_PUSH, f"{minutes} min"),
        )
    lines = [CodeLine(CodeSystem.CPT, "96365", 1, CPT_DESCRIPTIONS["96365"], SOURCE_96365, f"{minutes} min")]
    extra = additional_hours(minutes)
    if extra:
        lines.append(CodeLine(CodeSystem.CPT, "96366", extra, CPT_DESCRIPTIONS["96366"], SOURCE_96366))
    return tuple(lines)


# --- drugs ------------------------------------------------------------------------------------------------

#: J0013 replaced S0013 for esketamine nasal spray on this day (HCPCS 2026 annual update; DOMAIN.md §6).
J0013_FROM = date(2026, 1, 1)
#: Each Spravato device holds 28 mg (label; DOMAIN.md §2).
ESKETAMINE_DEVICE_MG = 28
#: G2082 covers up to 56 mg, G2083 more than 56 mg (CMS PFS 2020; DOMAIN.md §6).
ESKETAMINE_VISIT_THRESHOLD_MG = 56
#: Typo guards on a dose given in one session.
KETAMINE_MAX_MG = Decimal(1000)
ESKETAMINE_MAX_MG = 112

SOURCE_J3490 = (
    "HCPCS J3490 unclassified drug, used for ketamine: 1 unit, drug and mg in the note (DOMAIN.md §6)"
)
SOURCE_J0013 = "HCPCS J0013 esketamine nasal spray 1 mg, from 2026-01-01 (DOMAIN.md §6)"
SOURCE_S0013 = "HCPCS S0013 esketamine nasal spray 1 mg, before 2026-01-01 (DOMAIN.md §6)"
SOURCE_G2082 = (
    "HCPCS G2082/G2083 esketamine visit, up to / more than 56 mg, with 2 h observation (DOMAIN.md §6)"
)

DOSE_NOT_POSITIVE = "Dose given {value} mg is not allowed: give the milligrams given, more than 0 mg."
DOSE_TOO_LARGE = "Dose given {value} mg is more than {limit} mg, the most allowed for {drug}: check the dose."
DOSE_NOT_DEVICES = (
    "Esketamine dose {value} mg is not a whole number of {device} mg devices: give 28, 56, 84 or 112 mg."
)
DOSE_IS_FLOAT = "Dose given {value} was given as a floating-point number: give it as text or a Decimal."
NDC_INVALID = "NDC {value!r} is not valid: an NDC has 10 or 11 digits (dashes allowed), e.g. 0409-2051-05."


def _dose(dose_mg: Decimal | int, limit: Decimal, drug: Drug) -> Decimal:
    if isinstance(dose_mg, float):
        raise ValidationError(DOSE_IS_FLOAT.format(value=dose_mg), field="dose_mg", value=dose_mg)
    if isinstance(dose_mg, bool) or not isinstance(dose_mg, Decimal | int):
        raise ValidationError(DOSE_NOT_POSITIVE.format(value=shown(dose_mg)), field="dose_mg", value=dose_mg)
    dose = Decimal(dose_mg)
    if not dose.is_finite() or dose <= 0:
        raise ValidationError(DOSE_NOT_POSITIVE.format(value=dose), field="dose_mg", value=dose)
    if dose > limit:
        raise ValidationError(
            DOSE_TOO_LARGE.format(value=dose, limit=limit, drug=drug.value), field="dose_mg", value=dose
        )
    return dose


def ndc_check(value: str | None) -> str:
    """An NDC as the 11-digit 5-4-2 billing form's digits (claims carry it unhyphenated), "" when none."""
    text = (value or "").strip()
    if not text:
        return ""
    parts = text.split("-")
    digits = "".join(parts)
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (10, 11):
        raise ValidationError(NDC_INVALID.format(value=shown(text)), field="ndc", value=text)
    if len(digits) == 11:
        return digits
    if len(parts) != 3:
        raise ValidationError(NDC_INVALID.format(value=shown(text)), field="ndc", value=text)
    labeler, product, package = parts  # 4-4-2, 5-3-2 or 5-4-1 → 5-4-2 by a leading zero
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)


def drug_lines(
    drug: Drug,
    dose_mg: Decimal | int,
    on_day: date,
    *,
    ndc: str | None = None,
    medicare: bool = False,
) -> tuple[CodeLine, ...]:
    """The HCPCS lines for the drug given in one session, by the code in force on ``on_day``.

    Ketamine: J3490 × 1 with the drug and mg in the note. Esketamine billed to Medicare: one G2082 (up to
    56 mg) or G2083 (more than 56 mg) line, which *includes* the drug and the 2-hour observation (CMS PFS
    2020), so no drug line is added (billing both would bill the drug twice; S-codes are not paid by
    Medicare).
    Esketamine billed to any other payer: J0013 (S0013 before 2026-01-01) × the mg given; the visit and
    observation are billed with the payer's own E/M codes, which the clinician chooses.
    """
    drug = Drug(drug)
    ndc_digits = ndc_check(ndc)
    if drug is Drug.KETAMINE:
        dose = _dose(dose_mg, KETAMINE_MAX_MG, drug)
        note = f"ketamine hydrochloride {dose.normalize():f} mg IV"
        return (
            CodeLine(
                CodeSystem.HCPCS,
                "J3490",
                1,
                "Unclassified drugs (ketamine)",
                SOURCE_J3490,
                note,
                ndc=ndc_digits,
            ),
        )
    dose = _dose(dose_mg, Decimal(ESKETAMINE_MAX_MG), drug)
    if dose != dose.to_integral_value() or int(dose) % ESKETAMINE_DEVICE_MG:
        raise ValidationError(
            DOSE_NOT_DEVICES.format(value=dose, device=ESKETAMINE_DEVICE_MG), field="dose_mg", value=dose
        )
    mg = int(dose)
    note = f"esketamine nasal spray {mg} mg"
    if medicare:
        visit = "G2082" if mg <= ESKETAMINE_VISIT_THRESHOLD_MG else "G2083"
        words = "up to" if visit == "G2082" else "more than"
        description = f"Esketamine visit, {words} 56 mg, drug and 2 hours of observation included"
        return (CodeLine(CodeSystem.HCPCS, visit, 1, description, SOURCE_G2082, note, ndc=ndc_digits),)
    code, source = ("J0013", SOURCE_J0013) if on_day >= J0013_FROM else ("S0013", SOURCE_S0013)
    return (
        CodeLine(CodeSystem.HCPCS, code, mg, "Esketamine, nasal spray, 1 mg", source, note, ndc=ndc_digits),
    )


# --- diagnoses ----------------------------------------------------------------------------------------------

#: ICD-10-CM families (a code's leading characters) that fit each screened indication (DOMAIN.md §6;
#: the indications' examples in core/indications.py). Every code offered and accepted is a billable (leaf)
#: code under these categories in the CMS FY2026 ICD-10-CM tabular, as shipped by ``simple-icd-10-cm``
#: (source: CMS, "2026 ICD-10-CM", Tabular List; category titles below are the tabular's own).
INDICATION_ICD10CM_FAMILIES: dict[str, tuple[str, ...]] = {
    # F32 "Major depressive disorder, single episode", F33 "... recurrent"; no code for TRD exists (§6)
    "trd": ("F32", "F33"),
    "mdd": ("F32", "F33"),
    "bipolar_depression": ("F31",),  # F31 "Bipolar disorder" (the category itself is not billable)
    "ptsd": ("F43.1",),  # F43.1 "Post-traumatic stress disorder (PTSD)": F43.10, F43.11, F43.12
    "ocd": ("F42",),  # F42 "Obsessive-compulsive disorder"
    "anxiety": ("F41",),  # F41 "Other anxiety disorders" (F41.1 generalized anxiety disorder)
    "postpartum_depression": ("F53",),  # F53 "Mental and behavioral disorders associated with the puerperium"
    "crps": ("G90.5",),  # G90.5 "Complex regional pain syndrome I (CRPS I)", limb sub-codes G90.50–G90.59
    # G89 "Pain, not elsewhere classified"; G62 "Other and unspecified polyneuropathies"; G56/G57
    # mononeuropathies of the upper/lower limb; G58 "Other mononeuropathies"; M79.2 "Neuralgia and neuritis"
    "neuropathic_pain": ("G89", "G62", "G56", "G57", "G58", "M79.2"),
    "fibromyalgia": ("M79.7",),  # M79.7 "Fibromyalgia", a leaf code
    "migraine": ("G43",),  # G43 "Migraine" ("refractory" is coded as intractable)
    "chronic_pain_other": ("G89",),
}
ICD10CM_SOURCE = "CMS FY2026 ICD-10-CM tabular list (simple-icd-10-cm); DOMAIN.md §6"


@cache
def diagnoses_for(indication: str) -> tuple[tuple[str, str], ...]:
    """The billable ICD-10-CM codes that fit a screened indication, each with the tabular's description, in
    the tabular's order: the list a prescriber chooses from at screening."""
    indication_get(indication)
    codes: list[tuple[str, str]] = []
    for family in INDICATION_ICD10CM_FAMILIES.get(indication, ()):
        for code in (family, *icd.get_descendants(family)):
            if icd.is_leaf(code):
                codes.append((icd.add_dot(code), str(icd.get_description(code))))
    return tuple(codes)


DIAGNOSIS_UNKNOWN = (
    "Diagnosis code {value!r} is not an ICD-10-CM code: "
    "give a code such as F33.1 (letters, digits and a dot)."
)
DIAGNOSIS_NOT_BILLABLE = (
    "Diagnosis code {value} ({description}) is a heading, not a billable code: choose one of its more "
    "specific codes, e.g. {examples}."
)
DIAGNOSIS_NOT_FOR_INDICATION = (
    "Diagnosis code {value} ({description}) does not fit the screened indication {indication}: codes "
    "starting {families} are allowed."
)


def diagnosis_check(code: str, indication: str | None = None) -> str:
    """The ICD-10-CM code as billed (upper case, with its dot); refuses a code that is not in the FY2026
    tabular, a category that is not billable (e.g. F31, F33.4), or one outside the indication's families."""
    raw = (code or "").strip().upper().replace(" ", "")
    if not raw or not icd.is_valid_item(raw) or icd.is_chapter_or_block(raw):
        raise ValidationError(DIAGNOSIS_UNKNOWN.format(value=shown(code)), field="diagnosis", value=code)
    dotted = icd.add_dot(raw)
    description = icd.get_description(dotted)
    if not icd.is_leaf(dotted):
        examples = ", ".join(c for c in icd.get_descendants(dotted) if icd.is_leaf(c))
        short = ", ".join(examples.split(", ")[:3])
        raise ValidationError(
            DIAGNOSIS_NOT_BILLABLE.format(value=dotted, description=description, examples=short),
            field="diagnosis",
            value=dotted,
        )
    if indication is not None:
        indication_get(indication)
        families = INDICATION_ICD10CM_FAMILIES.get(indication, ())
        if families and not dotted.startswith(families):
            raise ValidationError(
                DIAGNOSIS_NOT_FOR_INDICATION.format(
                    value=dotted,
                    description=description,
                    indication=indication_get(indication).label,
                    families=" or ".join(families),
                ),
                field="diagnosis",
                value=dotted,
            )
    return dotted


def diagnosis_description(code: str) -> str:
    """The tabular's description of a billable code."""
    description: str = icd.get_description(diagnosis_check(code))
    return description
