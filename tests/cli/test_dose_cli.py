from __future__ import annotations

import json

import pytest

from ketaclinic.cli import main
from ketaclinic.core.pharmacology import units
from ketaclinic.core.pharmacology.models import UNKNOWN_MODEL


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dose_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "dose",
        "--protocol",
        "depression-standard",
        "--weight",
        "82kg",
        "--dose",
        "0.5mg/kg",
        "--vial",
        "50mg/mL",
        "--bag",
        "100mL",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    for key in ("dose_mg", "dosing_weight_kg", "rate_ml_h", "rate_mg_h", "duration_min", "warnings"):
        assert key in data
    assert data["dose_mg"] == pytest.approx(41.0)
    assert data["dosing_weight_kg"] == 82
    assert data["rate_ml_h"] == 151.2
    assert data["rate_mg_h"] == pytest.approx(61.5)
    assert data["duration_min"] == 40
    assert data["warnings"] == []
    assert data["protocol_version"] == 4


def test_dose_in_pounds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "dose", "--protocol", "depression-standard", "--weight", "180lb", "--json")
    assert code == 0
    assert json.loads(out)["dosing_weight_kg"] == pytest.approx(180 * 0.45359237)


def test_unitless_weight_exits_2_naming_value_and_units(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "dose", "--protocol", "depression-standard", "--weight", "82")
    assert code == 2
    assert err.strip() == "ketaclinic: " + units.UNITLESS.format(
        field="weight", value="82", allowed="kg, lb", example="82kg or 180lb"
    )


def test_hard_limit_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "dose",
        "--protocol",
        "depression-standard",
        "--weight",
        "82kg",
        "--dose",
        "2.5mg/kg",
        "--json",
    )
    assert code == 2
    assert out == ""
    assert "hard limit of 2 mg/kg" in err


def test_soft_limit_prints_warning_and_needs_override(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "dose", "--protocol", "depression-standard", "--weight", "82kg", "--dose", "1.2mg/kg"
    )
    assert code == 0
    assert "WARNING: Dose 1.2 mg/kg is above the soft limit of 1 mg/kg" in out
    assert "Not ready to sign" in out
    code, out, _ = run(
        capsys,
        "dose",
        "--protocol",
        "depression-standard",
        "--weight",
        "82kg",
        "--dose",
        "1.2mg/kg",
        "--override-reason",
        "Partial response at 1.0 mg/kg",
        "--json",
    )
    data = json.loads(out)
    assert data["requires_override"]
    assert data["ready_to_sign"]


def test_unknown_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "dose", "--protocol", "nope", "--weight", "82kg")
    assert code == 2
    assert "Unknown protocol 'nope'" in err


def test_esketamine_record_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "dose", "--protocol", "esketamine-nasal", "--weight", "70kg", "--dose", "84mg", "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert data["devices"] == 3
    assert data["rate_ml_h"] is None


def test_unknown_model_message_constant() -> None:
    assert "{value!r}" in UNKNOWN_MODEL


def test_dose_carries_a_labelled_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "dose", "--protocol", "depression-standard", "--weight", "82kg", "--json")
    pred = json.loads(out)["prediction"]
    assert code == 0
    assert pred["model"] == "domino"
    assert pred["unit"] == "ng/mL"
    assert pred["cmax_ng_per_ml"] == pytest.approx(240, abs=1)
    assert "model prediction" in pred["note"]
