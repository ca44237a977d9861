"""One test per bug found in the dose and PK engine; never deleted."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import units
from ketaclinic.core.pharmacology.regimen import infusion_parse


def test_nan_infusion_dose_names_the_nan_not_a_syntax_error() -> None:
    """Bug: ``nanmg/kg/40min`` was tried as a dose, then as a rate, and reported as "not understood"."""
    with pytest.raises(ValidationError) as exc:
        infusion_parse("nanmg/kg/40min")
    assert exc.value.message == units.NOT_FINITE.format(field="infusion dose", value="nanmg/kg")


def test_negative_infusion_rate_names_the_range() -> None:
    """Same bug for rates: ``-20mg/h/60min`` must say the rate is out of range."""
    with pytest.raises(ValidationError) as exc:
        infusion_parse("-20mg/h/60min")
    assert "outside the allowed range" in exc.value.message
