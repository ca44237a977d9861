"""Parameter sets as DOMAIN.md §3 lists them (transcribed here by hand from DOMAIN.md, not from the code)."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.models import PK_MODELS, MicroConstants, pk_model_get

DOMAIN_TABLE = {
    "domino": {
        "v1_l_per_kg": 0.063,
        "k10_per_min": 0.4381,
        "k12_per_min": 0.5921,
        "k13_per_min": 0.5900,
        "k21_per_min": 0.2470,
        "k31_per_min": 0.0146,
    },
    "clements": {
        "v1_l_per_kg": 1.7522,
        "k10_per_min": 0.0109,
        "k12_per_min": 0.0186,
        "k21_per_min": 0.0137,
        "k13_per_min": 0.0,
        "k31_per_min": 0.0,
    },
    "hijazi": {
        "v1_l_per_kg": 1.08,
        "k10_per_min": 0.0333,
        "k12_per_min": 0.0088,
        "k21_per_min": 0.0030,
        "k13_per_min": 0.0,
        "k31_per_min": 0.0,
    },
}


@pytest.mark.parametrize("name", list(DOMAIN_TABLE))
def test_micro_constants_match_domain_table(name: str) -> None:
    m = PK_MODELS[name]
    for field, value in DOMAIN_TABLE[name].items():
        assert getattr(m, field) == value, field


def test_kamp_micro_constants_from_volumes_and_clearances() -> None:
    """V1 25, V2 56, V3 157 L; CL 84, Q2 161, Q3 79 L/h per 70 kg (DOMAIN.md §3), worked by hand."""
    m = PK_MODELS["kamp"]
    assert m.v1_l_per_kg == pytest.approx(25 / 70)
    assert m.k10_per_min == pytest.approx(84 / 60 / 25)  # 0.056
    assert m.k12_per_min == pytest.approx(161 / 60 / 25)
    assert m.k21_per_min == pytest.approx(161 / 60 / 56)
    assert m.k13_per_min == pytest.approx(79 / 60 / 25)
    assert m.k31_per_min == pytest.approx(79 / 60 / 157)
    published = {p.name: p.value for p in m.parameters}
    assert published == {
        "v1_l_per_70kg": 25,
        "v2_l_per_70kg": 56,
        "v3_l_per_70kg": 157,
        "cl_l_per_h_per_70kg": 84,
        "q2_l_per_h_per_70kg": 161,
        "q3_l_per_h_per_70kg": 79,
    }


def test_every_model_is_labelled_with_source_population_and_derived_ke0() -> None:
    for m in PK_MODELS.values():
        assert m.parameter_source.startswith("as implemented in opentiva 1.1.2")
        assert m.population
        assert m.ke0_derived
    assert PK_MODELS["domino"].ke0_per_min == 0.652  # DOMAIN.md §3: derived by opentiva


def test_model_lookup_is_case_insensitive() -> None:
    assert pk_model_get(" Domino ") is PK_MODELS["domino"]


@pytest.mark.parametrize(
    ("field", "value"), [("v1_l", 0.0), ("k10_per_min", -0.1), ("k21_per_min", float("nan"))]
)
def test_micro_constants_refuse_bad_values(field: str, value: float) -> None:
    kwargs = {"v1_l": 4.4, "k10_per_min": 0.4, "k12_per_min": 0.5, "k21_per_min": 0.2}
    kwargs[field] = value
    with pytest.raises(ValidationError) as exc:
        MicroConstants(**kwargs)
    assert exc.value.field == field


def test_half_specified_third_compartment_refused() -> None:
    with pytest.raises(ValidationError):
        MicroConstants(4.4, 0.4, 0.5, 0.2, k13_per_min=0.5, k31_per_min=0.0)
