"""Medications given in a session, for the medication administration record (MAR).

Ketamine (the infusion itself; RxNorm ingredient 6130, DOMAIN.md §6) and the rescue medications clinics
use (DOMAIN.md §4): ondansetron for nausea, labetalol or clonidine for hypertension, midazolam or
lorazepam for agitation/distress. RxNorm codes only where DOMAIN.md gives one; the others are blank
until verified. ``SESSION_MEDICATIONS`` is the catalogue of codes; the limits a dose is checked against are
the protocol's ``formulary`` section, through :func:`administration_check` (every dose on the MAR goes
through it), and a charted allergy to the ordered drug stops the order (:func:`order_allergy_check`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.protocols.formulary import AdministrationKind, FormularyEntry, FormularySection

# The drug the pump gives under the signed order: its MAR entry is written when the pump stops, from the
# delivered dose; every other entry (rescue medications, intranasal doses) is given by hand.
INFUSED_DRUG = "ketamine"

MEDICATION_UNKNOWN = "Medication {value!r} is not one the session records: allowed are {allowed}."
UNIT_NOT_ALLOWED = "{label} is recorded in {allowed}, not {value!r}."
ROUTE_NOT_ALLOWED = "{label} is given {allowed}, not {value!r}."
DOSE_NOT_POSITIVE = "{label} dose {value!r} must be a number above 0."


@dataclass(frozen=True, slots=True)
class SessionMedication:
    code: str
    label: str
    rxnorm: str
    use: str
    units: tuple[str, ...]
    routes: tuple[str, ...]

    def dose_check(self, dose: object, unit: str) -> Decimal:
        if unit not in self.units:
            raise ValidationError(
                UNIT_NOT_ALLOWED.format(label=self.label, allowed=" or ".join(self.units), value=unit),
                field="unit",
                value=unit,
            )
        try:
            amount = Decimal(str(dose).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError(
                DOSE_NOT_POSITIVE.format(label=self.label, value=dose), field="dose", value=dose
            ) from None
        if not amount.is_finite() or math.isnan(float(amount)) or amount <= 0 or amount >= Decimal("1000000"):
            raise ValidationError(
                DOSE_NOT_POSITIVE.format(label=self.label, value=dose), field="dose", value=dose
            )
        return amount.quantize(Decimal("0.001"))

    def route_check(self, route: str) -> str:
        if route not in self.routes:
            raise ValidationError(
                ROUTE_NOT_ALLOWED.format(label=self.label, allowed=" or ".join(self.routes), value=route),
                field="route",
                value=route,
            )
        return route


SESSION_MEDICATIONS: dict[str, SessionMedication] = {
    m.code: m
    for m in (
        SessionMedication(
            "ketamine",
            "Ketamine",
            "6130",
            "the infusion (or an intranasal dose)",
            ("mg",),
            ("iv", "intranasal"),
        ),
        SessionMedication(
            "esketamine", "Esketamine nasal spray", "", "intranasal dose (Spravato)", ("mg",), ("intranasal",)
        ),
        SessionMedication(
            "ondansetron", "Ondansetron", "", "nausea/vomiting", ("mg",), ("iv", "po", "sl", "im")
        ),
        SessionMedication("clonidine", "Clonidine", "", "hypertension", ("mg", "mcg"), ("po",)),
        SessionMedication("labetalol", "Labetalol", "", "hypertension", ("mg",), ("iv", "po")),
        SessionMedication(
            "midazolam", "Midazolam", "", "agitation/distress", ("mg",), ("iv", "im", "intranasal")
        ),
        SessionMedication(
            "lorazepam", "Lorazepam", "", "agitation/distress", ("mg",), ("iv", "po", "sl", "im")
        ),
    )
}


def medication_get(code: str) -> SessionMedication:
    med = SESSION_MEDICATIONS.get((code or "").strip().lower())
    if med is None:
        raise ValidationError(
            MEDICATION_UNKNOWN.format(value=code, allowed=", ".join(SESSION_MEDICATIONS)),
            field="medication",
            value=code,
        )
    return med


# --- the formulary check (every dose recorded on the MAR goes through it) -----------------------------

MEDICATION_NOT_IN_FORMULARY = (
    "{value!r} is not in this protocol's formulary; the session may record {allowed}."
)
NOT_A_MANUAL_DOSE = (
    "{label} is given only as its signed order says: the infusion's own line on the record is "
    "written when the pump is stopped, so no extra {label} dose can be recorded here."
)
ALLERGY_STOPS_DOSE = (
    "{label} is not given: the patient has a charted allergy to {value!r}. "
    "Review the allergy with the prescriber before giving anything else."
)
ALLERGY_STOPS_ORDER = (
    "The patient has a charted allergy to {value!r}, which covers {label}: no {label} order can be "
    "calculated, signed or started. The prescriber reviews the allergy first (and ends it on the "
    "chart only if it was charted in error)."
)
UNIT_WRONG = "{label} is dosed in {unit} ({usual}), not in {value!r}: write the dose in {unit}."
DOSE_ABOVE_HARD = (
    "{label} {value:g} {unit} is above the most that may be given in one dose ({hard:g} {unit}; "
    "usual dose {usual:g} {unit}); it is refused."
)
SESSION_ABOVE_HARD = (
    "{label} {value:g} {unit} would bring this session's total to {total:g} {unit} "
    "(already given {given:g} {unit}), above the most allowed in one session ({hard:g} {unit}); "
    "it is refused."
)
NEEDS_PRESCRIBER_ORDER = (
    "{label} needs a prescriber's order: the prescriber records the dose, signing in as themselves."
)
SOFT_LIMIT_NEEDS_OVERRIDE = (
    "{label} {value:g} {unit} goes beyond the usual limit ({limits}); a prescriber must "
    "record it with a reason of at least {low} characters."
)
ORDER_DOSE_MISMATCH = (
    "{label}: this dose would bring the total given to {value:g} {unit}, more than the signed "
    "order ({ordered:g} {unit}); give exactly the ordered dose."
)
ORDER_DOSE_MISSING = "{label} is given only as a signed order says, and this session has no signed order."
MIN_MED_OVERRIDE_REASON_CHARS = 10

_UNIT_IN_MCG = {"mg": Decimal(1000), "mcg": Decimal(1)}


@dataclass(frozen=True, slots=True)
class PriorDose:
    """A dose of the same drug already given this session, with the unit it was recorded in."""

    amount: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class AdministrationDecision:
    amount: Decimal
    unit: str
    route: str
    session_total: Decimal  # including this dose, in ``unit``
    beyond_soft: tuple[str, ...] = ()
    override_reason: str = ""


def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(?:" + alternatives + r")(?:e?s)?(?![\w-])", re.IGNORECASE)


def allergy_match(entry: FormularyEntry, allergies: Sequence[str]) -> str | None:
    """The first charted allergy (substance as written) that names this drug or one of its classes, else None.

    Case-insensitive whole words, plural allowed: "Benzodiazepines" stops midazolam, "ketamine HCl" stops
    ketamine and esketamine."""
    pattern = _names_pattern(entry.names)
    return next((a for a in allergies if a and pattern.search(a)), None)


def order_allergy_check(formulary: FormularySection, allergies: Sequence[str]) -> None:
    """Refuse an order (ketamine, esketamine) while the patient has a charted allergy to the ordered drug."""
    for entry in formulary.ordered:
        found = allergy_match(entry, allergies)
        if found is not None:
            raise ValidationError(
                ALLERGY_STOPS_ORDER.format(value=found, label=entry.label), field="allergy", value=found
            )


def _in_unit(dose: PriorDose, unit: str) -> Decimal:
    if dose.unit == unit:
        return dose.amount
    if (
        dose.unit in _UNIT_IN_MCG and unit in _UNIT_IN_MCG
    ):  # an explicit unit converts exactly; none is guessed
        return dose.amount * _UNIT_IN_MCG[dose.unit] / _UNIT_IN_MCG[unit]
    raise ValidationError(
        UNIT_NOT_ALLOWED.format(label="An earlier dose", allowed=unit, value=dose.unit),
        field="unit",
        value=dose.unit,
    )


def _usual(entry: FormularyEntry) -> str:
    return "as ordered" if entry.usual_dose is None else f"usual dose {entry.usual_dose:g} {entry.unit.value}"


def administration_check(
    formulary: FormularySection,
    code: str,
    *,
    dose: object,
    unit: str,
    route: str,
    given: Sequence[PriorDose] = (),
    allergies: Sequence[str] = (),
    prescriber_order: bool = False,
    override_reason: str = "",
    signed_order_dose_mg: float | None = None,
) -> AdministrationDecision:
    """Decide whether a dose may go on the MAR.

    ``given``: the doses of the same drug already recorded this session; ``allergies``: the patient's charted
    allergies (substances); ``prescriber_order``: a prescriber is recording it as themselves (their order);
    ``signed_order_dose_mg``: the session's signed order dose (esketamine). Refused: a drug not in the
    formulary, ketamine by hand, an allergy, the wrong unit or route, a dose above the hard maximum per dose
    or a session total above the hard maximum per session, an esketamine dose other than the signed order's, a
    drug needing an order without one, and beyond a soft maximum without a prescriber's reason."""
    entry = formulary.entry((code or "").strip().lower())
    if entry is None:
        raise ValidationError(
            MEDICATION_NOT_IN_FORMULARY.format(
                value=code,
                allowed=", ".join(
                    d.label
                    for d in formulary.as_needed + formulary.ordered
                    if d.administration is not AdministrationKind.INFUSION_ORDER
                ),
            ),
            field="medication",
            value=code,
        )
    if entry.administration is AdministrationKind.INFUSION_ORDER:
        raise ValidationError(NOT_A_MANUAL_DOSE.format(label=entry.label), field="medication", value=code)
    found = allergy_match(entry, allergies)
    if found is not None:
        raise ValidationError(
            ALLERGY_STOPS_DOSE.format(label=entry.label, value=found), field="medication", value=code
        )
    u = entry.unit.value
    if (unit or "").strip().lower() != u:
        raise ValidationError(
            UNIT_WRONG.format(label=entry.label, unit=u, usual=_usual(entry), value=unit),
            field="unit",
            value=unit,
        )
    amount = SessionMedication(
        entry.code, entry.label, entry.rxnorm, entry.use, (u,), entry.routes
    ).dose_check(dose, u)
    if route not in entry.routes:
        raise ValidationError(
            ROUTE_NOT_ALLOWED.format(label=entry.label, allowed=" or ".join(entry.routes), value=route),
            field="route",
            value=route,
        )
    before = sum((_in_unit(g, u) for g in given), Decimal(0))
    total = before + amount
    if entry.administration is AdministrationKind.SIGNED_ORDER_DOSE:
        if signed_order_dose_mg is None:
            raise ValidationError(ORDER_DOSE_MISSING.format(label=entry.label), field="order", value=None)
        ordered = Decimal(str(signed_order_dose_mg)).quantize(Decimal("0.001"))
        ordered_in_unit = _in_unit(PriorDose(ordered, "mg"), u)
        if total > ordered_in_unit:  # device by device (28 mg each) up to the order, never beyond
            raise ValidationError(
                ORDER_DOSE_MISMATCH.format(
                    label=entry.label, value=float(total), unit=u, ordered=float(ordered_in_unit)
                ),
                field="dose",
                value=dose,
            )
        return AdministrationDecision(amount, u, route, total)
    hard_dose, hard_session = Decimal(str(entry.hard_max_per_dose)), Decimal(str(entry.hard_max_per_session))
    usual = float(entry.usual_dose or 0)
    if amount > hard_dose:
        raise ValidationError(
            DOSE_ABOVE_HARD.format(
                label=entry.label, value=float(amount), unit=u, hard=float(hard_dose), usual=usual
            ),
            field="dose",
            value=dose,
        )
    if total > hard_session:
        raise ValidationError(
            SESSION_ABOVE_HARD.format(
                label=entry.label,
                value=float(amount),
                unit=u,
                total=float(total),
                given=float(before),
                hard=float(hard_session),
            ),
            field="dose",
            value=dose,
        )
    if entry.needs_prescriber_order and not prescriber_order:
        raise ValidationError(
            NEEDS_PRESCRIBER_ORDER.format(label=entry.label), field="medication", value=code
        )
    beyond = []
    if amount > Decimal(str(entry.soft_max_per_dose)):
        beyond.append(f"{entry.soft_max_per_dose:g} {u} per dose")
    if total > Decimal(str(entry.soft_max_per_session)):
        beyond.append(f"{entry.soft_max_per_session:g} {u} per session, this one included")
    reason = (override_reason or "").strip()
    if beyond and (not prescriber_order or len(reason) < MIN_MED_OVERRIDE_REASON_CHARS):
        raise ValidationError(
            SOFT_LIMIT_NEEDS_OVERRIDE.format(
                label=entry.label,
                value=float(amount),
                unit=u,
                limits="; ".join(beyond),
                low=MIN_MED_OVERRIDE_REASON_CHARS,
            ),
            field="override_reason",
            value=override_reason,
        )
    return AdministrationDecision(amount, u, route, total, tuple(beyond), reason if beyond else "")
