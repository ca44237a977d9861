"""Medications recorded on the MAR: the catalogue, units, routes and doses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.medications import (
    DOSE_NOT_POSITIVE,
    MEDICATION_UNKNOWN,
    ROUTE_NOT_ALLOWED,
    SESSION_MEDICATIONS,
    UNIT_NOT_ALLOWED,
    medication_get,
)


def test_ketamine_carries_its_rxnorm_code() -> None:
    assert medication_get("Ketamine").rxnorm == "6130"


def test_rescue_medications_of_domain() -> None:
    assert {"ondansetron", "clonidine", "labetalol", "midazolam", "lorazepam"} <= set(SESSION_MEDICATIONS)


def test_unknown_medication_lists_the_allowed() -> None:
    with pytest.raises(ValidationError) as exc:
        medication_get("aspirin")
    assert exc.value.message == MEDICATION_UNKNOWN.format(
        value="aspirin", allowed=", ".join(SESSION_MEDICATIONS)
    )


def test_dose_unit_and_route() -> None:
    ond = medication_get("ondansetron")
    assert ond.dose_check("4", "mg") == Decimal("4.000")
    with pytest.raises(ValidationError) as exc:
        ond.dose_check("4", "mL")
    assert exc.value.message == UNIT_NOT_ALLOWED.format(label="Ondansetron", allowed="mg", value="mL")
    for bad in ("0", "-2", "abc", "NaN"):
        with pytest.raises(ValidationError) as exc:
            ond.dose_check(bad, "mg")
        assert exc.value.message == DOSE_NOT_POSITIVE.format(label="Ondansetron", value=bad)
    with pytest.raises(ValidationError) as exc:
        medication_get("clonidine").route_check("iv")
    assert exc.value.message == ROUTE_NOT_ALLOWED.format(label="Clonidine", allowed="po", value="iv")
