"""The billing codes of one session, computed from what was recorded, never typed.

Temporary home (pure, no Django): the agreed core module ``ketaclinic.core.billing.codes`` is being written
on another branch; these follow its names (``CodeLine``, ``infusion_cpt_lines``, ``drug_lines``) and give way
to it.

Sources (DOMAIN.md §6): 96365 initial IV infusion up to 1 h, which needs at least 16 minutes (15 minutes or
less is a push, 96374); 96366 each additional hour, counted for more than 30 minutes beyond each hour;
one initial code per encounter. Ketamine has no drug code of its own: J3490 (unclassified drug), one unit,
with the drug and the milligrams given in the note. Esketamine: S0013 per 1 mg until 2025-12-31, J0013
from 2026-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

PUSH_MAX_MIN = 15
ADDITIONAL_HOUR_MIN_OVER = 30
J0013_FROM = date(2026, 1, 1)


@dataclass(frozen=True)
class CodeLine:
    system: str
    code: str
    units: int
    description: str
    source: str = "DOMAIN.md §6"


def infusion_cpt_lines(start: datetime, stop: datetime) -> tuple[CodeLine, ...]:
    """The CPT lines of one infusion from its real start and stop.

    >>> [(c.code, c.units) for c in infusion_cpt_lines(datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 9, 40))]
    [('96365', 1)]
    >>> [(c.code, c.units) for c in infusion_cpt_lines(datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10, 31))]
    [('96365', 1), ('96366', 1)]
    """
    minutes = int((stop - start).total_seconds() // 60)
    if minutes <= 0:
        return ()
    if minutes <= PUSH_MAX_MIN:
        return (CodeLine("CPT", "96374", 1, "IV push, single or initial drug"),)
    lines = [CodeLine("CPT", "96365", 1, "IV infusion, initial, up to 1 hour")]
    beyond = minutes - 60
    extra = 0
    while beyond > ADDITIONAL_HOUR_MIN_OVER:
        extra += 1
        beyond -= 60
    if extra:
        lines.append(CodeLine("CPT", "96366", extra, "IV infusion, each additional hour"))
    return tuple(lines)


def drug_lines(drug: str, dose_mg: Decimal, on_day: date) -> tuple[CodeLine, ...]:
    mg = dose_mg.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if drug == "ketamine":
        return (CodeLine("HCPCS", "J3490", 1, f"Unclassified drug: ketamine hydrochloride {mg} mg IV"),)
    if drug == "esketamine":
        code = "J0013" if on_day >= J0013_FROM else "S0013"
        units = int(dose_mg.to_integral_value(rounding=ROUND_HALF_UP))
        return (CodeLine("HCPCS", code, units, "Esketamine, nasal spray, 1 mg"),)
    return ()
