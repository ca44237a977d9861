"""Pharmacokinetic models of racemic ketamine (IV), each with its source, population and derived values.

Every parameter below was read from opentiva 1.1.2, ``opentiva/ketamine.py`` (DOMAIN.md §3) and is
cited "as implemented in opentiva 1.1.2": none was checked against the paper's own parameter table.
All four models are *linear in body weight*: the central volume scales with weight and the rate
constants do not (for Kamp, volumes and clearances both scale with weight/70, so their ratios — the
rate constants — do not depend on weight). That is why 0.5 mg/kg gives the same concentration curve at
any weight in these models.

Micro-constants from volumes and clearances (standard mammillary relations, e.g. Rowland & Tozer,
*Clinical Pharmacokinetics and Pharmacodynamics*, 4th ed., ch. 19):
``k10 = CL/V1``, ``k12 = Q2/V1``, ``k21 = Q2/V2``, ``k13 = Q3/V1``, ``k31 = Q3/V3``.

No effect-site constant (ke0) is published for any of these models. opentiva derives one per model from
an *assumed* time to peak effect of 1 min after a bolus; those values are carried here, labelled
``ke0_derived=True`` with the derivation named, and ``tests/core/pharmacology`` checks that each one
does give a 1-min peak in this engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ketaclinic.core.errors import ValidationError

UNKNOWN_MODEL = "Unknown PK model {value!r}: known models are {allowed}."
OPENTIVA = "as implemented in opentiva 1.1.2 (opentiva/ketamine.py)"
KE0_DERIVATION = (
    "derived, not published: opentiva 1.1.2 computed it from an assumed time to peak effect-site "
    "concentration of 1 min after a bolus"
)


@dataclass(frozen=True, slots=True)
class MicroConstants:
    """One patient's compartment model: central volume in L and first-order rate constants per minute."""

    v1_l: float
    k10_per_min: float
    k12_per_min: float
    k21_per_min: float
    k13_per_min: float = 0.0
    k31_per_min: float = 0.0
    ke0_per_min: float | None = None

    def __post_init__(self) -> None:
        for name in ("v1_l", "k10_per_min", "k12_per_min", "k21_per_min"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValidationError(
                    f"{name} must be a finite number above zero, got {value!r}.", field=name, value=value
                )
        for name in ("k13_per_min", "k31_per_min"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValidationError(
                    f"{name} must be finite and not negative, got {value!r}.", field=name, value=value
                )
        if (self.k13_per_min == 0) != (self.k31_per_min == 0):
            raise ValidationError(
                "k13 and k31 must both be zero (two compartments) or both above zero.", field="k13_per_min"
            )
        if self.ke0_per_min is not None and not (math.isfinite(self.ke0_per_min) and self.ke0_per_min > 0):
            raise ValidationError(
                f"ke0_per_min must be above zero, got {self.ke0_per_min!r}.", field="ke0_per_min"
            )

    @property
    def compartments(self) -> int:
        return 3 if self.k13_per_min > 0 else 2


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter exactly as the source states it, with its unit in the name."""

    name: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class PkModel:
    """A named parameter set. ``v1_l_per_kg`` and the rate constants define the model for any weight.

    ``parameters`` are the values as the source states them (for Kamp: volumes and clearances per 70 kg);
    the micro-constants are computed from them by the formulas in the module docstring.
    """

    name: str
    label: str
    compartments: int
    v1_l_per_kg: float
    k10_per_min: float
    k12_per_min: float
    k21_per_min: float
    k13_per_min: float
    k31_per_min: float
    ke0_per_min: float | None
    ke0_derived: bool
    parameters: tuple[Parameter, ...]
    reference: str
    doi: str | None
    pmid: str | None
    population: str
    parameter_source: str
    notes: str = ""

    def __post_init__(self) -> None:
        MicroConstants(
            self.v1_l_per_kg,
            self.k10_per_min,
            self.k12_per_min,
            self.k21_per_min,
            self.k13_per_min,
            self.k31_per_min,
            self.ke0_per_min,
        )
        if self.compartments != (3 if self.k13_per_min > 0 else 2):
            raise ValidationError(
                f"model {self.name}: compartments does not match its rate constants.", field="compartments"
            )

    def for_weight(self, weight_kg: float) -> MicroConstants:
        """The model for one patient: V1 = v1_l_per_kg x weight; rate constants do not depend on weight."""
        if not (math.isfinite(weight_kg) and weight_kg > 0):
            raise ValidationError(
                f"weight {weight_kg!r} kg must be a finite number above zero.",
                field="weight",
                value=weight_kg,
            )
        return MicroConstants(
            self.v1_l_per_kg * weight_kg,
            self.k10_per_min,
            self.k12_per_min,
            self.k21_per_min,
            self.k13_per_min,
            self.k31_per_min,
            self.ke0_per_min,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "compartments": self.compartments,
            "micro_constants": {
                "v1_l_per_kg": self.v1_l_per_kg,
                "k10_per_min": self.k10_per_min,
                "k12_per_min": self.k12_per_min,
                "k21_per_min": self.k21_per_min,
                "k13_per_min": self.k13_per_min,
                "k31_per_min": self.k31_per_min,
            },
            "ke0_per_min": self.ke0_per_min,
            "ke0_note": KE0_DERIVATION if self.ke0_derived else None,
            "parameters_as_published": [
                {"name": p.name, "value": p.value, "unit": p.unit} for p in self.parameters
            ],
            "reference": self.reference,
            "doi": self.doi,
            "pmid": self.pmid,
            "population": self.population,
            "parameter_source": self.parameter_source,
            "notes": self.notes,
        }


def _kamp() -> PkModel:
    """Kamp et al. 2020 (as opentiva implements it): V and CL per 70 kg, linear in weight/70.

    k10 = CL/V1, k12 = Q2/V1, k21 = Q2/V2, k13 = Q3/V1, k31 = Q3/V3 (module docstring), clearances
    converted from L/h to L/min by dividing by 60.
    """
    v1, v2, v3 = 25.0, 56.0, 157.0  # L per 70 kg
    cl, q2, q3 = 84.0 / 60, 161.0 / 60, 79.0 / 60  # L/min per 70 kg
    return PkModel(
        name="kamp",
        label="Kamp 2020 (3-compartment simplification)",
        compartments=3,
        v1_l_per_kg=v1 / 70,
        k10_per_min=cl / v1,
        k12_per_min=q2 / v1,
        k21_per_min=q2 / v2,
        k13_per_min=q3 / v1,
        k31_per_min=q3 / v3,
        ke0_per_min=2.791,
        ke0_derived=True,
        parameters=(
            Parameter("v1_l_per_70kg", v1, "L"),
            Parameter("v2_l_per_70kg", v2, "L"),
            Parameter("v3_l_per_70kg", v3, "L"),
            Parameter("cl_l_per_h_per_70kg", 84.0, "L/h"),
            Parameter("q2_l_per_h_per_70kg", 161.0, "L/h"),
            Parameter("q3_l_per_h_per_70kg", 79.0, "L/h"),
        ),
        reference="Kamp J, Olofsen E, Henthorn TK, et al. Ketamine pharmacokinetics: a systematic review of "
        "the literature, meta-analysis, and population analysis. Anesthesiology 2020;133(6):1192-1213",
        doi="10.1097/ALN.0000000000003577",
        pmid="32997732",
        population="meta-analysis of 18 studies (11 in healthy adults, 3 in adult patients, 5 in paediatric "
        "patients) and a population model from 14 raw data sets (abstract)",
        parameter_source=OPENTIVA,
        notes="The paper's own raw-data model adds two venous delay compartments (abstract: CL 79 L/h, "
        "Vd 252 L per 70 kg); opentiva's 3-compartment set is a simplification. opentiva names it 'Klamp'.",
    )


PK_MODELS: dict[str, PkModel] = {
    "domino": PkModel(
        name="domino",
        label="Domino (3-compartment)",
        compartments=3,
        v1_l_per_kg=0.063,
        k10_per_min=0.4381,
        k12_per_min=0.5921,
        k21_per_min=0.2470,
        k13_per_min=0.5900,
        k31_per_min=0.0146,
        ke0_per_min=0.652,
        ke0_derived=True,
        parameters=(
            Parameter("v1_l_per_kg", 0.063, "L/kg"),
            Parameter("k10_per_min", 0.4381, "1/min"),
            Parameter("k12_per_min", 0.5921, "1/min"),
            Parameter("k13_per_min", 0.5900, "1/min"),
            Parameter("k21_per_min", 0.2470, "1/min"),
            Parameter("k31_per_min", 0.0146, "1/min"),
        ),
        reference="Domino et al. (opentiva cites PMID 7198883; the paper and year are not confirmed)",
        doi=None,
        pmid="7198883",
        population="not confirmed (the paper could not be checked)",
        parameter_source=OPENTIVA,
        notes="The same constants, rounded, appear in bensondaled/fus_anes.",
    ),
    "kamp": _kamp(),
    "clements": PkModel(
        name="clements",
        label="Clements 250 µg/kg (2-compartment)",
        compartments=2,
        v1_l_per_kg=1.7522,
        k10_per_min=0.0109,
        k12_per_min=0.0186,
        k21_per_min=0.0137,
        k13_per_min=0.0,
        k31_per_min=0.0,
        ke0_per_min=5.2,
        ke0_derived=True,
        parameters=(
            Parameter("v1_l_per_kg", 1.7522, "L/kg"),
            Parameter("k10_per_min", 0.0109, "1/min"),
            Parameter("k12_per_min", 0.0186, "1/min"),
            Parameter("k21_per_min", 0.0137, "1/min"),
        ),
        reference="Clements JA, Nimmo WS. Pharmacokinetics and analgesic effect of ketamine in man. "
        "Br J Anaesth 1981;53(1):27-30 (the 250 µg/kg IV data set)",
        doi="10.1093/bja/53.1.27",
        pmid="7459184",
        population="adults given 250 µg/kg IV (study population as described in the paper; not re-checked)",
        parameter_source=OPENTIVA,
    ),
    "hijazi": PkModel(
        name="hijazi",
        label="Hijazi 2003 (2-compartment)",
        compartments=2,
        v1_l_per_kg=1.08,
        k10_per_min=0.0333,
        k12_per_min=0.0088,
        k21_per_min=0.0030,
        k13_per_min=0.0,
        k31_per_min=0.0,
        ke0_per_min=4.773,
        ke0_derived=True,
        parameters=(
            Parameter("v1_l_per_kg", 1.08, "L/kg"),
            Parameter("k10_per_min", 0.0333, "1/min"),
            Parameter("k12_per_min", 0.0088, "1/min"),
            Parameter("k21_per_min", 0.0030, "1/min"),
        ),
        reference="Hijazi Y, Bodonian C, Bolon M, Salord F, Boulieu R. Pharmacokinetics and haemodynamics of "
        "ketamine in intensive care patients with brain or "
        "spinal cord injury. Br J Anaesth 2003;90(2):155-160",
        doi="10.1093/bja/aeg028",
        pmid="12538370",
        population="12 adult intensive-care patients with brain or spinal cord injury (abstract); "
        "opentiva's upper age limit of 18 years is wrong and is not carried here",
        parameter_source=OPENTIVA,
    ),
}


def pk_model_get(name: str) -> PkModel:
    """The model called ``name`` (case-insensitive), or a refusal naming the known models."""
    try:
        return PK_MODELS[str(name).strip().lower()]
    except KeyError:
        raise ValidationError(
            UNKNOWN_MODEL.format(value=name, allowed=", ".join(PK_MODELS)), field="model", value=name
        ) from None
