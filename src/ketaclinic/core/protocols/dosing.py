"""The ``dosing`` section of a protocol document: what the dose engine needs, as clinic-editable data.

Like a smart pump's drug library, a protocol carries a dose basis, a default, a range, a titration step,
an infusion duration and **soft and hard limits**: beyond a soft limit the calculation returns a
warning that needs a prescriber's override reason; beyond a hard limit it refuses
(``ketaclinic.core.pharmacology.dosing``). Every number is a clinic default with its source in the
protocol file (DOMAIN.md §2), never a constant in code.

Dose bases and the unit of ``default``, ``range`` and ``titration_step``:

* ``mg_per_kg``        a dose per kg of dosing weight, given over ``infusion_duration_min`` (depression)
* ``mg``               a fixed dose in mg, over ``infusion_duration_min`` (chronic-pain trial infusion,
                       or an intranasal dose recorded only)
* ``mg_per_kg_per_h``  a rate per kg of dosing weight for ``infusion_duration_min`` (CRPS), optionally
                       capped at ``max_rate_mg_per_h`` ("never above 25 mg/h", Schwartzman 2009)
* ``mg_per_h``         a fixed rate for ``infusion_duration_min``
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaclinic.core.pharmacology.models import PK_MODELS


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Route(StrEnum):
    IV = "iv"
    INTRANASAL = "intranasal"


class DoseBasis(StrEnum):
    MG_PER_KG = "mg_per_kg"
    MG = "mg"
    MG_PER_KG_PER_H = "mg_per_kg_per_h"
    MG_PER_H = "mg_per_h"

    @property
    def unit(self) -> str:
        return {"mg_per_kg": "mg/kg", "mg": "mg", "mg_per_kg_per_h": "mg/kg/h", "mg_per_h": "mg/h"}[
            self.value
        ]

    @property
    def is_rate(self) -> bool:
        return self in (DoseBasis.MG_PER_KG_PER_H, DoseBasis.MG_PER_H)

    @property
    def per_kg(self) -> bool:
        return self in (DoseBasis.MG_PER_KG, DoseBasis.MG_PER_KG_PER_H)


class LimitQuantity(StrEnum):
    """What a limit is checked against; each is computed for every dose calculation."""

    DOSE_MG_PER_KG = "dose_mg_per_kg"
    DOSE_MG = "dose_mg"
    RATE_MG_PER_KG_PER_H = "rate_mg_per_kg_per_h"
    RATE_MG_PER_H = "rate_mg_per_h"
    DURATION_MIN = "duration_min"

    @property
    def label(self) -> str:
        """How a nurse reads it in a message."""
        return {
            "dose_mg_per_kg": "Dose",
            "dose_mg": "Dose",
            "rate_mg_per_kg_per_h": "Rate",
            "rate_mg_per_h": "Rate",
            "duration_min": "Infusion duration",
        }[self.value]

    @property
    def unit(self) -> str:
        return {
            "dose_mg_per_kg": "mg/kg",
            "dose_mg": "mg",
            "rate_mg_per_kg_per_h": "mg/kg/h",
            "rate_mg_per_h": "mg/h",
            "duration_min": "min",
        }[self.value]


class Limit(_Section):
    """Soft and hard limits on one quantity of a session, all inclusive (a value *at* a limit is within
    it)."""

    quantity: LimitQuantity
    hard_min: float | None = Field(default=None, gt=0)
    soft_min: float | None = Field(default=None, gt=0)
    soft_max: float | None = Field(default=None, gt=0)
    hard_max: float | None = Field(default=None, gt=0)
    source: str = Field(min_length=3, description="Where the limit comes from, or 'clinic default'.")

    @model_validator(mode="after")
    def _ordered(self) -> Limit:
        bounds = [b for b in (self.hard_min, self.soft_min, self.soft_max, self.hard_max) if b is not None]
        if not bounds:
            raise ValueError(f"limit on {self.quantity.value} sets no bound")
        if bounds != sorted(bounds):
            raise ValueError(
                f"limit on {self.quantity.value} must satisfy hard_min <= soft_min <= soft_max <= hard_max, "
                f"got {self.hard_min}, {self.soft_min}, {self.soft_max}, {self.hard_max}"
            )
        return self


class DoseRange(_Section):
    min: float = Field(gt=0)
    max: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> DoseRange:
        if self.min > self.max:
            raise ValueError(f"range min ({self.min}) is above max ({self.max})")
        return self


class WeightBasis(StrEnum):
    """Which weight a per-kg dose is computed on (DOMAIN.md §2)."""

    ACTUAL = "actual"  # total body weight
    IDEAL = "ideal"  # Devine ideal body weight (Devine 1974)
    ADJUSTED = "adjusted"  # IBW + 0.4 x (actual - IBW) (Traynor et al. 1995)


class ObesePolicy(_Section):
    bmi_at_least: float = Field(ge=18.5, le=60, description="BMI (kg/m²) from which the obese basis applies.")
    basis: WeightBasis


class DosingWeightPolicy(_Section):
    basis: WeightBasis = WeightBasis.ACTUAL
    obese: ObesePolicy | None = None
    lesser_of_ideal_and_actual: bool = Field(
        default=True,
        description=(
            "When the basis is ideal or adjusted and the actual weight is lower, dose on the actual weight."
        ),
    )


class PumpSettings(_Section):
    vial_strengths_mg_per_ml: tuple[float, ...] = Field(min_length=1)
    default_vial_mg_per_ml: float = Field(gt=0)
    default_bag_ml: float = Field(gt=0, le=1000)
    precision_ml_per_h: float = Field(default=0.1, gt=0, le=10)
    max_rate_ml_per_h: float = Field(default=999.0, gt=0, le=2000)

    @model_validator(mode="after")
    def _default_vial_listed(self) -> PumpSettings:
        if any(v <= 0 for v in self.vial_strengths_mg_per_ml):
            raise ValueError("vial strengths must be above zero")
        if self.default_vial_mg_per_ml not in self.vial_strengths_mg_per_ml:
            raise ValueError(
                f"default_vial_mg_per_ml {self.default_vial_mg_per_ml} is not one of the allowed vial "
                f"strengths {list(self.vial_strengths_mg_per_ml)}"
            )
        return self


class IntranasalDevice(_Section):
    """A fixed-dose nasal device (Spravato: 28 mg per device, 5 min between devices)."""

    mg_per_device: float = Field(gt=0)
    minutes_between_devices: float = Field(ge=0)
    allowed_doses_mg: tuple[float, ...] = Field(min_length=1)
    observation_min: float = Field(ge=0)

    @model_validator(mode="after")
    def _whole_devices(self) -> IntranasalDevice:
        for dose in self.allowed_doses_mg:
            devices = dose / self.mg_per_device
            if dose <= 0 or abs(devices - round(devices)) > 1e-9:
                raise ValueError(
                    f"allowed dose {dose} mg is not a whole number of {self.mg_per_device} mg devices"
                )
        return self


class PeakCeiling(_Section):
    """A ceiling on the plasma concentration the protocol's PK model predicts for this patient (ng/mL).

    An order or a titration whose prediction exceeds it is refused (``ketaclinic.core.pharmacology.ceiling``).
    """

    ng_per_ml: float = Field(gt=0, le=100000)
    source: str = Field(min_length=3, description="Where the ceiling comes from, or 'clinic default'.")


class VerbalOrders(_Section):
    """A titration ordered by telephone or in person and recorded by the nurse with read-back."""

    cosign_within_hours: float = Field(
        gt=0, le=168, description="The prescriber co-signs within this many hours."
    )
    source: str = Field(min_length=3)


RATE_LIMITS = (LimitQuantity.RATE_MG_PER_KG_PER_H, LimitQuantity.RATE_MG_PER_H)
DOSE_LIMITS = (LimitQuantity.DOSE_MG_PER_KG, LimitQuantity.DOSE_MG)


class DosingSection(_Section):
    """How a session's dose is chosen, limited, prepared and predicted."""

    route: Route = Route.IV
    record_only: bool = Field(
        default=False,
        description="True: the engine records the dose given (e.g. esketamine nasal); no pump, no PK.",
    )
    basis: DoseBasis
    default: float = Field(gt=0, description="Default dose, in the unit of `basis`.")
    range: DoseRange
    titration_step: float | None = Field(
        default=None, gt=0, description="Titration step, in the unit of `basis`."
    )
    infusion_duration_min: float | None = Field(default=None, gt=0, le=10080)
    max_rate_mg_per_h: float | None = Field(
        default=None,
        gt=0,
        description="A rate-based default is capped here (and a requested rate above it refused).",
    )
    limits: tuple[Limit, ...] = ()
    dosing_weight: DosingWeightPolicy = DosingWeightPolicy()
    pump: PumpSettings | None = None
    intranasal: IntranasalDevice | None = None
    pk_model: str | None = Field(
        default=None, description="PK model to predict with; see `ketaclinic pk models`."
    )
    max_predicted_peak: PeakCeiling | None = None
    verbal_orders: VerbalOrders | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> DosingSection:
        if not self.range.min <= self.default <= self.range.max:
            raise ValueError(f"default {self.default} is outside range {self.range.min}-{self.range.max}")
        quantities = [limit.quantity for limit in self.limits]
        if len(set(quantities)) != len(quantities):
            raise ValueError("each limit quantity may appear only once")
        if self.route is Route.INTRANASAL:
            if self.intranasal is None or self.basis is not DoseBasis.MG or not self.record_only:
                raise ValueError(
                    "an intranasal protocol needs basis mg, record_only true and an intranasal device"
                )
            if self.pump is not None or self.pk_model is not None or self.infusion_duration_min is not None:
                raise ValueError("an intranasal protocol has no pump, no PK model and no infusion duration")
            if self.default not in self.intranasal.allowed_doses_mg:
                raise ValueError(f"default {self.default} mg is not one of the allowed intranasal doses")
        else:
            if self.intranasal is not None:
                raise ValueError("an IV protocol has no intranasal device")
            if self.infusion_duration_min is None or self.pump is None:
                raise ValueError("an IV protocol needs infusion_duration_min and pump settings")
        if self.pk_model is not None:
            if self.pk_model not in PK_MODELS:
                raise ValueError(
                    f"unknown pk_model {self.pk_model!r}; known models are {', '.join(PK_MODELS)}"
                )
        for limit in self.limits:
            self._default_within_hard(limit)
        self._limits_declared()
        if self.max_predicted_peak is not None and self.pk_model is None:
            raise ValueError("max_predicted_peak needs a pk_model to predict with")
        return self

    def _limits_declared(self) -> None:
        """Every protocol limits the dose (hard maximum); every IV protocol the rate too, and says who
        co-signs."""
        hard_max = {limit.quantity for limit in self.limits if limit.hard_max is not None}
        if not hard_max & set(DOSE_LIMITS):
            raise ValueError("dosing needs a limit with hard_max on dose_mg_per_kg or dose_mg")
        if self.route is Route.IV:
            if not hard_max & set(RATE_LIMITS):
                raise ValueError(
                    "an IV protocol needs a limit with hard_max on rate_mg_per_kg_per_h or rate_mg_per_h"
                )
            if self.verbal_orders is None:
                raise ValueError(
                    "an IV protocol needs verbal_orders (co-sign window for titrations ordered verbally)"
                )

    def _default_within_hard(self, limit: Limit) -> None:
        same = {
            DoseBasis.MG_PER_KG: LimitQuantity.DOSE_MG_PER_KG,
            DoseBasis.MG: LimitQuantity.DOSE_MG,
            DoseBasis.MG_PER_KG_PER_H: LimitQuantity.RATE_MG_PER_KG_PER_H,
            DoseBasis.MG_PER_H: LimitQuantity.RATE_MG_PER_H,
        }[self.basis]
        if limit.quantity is same:
            for value, what in ((self.range.min, "range min"), (self.range.max, "range max")):
                if (limit.hard_min is not None and value < limit.hard_min) or (
                    limit.hard_max is not None and value > limit.hard_max
                ):
                    raise ValueError(
                        f"{what} {value} {self.basis.unit} is beyond the hard limit on {same.value}"
                    )
        if limit.quantity is LimitQuantity.DURATION_MIN and self.infusion_duration_min is not None:
            d = self.infusion_duration_min
            if (limit.hard_min is not None and d < limit.hard_min) or (
                limit.hard_max is not None and d > limit.hard_max
            ):
                raise ValueError(f"infusion_duration_min {d} is beyond the hard limit on duration_min")
