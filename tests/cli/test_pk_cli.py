from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketaclinic.cli import main
from ketaclinic.core.pharmacology import simulation as sim_module
from ketaclinic.core.pharmacology.models import PK_MODELS, UNKNOWN_MODEL


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "pk",
        "simulate",
        "--model",
        "domino",
        "--weight",
        "70kg",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "180min",
        "--step",
        "1min",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "domino"
    assert data["unit"] == "ng/mL"
    assert len(data["t_min"]) == len(data["plasma"]) == len(data["effect_site"]) == 181
    assert data["summary"]["plasma_at_end_of_infusion_ng_per_ml"] == pytest.approx(240, abs=1)


def test_segments_follow_command_line_order(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--model", "kamp", "--weight", "70kg", "--until", "120min", "--json"]
    _, a, _ = run(
        capsys,
        "pk",
        "simulate",
        *args,
        "--infusion",
        "20mg/h/30min",
        "--pause",
        "10min",
        "--bolus",
        "0.1mg/kg",
    )
    _, b, _ = run(
        capsys,
        "pk",
        "simulate",
        *args,
        "--bolus",
        "0.1mg/kg",
        "--pause",
        "10min",
        "--infusion",
        "20mg/h/30min",
    )
    pa, pb = json.loads(a)["plasma"], json.loads(b)["plasma"]
    assert pa[0] == 0
    assert pb[0] > 0
    assert json.loads(a)["summary"]["tmax_min"] == pytest.approx(40)


def test_simulate_ending_before_segments_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "pk",
        "simulate",
        "--model",
        "domino",
        "--weight",
        "70kg",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "30min",
    )
    assert code == 2
    assert err.strip() == "ketaclinic: " + sim_module.ENDS_BEFORE_REGIMEN.format(value=30, end=40)


def test_unknown_model_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "pk",
        "simulate",
        "--model",
        "hornik",
        "--weight",
        "70kg",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "60min",
    )
    assert code == 2
    assert err.strip() == "ketaclinic: " + UNKNOWN_MODEL.format(value="hornik", allowed=", ".join(PK_MODELS))


def test_no_segments_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "pk", "simulate", "--model", "domino", "--weight", "70kg", "--until", "60min")
    assert code == 2


def test_population_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "pk",
        "population",
        "--model",
        "domino",
        "--n",
        "1000",
        "--weight-mean",
        "80kg",
        "--weight-sd",
        "15kg",
        "--cv",
        "0.3",
        "--seed",
        "1",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "180min",
        "--step",
        "1min",
        "--threshold",
        "300ng/mL",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert set(data["percentiles"]) == {"p5", "p50", "p95"}
    assert len(data["percentiles"]["p50"]) == 181
    assert 0 < data["summary"]["share_ever_above_threshold"] < 1


def test_models_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pk", "models", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [r["name"] for r in rows] == list(PK_MODELS)
    assert all(
        "opentiva 1.1.2" in r["parameter_source"] and r["ke0_note"].startswith("derived") for r in rows
    )


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plot_writes_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str) -> None:
    out_file = tmp_path / f"curve.{suffix}"
    code, _, _ = run(
        capsys,
        "pk",
        "plot",
        "--model",
        "domino",
        "--weight",
        "70kg",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "180min",
        "--n",
        "200",
        "--weight-sd",
        "15kg",
        "--threshold",
        "300ng/mL",
        "--out",
        str(out_file),
    )
    assert code == 0
    head = out_file.read_bytes()[:8]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<?xml" in head


def test_plot_refuses_other_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "pk",
        "plot",
        "--model",
        "domino",
        "--weight",
        "70kg",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "60min",
        "--out",
        str(tmp_path / "x.jpg"),
    )
    assert code == 2
    assert ".png, .svg" in err


def test_target_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "pk",
        "target",
        "--model",
        "domino",
        "--weight",
        "70kg",
        "--target",
        "150ng/mL",
        "--max-rate",
        "25mg/h",
        "--duration",
        "4h",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["reached_at_min"] == 120
    assert max(r["rate_mg_h"] for r in data["schedule"]) <= 25


def test_simulate_a_protocol_default_session(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "pk",
        "simulate",
        "--protocol",
        "depression-standard",
        "--weight",
        "82kg",
        "--until",
        "180min",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["model"] == "domino"
    # the pump delivers 151.2 mL/h of 41 mg in 100.82 mL: a hair under 0.5 mg/kg/40 min
    assert data["summary"]["plasma_at_end_of_infusion_ng_per_ml"] == pytest.approx(
        240.33 * (151.2 * 41 / 100.82) / 61.5, rel=1e-3
    )


@pytest.mark.parametrize(
    ("segment", "fragment"),
    [
        (["--infusion", "nanmg/kg/40min"], "not a finite number"),
        (["--infusion", "0.5mg/kg/0min"], "outside the allowed range"),
        (["--infusion=-0.5mg/kg/40min"], "outside the allowed range"),
        (["--infusion", "0.5mg/kg/-40min"], "outside the allowed range"),
        (["--infusion", "0.5/40min"], "not understood"),
        (["--bolus", "500mg/kg"], "outside the allowed range"),
        (["--bolus", "0.5"], "has no unit"),
        (["--infusion", "9000mg/h/60min"], "outside the allowed range"),
        (["--pause", "0min", "--infusion", "0.5mg/kg/40min"], "outside the allowed range"),
    ],
)
def test_bad_segments_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], segment: list[str], fragment: str
) -> None:
    code, _, err = run(
        capsys, "pk", "simulate", "--model", "domino", "--weight", "70kg", *segment, "--until", "300min"
    )
    assert code == 2
    assert fragment in err


@pytest.mark.parametrize("weight", ["0kg", "-70kg", "nankg", "9000kg", "70"])
def test_bad_weights_exit_2(capsys: pytest.CaptureFixture[str], weight: str) -> None:
    code, _, err = run(
        capsys,
        "pk",
        "simulate",
        "--model",
        "domino",
        f"--weight={weight}",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "60min",
    )
    assert code == 2
    assert "weight" in err


def test_population_from_a_weight_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "pk",
        "population",
        "--model",
        "kamp",
        "--weights",
        "60kg,80kg,220lb",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "120min",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["summary"]["n"] == 3
    # no variability and a per-kg dose: every patient has the same curve (linear-in-weight model)
    assert data["percentiles"]["p5"] == pytest.approx(data["percentiles"]["p95"], rel=1e-12)


def test_population_needs_list_or_distribution_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "pk",
        "population",
        "--model",
        "kamp",
        "--weights",
        "60kg",
        "--n",
        "5",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "120min",
    )
    assert code == 2
    assert "not both" in err


@pytest.mark.parametrize("n", ["0", "-5", "2000000"])
def test_population_size_out_of_range_names_the_range(capsys: pytest.CaptureFixture[str], n: str) -> None:
    code, _, err = run(
        capsys,
        "pk",
        "population",
        "--model",
        "domino",
        f"--n={n}",
        "--weight-mean",
        "80kg",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "60min",
    )
    assert code == 2
    # the range said is the range enforced: on 61 time points, 50,000,000 values allow 819,672 patients
    assert (
        "allowed range 1–819,672 for 61 time points" if n == "2000000" else "allowed range 1–1,000,000"
    ) in err


def test_the_population_limit_said_is_the_limit_enforced(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.core.pharmacology import population

    monkeypatch.setattr(population, "MAX_VALUES", 61 * 100)  # 100 patients on a 61-point grid
    args = ["pk", "population", "--model", "domino", "--weight-mean", "80kg", "--infusion", "0.5mg/kg/40min"]
    assert run(capsys, *args, "--until", "60min", "--n=100")[0] == 0
    code, _, err = run(capsys, *args, "--until", "60min", "--n=101")
    assert (
        code == 2 and "Number of virtual patients 101 is outside the allowed range 1–100 for 61 time" in err
    )
    assert run(capsys, *args, "--until", "120min", "--n=100")[0] == 2  # a longer grid: fewer patients


def test_population_effect_site_is_labelled(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "pk",
        "population",
        "--model",
        "domino",
        "--n",
        "300",
        "--weight-mean",
        "80kg",
        "--cv",
        "0.3",
        "--infusion",
        "0.5mg/kg/40min",
        "--until",
        "120min",
        "--effect-site",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert len(data["effect_site_percentiles"]["p50"]) == 121
    assert "indicative only" in data["effect_site_note"]
