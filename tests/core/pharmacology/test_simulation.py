"""Every model against an independent ODE solution, DOMAIN.md reference values, and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import regimen as regimen_module
from ketaclinic.core.pharmacology import simulation as sim_module
from ketaclinic.core.pharmacology.models import PK_MODELS, UNKNOWN_MODEL, pk_model_get
from ketaclinic.core.pharmacology.regimen import Bolus, Infusion, Pause, Regimen, infusion_parse
from ketaclinic.core.pharmacology.simulation import simulate

MODELS = list(PK_MODELS)
STANDARD = Regimen.of([Infusion.dose_over(duration_min=40, dose_mg_per_kg=0.5)])


def ode_reference(
    model_name: str, weight: float, reg: Regimen, t_eval: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Independent: the ODEs written out by hand, integrated piecewise by solve_ivp (rtol 1e-10)."""
    m = PK_MODELS[model_name]
    v1 = m.v1_l_per_kg * weight
    k10, k12, k21, k13, k31, ke0 = (
        m.k10_per_min,
        m.k12_per_min,
        m.k21_per_min,
        m.k13_per_min,
        m.k31_per_min,
        m.ke0_per_min,
    )

    def rhs(_t: float, y: np.ndarray, u: float) -> list[float]:
        x1, x2, x3, ce = y
        return [
            -(k10 + k12 + k13) * x1 + k21 * x2 + k31 * x3 + u,
            k12 * x1 - k21 * x2,
            k13 * x1 - k31 * x3,
            ke0 * (x1 / v1 - ce),
        ]

    y = np.zeros(4)
    cp, ce = np.full(t_eval.size, np.nan), np.full(t_eval.size, np.nan)
    t = 0.0
    pieces = []
    for s in reg.segments:
        if isinstance(s, Bolus):
            pieces.append(("bolus", t, t, s.mg_for(weight)))
        elif isinstance(s, Infusion):
            pieces.append(("rate", t, t + s.duration_min, s.mg_per_min_for(weight)))
            t += s.duration_min
        else:
            pieces.append(("rate", t, t + s.duration_min, 0.0))
            t += s.duration_min
    pieces.append(("rate", t, float(t_eval[-1]), 0.0))
    for kind, a, b, val in pieces:
        if kind == "bolus":
            y[0] += val
            sel = t_eval == a
            cp[sel], ce[sel] = y[0] / v1, y[3]
            continue
        if b <= a:
            continue
        sel = (t_eval >= a) & (t_eval <= b)
        sol = solve_ivp(
            rhs,
            (a, b),
            y,
            args=(val,),
            method="DOP853",
            rtol=1e-10,
            atol=1e-14,
            max_step=0.5,
            t_eval=t_eval[sel],
            dense_output=False,
        )
        cp[sel], ce[sel] = sol.y[0] / v1, sol.y[3]
        y = solve_ivp(rhs, (a, b), y, args=(val,), method="DOP853", rtol=1e-10, atol=1e-14).y[:, -1]
    return cp * 1000, ce * 1000


@pytest.mark.parametrize("name", MODELS)
def test_matches_independent_ode_solution(name: str) -> None:
    reg = Regimen.of(
        [
            Bolus(dose_mg_per_kg=0.1),
            Infusion.dose_over(duration_min=40, dose_mg_per_kg=0.5),
            Pause(10),
            infusion_parse("20mg/h/30min"),
        ]
    )
    s = simulate(PK_MODELS[name], 70, reg, until_min=180, step_min=1)
    cp, ce = ode_reference(name, 70, reg, s.t_min)
    np.testing.assert_allclose(s.plasma_ng_per_ml, cp, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(s.effect_site_ng_per_ml, ce, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("weight", [50, 70, 82, 120])
def test_domino_reference_240_at_end_of_infusion_any_weight(weight: float) -> None:
    s = simulate(PK_MODELS["domino"], weight, STANDARD, until_min=180, step_min=1)
    assert s.summary.plasma_at_end_of_infusion_ng_per_ml == pytest.approx(240, abs=1)  # DOMAIN.md §3: ≈ 240


@pytest.mark.parametrize(("name", "reference"), [("kamp", 253), ("clements", 177), ("hijazi", 225)])
def test_reference_values_at_70kg(name: str, reference: float) -> None:
    s = simulate(PK_MODELS[name], 70, STANDARD, until_min=180, step_min=1)
    assert s.summary.plasma_at_end_of_infusion_ng_per_ml == pytest.approx(reference, abs=1)  # DOMAIN.md §3


@pytest.mark.parametrize("name", MODELS)
def test_derived_ke0_gives_one_minute_time_to_peak(name: str) -> None:
    """opentiva derived each ke0 from an assumed 1-min time to peak effect after a bolus: check it."""
    s = simulate(PK_MODELS[name], 70, Regimen.of([Bolus(dose_mg=10)]), until_min=10, step_min=0.05)
    assert s.summary.effect_site_tmax_min == pytest.approx(1.0, abs=0.01)
    assert PK_MODELS[name].ke0_derived


def test_summary_threshold_is_consistent_with_the_curve() -> None:
    s = simulate(PK_MODELS["domino"], 70, STANDARD, until_min=180, step_min=1, threshold_ng_per_ml=150)
    th = s.summary.threshold
    assert th is not None
    assert th.first_above_min is not None
    assert th.below_from_min is not None
    assert s.trajectory.value_at(th.first_above_min) == pytest.approx(150, rel=1e-8)
    assert s.trajectory.value_at(th.below_from_min) == pytest.approx(150, rel=1e-8)
    assert th.minutes_above == pytest.approx(th.below_from_min - th.first_above_min, rel=1e-9)
    fine = simulate(PK_MODELS["domino"], 70, STANDARD, until_min=180, step_min=0.001)
    assert th.minutes_above == pytest.approx(float((fine.plasma_ng_per_ml >= 150).sum()) * 0.001, abs=0.002)


def test_threshold_never_reached_and_still_above() -> None:
    never = simulate(PK_MODELS["domino"], 70, STANDARD, until_min=60, step_min=1, threshold_ng_per_ml=1000)
    assert never.summary.threshold.minutes_above == 0
    assert never.summary.threshold.below_from_min == 0
    still = simulate(PK_MODELS["clements"], 70, STANDARD, until_min=40, step_min=1, threshold_ng_per_ml=100)
    assert still.summary.threshold.below_from_min is None


def test_output_grid_independent_of_step() -> None:
    a = simulate(PK_MODELS["kamp"], 70, STANDARD, until_min=180, step_min=1)
    b = simulate(PK_MODELS["kamp"], 70, STANDARD, until_min=180, step_min=1 / 60)
    np.testing.assert_allclose(a.plasma_ng_per_ml, b.plasma_ng_per_ml[::60], rtol=1e-11)


# --- properties -----------------------------------------------------------------------------------------
segment = st.one_of(
    st.builds(lambda d: Bolus(dose_mg=d), st.floats(0.1, 50)),
    st.builds(lambda r, t: Infusion(t, rate_mg_per_min=r), st.floats(0.01, 5), st.floats(0.5, 120)),
    st.builds(Pause, st.floats(0.5, 60)),
)
regimens = st.lists(segment, min_size=1, max_size=5).filter(
    lambda s: not all(isinstance(x, Pause) for x in s)
)


@settings(max_examples=40, deadline=None)
@given(regimens, st.sampled_from(MODELS), st.floats(20, 350))
def test_concentrations_never_negative(segs: list, name: str, weight: float) -> None:
    reg = Regimen.of(segs)
    s = simulate(PK_MODELS[name], weight, reg, until_min=reg.end_min + 30, step_min=1)
    assert (s.plasma_ng_per_ml >= 0).all()
    assert (s.effect_site_ng_per_ml >= -1e-12).all()


shapes = st.lists(
    st.tuples(st.sampled_from(["bolus", "infusion", "pause"]), st.floats(0.5, 90)), min_size=1, max_size=5
)


def _build(shape: list[tuple[str, float]], amounts: list[float]) -> list[Bolus | Infusion | Pause]:
    out: list[Bolus | Infusion | Pause] = []
    for (kind, minutes), amount in zip(shape, amounts, strict=True):
        if kind == "bolus":
            out.append(Bolus(dose_mg=amount * 10))
        elif kind == "infusion":
            out.append(Infusion(minutes, rate_mg_per_min=amount))
        else:
            out.append(Pause(minutes))
    return out


@settings(max_examples=30, deadline=None)
@given(shapes, st.data(), st.sampled_from(MODELS))
def test_superposition(shape: list[tuple[str, float]], data: st.DataObject, name: str) -> None:
    """Two regimens with the same timing: the response to their sum is the sum of their responses."""
    if all(kind == "pause" for kind, _ in shape):
        shape = [("infusion", 10.0), *shape]
    amounts = st.lists(st.floats(0.01, 2.0), min_size=len(shape), max_size=len(shape))
    a_amt, b_amt = data.draw(amounts), data.draw(amounts)
    ra, rb = Regimen.of(_build(shape, a_amt)), Regimen.of(_build(shape, b_amt))
    rab = Regimen.of(_build(shape, [x + y for x, y in zip(a_amt, b_amt, strict=True)]))
    until = ra.end_min + 20
    ca, cb, cab = (
        simulate(PK_MODELS[name], 70, r, until_min=until, step_min=1).plasma_ng_per_ml for r in (ra, rb, rab)
    )
    np.testing.assert_allclose(cab, ca + cb, rtol=1e-10, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(MODELS), st.floats(0.5, 50), st.floats(1, 120))
def test_bolus_plus_infusion_superposition(name: str, dose: float, minutes: float) -> None:
    until = minutes + 60
    b = simulate(
        PK_MODELS[name], 70, Regimen.of([Bolus(dose_mg=dose), Pause(minutes)]), until_min=until, step_min=1
    )
    i = simulate(
        PK_MODELS[name],
        70,
        Regimen.of([Infusion(minutes, rate_mg_per_min=dose / minutes)]),
        until_min=until,
        step_min=1,
    )
    both = simulate(
        PK_MODELS[name],
        70,
        Regimen.of([Bolus(dose_mg=dose), Infusion(minutes, rate_mg_per_min=dose / minutes)]),
        until_min=until,
        step_min=1,
    )
    np.testing.assert_allclose(
        both.plasma_ng_per_ml, b.plasma_ng_per_ml + i.plasma_ng_per_ml, rtol=1e-10, atol=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(MODELS), st.floats(0.05, 2.0), st.floats(2.5, 240), st.floats(1.0, 4.0))
def test_longer_infusion_of_same_dose_never_peaks_higher(
    name: str, mg_per_kg: float, d1: float, factor: float
) -> None:
    d2 = d1 * factor
    until = d2 + 10
    short = simulate(
        PK_MODELS[name],
        70,
        Regimen.of([Infusion.dose_over(duration_min=d1, dose_mg_per_kg=mg_per_kg)]),
        until_min=until,
        step_min=1,
    )
    long = simulate(
        PK_MODELS[name],
        70,
        Regimen.of([Infusion.dose_over(duration_min=d2, dose_mg_per_kg=mg_per_kg)]),
        until_min=until,
        step_min=1,
    )
    assert long.summary.cmax_ng_per_ml <= short.summary.cmax_ng_per_ml * (1 + 1e-9)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(MODELS), st.floats(20, 350), st.floats(20, 350))
def test_per_kg_dose_gives_same_curve_at_any_weight(name: str, w1: float, w2: float) -> None:
    a = simulate(PK_MODELS[name], w1, STANDARD, until_min=60, step_min=1)
    b = simulate(PK_MODELS[name], w2, STANDARD, until_min=60, step_min=1)
    np.testing.assert_allclose(a.plasma_ng_per_ml, b.plasma_ng_per_ml, rtol=1e-10, atol=1e-12)


# --- bad input ------------------------------------------------------------------------------------------
def test_unknown_model() -> None:
    with pytest.raises(ValidationError) as exc:
        pk_model_get("hornik")
    assert exc.value.message == UNKNOWN_MODEL.format(value="hornik", allowed=", ".join(PK_MODELS))


def test_simulation_that_ends_before_the_segments_end() -> None:
    with pytest.raises(ValidationError) as exc:
        simulate(PK_MODELS["domino"], 70, STANDARD, until_min=30, step_min=1)
    assert exc.value.message == sim_module.ENDS_BEFORE_REGIMEN.format(value=30, end=40)


@pytest.mark.parametrize(
    ("until", "step", "template"),
    [
        (0, 1, sim_module.BAD_UNTIL),
        (-5, 1, sim_module.BAD_UNTIL),
        (float("nan"), 1, sim_module.BAD_UNTIL),
        (1e9, 1, sim_module.BAD_UNTIL),
        (180, 0, sim_module.BAD_STEP),
        (180, -1, sim_module.BAD_STEP),
        (180, 200, sim_module.BAD_STEP),
    ],
)
def test_bad_grid(until: float, step: float, template: str) -> None:
    with pytest.raises(ValidationError) as exc:
        simulate(PK_MODELS["domino"], 70, STANDARD, until_min=until, step_min=step)
    assert exc.value.message.startswith(template.split("{")[0])


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), 1e6])
def test_bad_segments(bad: float) -> None:
    for make in (
        lambda: Infusion(bad, rate_mg_per_min=1),
        lambda: Infusion(10, rate_mg_per_min=bad),
        lambda: Bolus(dose_mg=bad),
        lambda: Pause(bad),
        lambda: Infusion(10, rate_mg_per_kg_per_min=bad),
    ):
        with pytest.raises(ValidationError) as exc:
            make()
        assert "outside the allowed range" in exc.value.message


def test_empty_and_pause_only_regimens() -> None:
    with pytest.raises(ValidationError) as exc:
        Regimen.of([])
    assert exc.value.message == regimen_module.EMPTY_REGIMEN.format(value=[])
    with pytest.raises(ValidationError) as exc:
        Regimen.of([Pause(10)])
    assert exc.value.message == regimen_module.NO_DRUG.format(value=1)


@pytest.mark.parametrize("text", ["0.5mg/kg", "0.5mg/kg/40", "40min", "abc/40min", "0.5mg/kg/-40min"])
def test_bad_infusion_specs(text: str) -> None:
    with pytest.raises(ValidationError):
        infusion_parse(text)


def test_unitless_weight_in_model() -> None:
    with pytest.raises(ValidationError):
        PK_MODELS["domino"].for_weight(float("nan"))


def test_grid_ends_exactly_at_until_when_not_a_multiple_of_step() -> None:
    s = simulate(PK_MODELS["hijazi"], 70, STANDARD, until_min=100, step_min=30)
    assert list(s.t_min) == [0, 30, 60, 90, 100]
    assert s.plasma_ng_per_ml[-1] == pytest.approx(s.trajectory.value_at(100), rel=1e-12)
