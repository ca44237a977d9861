from __future__ import annotations

import math

import pint
import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import units
from ketaclinic.core.pharmacology.units import Kind, body_weight_kg, height_cm, quantity_parse

UREG: pint.UnitRegistry = pint.UnitRegistry()


@pytest.mark.parametrize(
    ("spelling", "pint_unit", "kind"),
    [
        ("lb", "pound", Kind.BODY_WEIGHT),
        ("in", "inch", Kind.HEIGHT),
        ("m", "meter", Kind.HEIGHT),
        ("mg/h", "mg/hour", Kind.RATE),
        ("h", "hour", Kind.DURATION),
        ("s", "second", Kind.DURATION),
        ("ug/mL", "microgram/milliliter", Kind.CONCENTRATION),
        ("mg/L", "mg/liter", Kind.CONCENTRATION),
        ("L", "liter", Kind.VOLUME),
    ],
)
def test_conversion_factors_agree_with_pint(spelling: str, pint_unit: str, kind: Kind) -> None:
    spec = units.UNITS[kind][spelling]
    canonical = {
        "kg": "kg",
        "cm": "cm",
        "mg/min": "mg/minute",
        "min": "minute",
        "ng/mL": "ng/mL",
        "mL": "mL",
    }[spec.canonical]
    expected = UREG.Quantity(1, pint_unit).to(canonical).magnitude
    assert spec.factor == pytest.approx(expected, rel=1e-15)


def test_weight_in_kg_and_lb() -> None:
    assert body_weight_kg("82kg") == 82
    assert body_weight_kg("180 lb") == pytest.approx(180 * 0.45359237, rel=1e-15)
    assert body_weight_kg("82KG") == 82


def test_height_units() -> None:
    assert height_cm("69in") == pytest.approx(175.26)
    assert height_cm("1.75m") == pytest.approx(175)


@pytest.mark.parametrize("text", ["82", "82 ", "0.5"])
def test_a_number_without_unit_is_refused_naming_value_and_allowed_units(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        body_weight_kg(text)
    assert exc.value.message == units.UNITLESS.format(
        field="weight", value=text, allowed="kg, lb", example="82kg or 180lb"
    )
    assert exc.value.field == "weight"


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        body_weight_kg("12stone")
    assert exc.value.message == units.UNKNOWN_UNIT.format(
        field="weight", value="12stone", unit="stone", allowed="kg, lb"
    )


@pytest.mark.parametrize("text", ["nankg", "infkg", "-infkg"])
def test_not_finite_refused(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        body_weight_kg(text)
    assert exc.value.message == units.NOT_FINITE.format(field="weight", value=text)


@pytest.mark.parametrize("text", ["abc", "", "kg82"])
def test_garbage_refused(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        body_weight_kg(text)
    assert exc.value.message.startswith(units.NOT_A_NUMBER.split("{")[0])


@pytest.mark.parametrize(
    ("text", "template"),
    [
        ("0kg", units.NOT_POSITIVE),
        ("-5kg", units.NOT_POSITIVE),
        ("1000kg", units.OUT_OF_RANGE),
        ("19.9kg", units.OUT_OF_RANGE),
        ("350.1kg", units.OUT_OF_RANGE),
    ],
)
def test_absurd_weights_refused_with_range(text: str, template: str) -> None:
    with pytest.raises(ValidationError) as exc:
        body_weight_kg(text)
    value = float(text[:-2])
    assert exc.value.message == template.format(
        field="weight", value=f"{value:.6g}", unit="kg", low="20", high="350"
    )


@pytest.mark.parametrize("text", ["20kg", "350kg"])
def test_weight_range_is_inclusive(text: str) -> None:
    assert body_weight_kg(text) == float(text[:-2])


def test_rate_per_kg_flag_and_canonical_unit() -> None:
    q = quantity_parse("0.35mg/kg/h", Kind.RATE)
    assert q.per_kg
    assert q.unit == "mg/kg/min"
    assert math.isclose(q.value * 60, 0.35)
