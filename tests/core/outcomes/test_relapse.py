"""Relapse on the protocol's relapse instrument, in that instrument's meaningful change (issue 9)."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.instruments import relapse_check
from ketaclinic.core.outcomes import TrajectoryPoint, trajectory_status
from ketaclinic.core.outcomes.relapse import protocol_relapse_check
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.protocols.files import LIBRARY_DIR


def test_pain_nrs_8_3_8_is_a_relapse():
    check = protocol_relapse_check("pain_nrs", 8, [3, 8], 0.5)
    assert check.relapsed and check.best == 3.0


def test_a_pain_rise_of_two_points_that_regains_half_the_improvement_is_a_relapse():
    assert protocol_relapse_check("pain_nrs", 8, [4, 6], 0.5).relapsed  # 2 points, 2/4 back


def test_a_one_point_pain_wobble_is_not_a_relapse_even_when_it_regains_half():
    """Baseline 4, best 2 (a 50% response), then 3: half the improvement, but 1 point is everyday
    variation."""
    assert relapse_check("pain_nrs", 4, [2, 3], 0.5).relapsed  # the bare rule would propose a booster
    check = protocol_relapse_check("pain_nrs", 4, [2, 3], 0.5)
    assert not check.relapsed and "everyday variation" in check.reason


def test_a_rise_of_30_percent_of_the_baseline_pain_counts_as_meaningful():
    # baseline 5, best 2: a rise of 1.5 (30% of 5) is meaningful though under 2 points; 1.4 is not
    assert protocol_relapse_check("pain_nrs", 5, [2, 3.5], 0.5).relapsed
    assert not protocol_relapse_check("pain_nrs", 5, [2, 3.4], 0.45).relapsed


def test_phq9_relapse_is_unchanged():
    assert protocol_relapse_check("phq9", 20, [8, 14], 0.5).relapsed
    assert not protocol_relapse_check("phq9", 20, [8, 12], 0.5).relapsed


def test_the_pain_protocols_detect_relapse_on_the_pain_scale():
    for pid in ("chronic-pain", "crps-schwartzman"):
        outcomes = parse_protocol(yaml.safe_load((LIBRARY_DIR / f"{pid}.yaml").read_text())).outcomes
        assert outcomes is not None and outcomes.relapse_instrument == "pain_nrs"
        assert outcomes.relapse_instrument in outcomes.instruments


def test_the_trajectory_status_reports_a_pain_relapse():
    points = [TrajectoryPoint(8, 0), TrajectoryPoint(3, 3), TrajectoryPoint(8, 6)]
    status = trajectory_status("pain_nrs", points, relapse_fraction=0.5)
    assert status.relapsed and status.words.startswith("relapse")


@given(
    st.integers(0, 10),
    st.lists(st.integers(0, 10), min_size=1, max_size=8),
    st.sampled_from([0.25, 0.5, 0.75, 1.0]),
)
def test_a_pain_relapse_is_always_a_meaningful_rise_from_the_best(baseline, totals, fraction):
    check = protocol_relapse_check("pain_nrs", baseline, totals, fraction)
    if check.relapsed:
        assert check.best is not None
        rise = totals[-1] - check.best
        assert rise >= 2 or rise >= 0.3 * baseline
        assert relapse_check("pain_nrs", baseline, totals, fraction).relapsed
