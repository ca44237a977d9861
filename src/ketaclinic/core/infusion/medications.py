"""Medications given in a session, for the medication administration record (MAR).

Ketamine (the infusion itself; RxNorm ingredient 6130, DOMAIN.md §6) and the rescue medications clinics
use (DOMAIN.md §4): ondansetron for nausea, labetalol or clonidine for hypertension, midazolam or
lorazepam for agitation/distress. RxNorm codes only where DOMAIN.md gives one; the others are blank
until verified. Doses are checked as positive numbers in an allowed unit; clinical dose ranges are the
prescriber's order, not a rule here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ketaclinic.core.errors import ValidationError

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
            raise ValidationError(UNIT_NOT_ALLOWED.format(label=self.label, allowed=" or ".join(self.units), value=unit),
                                  field="unit", value=unit)
        try:
            amount = Decimal(str(dose).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError(DOSE_NOT_POSITIVE.format(label=self.label, value=dose), field="dose", value=dose) from None
        if not amount.is_finite() or math.isnan(float(amount)) or amount <= 0 or amount >= Decimal("1000000"):
            raise ValidationError(DOSE_NOT_POSITIVE.format(label=self.label, value=dose), field="dose", value=dose)
        return amount.quantize(Decimal("0.001"))

    def route_check(self, route: str) -> str:
        if route not in self.routes:
            raise ValidationError(ROUTE_NOT_ALLOWED.format(label=self.label, allowed=" or ".join(self.routes), value=route),
                                  field="route", value=route)
        return route


SESSION_MEDICATIONS: dict[str, SessionMedication] = {m.code: m for m in (
    SessionMedication("ketamine", "Ketamine", "6130", "the infusion (or an intranasal dose)", ("mg",), ("iv", "intranasal")),
    SessionMedication("esketamine", "Esketamine nasal spray", "", "intranasal dose (Spravato)", ("mg",), ("intranasal",)),
    SessionMedication("ondansetron", "Ondansetron", "", "nausea/vomiting", ("mg",), ("iv", "po", "sl", "im")),
    SessionMedication("clonidine", "Clonidine", "", "hypertension", ("mg", "mcg"), ("po",)),
    SessionMedication("labetalol", "Labetalol", "", "hypertension", ("mg",), ("iv", "po")),
    SessionMedication("midazolam", "Midazolam", "", "agitation/distress", ("mg",), ("iv", "im", "intranasal")),
    SessionMedication("lorazepam", "Lorazepam", "", "agitation/distress", ("mg",), ("iv", "po", "sl", "im")),
)}


def medication_get(code: str) -> SessionMedication:
    med = SESSION_MEDICATIONS.get((code or "").strip().lower())
    if med is None:
        raise ValidationError(MEDICATION_UNKNOWN.format(value=code, allowed=", ".join(SESSION_MEDICATIONS)),
                              field="medication", value=code)
    return med
