"""The independent double check of the bag before the start (a second clinician, blind to the order).

The second clinician reads the vial's strength off the label and the volume drawn off the syringe and types
them without seeing the order's numbers; they are compared with the order: the vial strength exactly, the
volume drawn within a small tolerance (a syringe's readable precision). A mismatch blocks the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ketaclinic.core.errors import ValidationError

VOLUME_TOLERANCE_ML = (
    0.1  # clinic default, no consensus source: the smallest mark of a 10 mL syringe is 0.2 mL
)

VIAL_STRENGTH_NOT_NUMBER = "Vial strength must be a number above 0 mg/mL, got {value}."
VOLUME_NOT_NUMBER = "Volume drawn must be a number above 0 mL, got {value}."
VIAL_MISMATCH = (
    "The vial strength typed ({typed:g} mg/mL) does not match the order: the bag must not be started. "
    "Check the vial label with the nurse who prepared it; prepare a new bag if it is wrong."
)
VOLUME_MISMATCH = (
    "The volume drawn typed ({typed:g} mL) does not match the order (allowed difference {tolerance:g} mL): "
    "the bag must not be started. Check the syringe with the nurse who prepared it; prepare a new bag "
    "if it is wrong."
)


@dataclass(frozen=True, slots=True)
class VialCheckResult:
    vial_matches: bool
    volume_matches: bool

    @property
    def match(self) -> bool:
        return self.vial_matches and self.volume_matches

    def problems(
        self, typed_vial: float, typed_volume: float, tolerance_ml: float = VOLUME_TOLERANCE_ML
    ) -> tuple[str, ...]:
        out: list[str] = []
        if not self.vial_matches:
            out.append(VIAL_MISMATCH.format(typed=typed_vial))
        if not self.volume_matches:
            out.append(VOLUME_MISMATCH.format(typed=typed_volume, tolerance=tolerance_ml))
        return tuple(out)


def _positive(value: object, message: str, field: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(message.format(value=value), field=field, value=value) from None
    if not math.isfinite(number) or number <= 0:
        raise ValidationError(message.format(value=value), field=field, value=value)
    return number


def typed_values(vial_mg_per_ml: object, volume_ml: object) -> tuple[float, float]:
    """The numbers the second clinician typed, refused when not positive numbers."""
    return (
        _positive(vial_mg_per_ml, VIAL_STRENGTH_NOT_NUMBER, "vial_mg_per_ml"),
        _positive(volume_ml, VOLUME_NOT_NUMBER, "drawn_ml"),
    )


def vial_check_compare(
    *,
    ordered_vial_mg_per_ml: float,
    ordered_drawn_ml: float,
    typed_vial_mg_per_ml: float,
    typed_drawn_ml: float,
    tolerance_ml: float = VOLUME_TOLERANCE_ML,
) -> VialCheckResult:
    """Compare what the second clinician typed with the order: vial strength exactly (to 0.001 mg/mL), volume
    drawn within ``tolerance_ml``."""
    vial_ok = math.isclose(typed_vial_mg_per_ml, ordered_vial_mg_per_ml, rel_tol=0, abs_tol=1e-3)
    volume_ok = abs(typed_drawn_ml - ordered_drawn_ml) <= tolerance_ml + 1e-9
    return VialCheckResult(vial_ok, volume_ok)
