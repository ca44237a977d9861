"""The monitoring, checklist and discharge sections: shipped values, sources, and refusals of bad sections."""

from __future__ import annotations

import copy

import pytest
import yaml

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.core.protocols.monitoring import ChecklistKind, SuggestedAction, Vital
from ketaclinic.protocols.files import LIBRARY_DIR, shipped_protocols


def _doc(name: str = "depression-standard") -> dict:
    return yaml.safe_load((LIBRARY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def test_every_shipped_protocol_has_the_three_sections_with_sources() -> None:
    for doc in shipped_protocols().values():
        assert doc.monitoring is not None and doc.checklist is not None and doc.discharge is not None, doc.id
        assert 5 <= doc.monitoring.vitals_interval_min <= 15, doc.id  # DOMAIN.md §4: every 5-15 min
        assert all(len(t.source) >= 3 for t in doc.monitoring.thresholds)
        assert all(len(i.source) >= 3 for i in doc.checklist.items)
        assert doc.discharge.padss_pass_score == 9
        assert "Chung 1995" in doc.discharge.source


def test_hold_thresholds_are_the_domain_clinic_defaults() -> None:
    m = shipped_protocols()["depression-standard"].monitoring
    by = {t.code: t for t in m.thresholds}
    assert by["systolic_high"].above == 180 and by["diastolic_high"].above == 110
    assert by["heart_rate_high"].above == 130 and by["spo2_low"].below == 92
    assert by["systolic_high"].action is SuggestedAction.PAUSE
    assert "clinic default" in by["systolic_high"].source
    assert m.plausible_for(Vital.SYSTOLIC).low == 0 and m.plausible_for(Vital.SYSTOLIC).high == 350


def test_observation_is_30_min_and_2_h_for_esketamine() -> None:
    docs = shipped_protocols()
    assert docs["depression-standard"].discharge.observation_min == 30
    assert docs["esketamine-nasal"].discharge.observation_min == 120


def test_checklist_items_cover_the_issue() -> None:
    items = {i.code: i for i in shipped_protocols()["depression-standard"].checklist.items}
    assert set(items) == {
        "identity_checked",
        "consent_on_file",
        "no_heavy_meal",
        "no_alcohol_drugs",
        "medications_reviewed",
        "escort_confirmed",
        "weight_today",
        "baseline_vitals",
        "phq9_today",
        "pregnancy_status",
    }
    assert not items["identity_checked"].prescriber_may_override
    assert items["no_heavy_meal"].prescriber_may_override
    assert items["consent_on_file"].kind is ChecklistKind.CONSENT
    assert items["medications_reviewed"].kind is ChecklistKind.MEDICATIONS_REVIEW
    assert items["phq9_today"].kind is ChecklistKind.PHQ9_TODAY and (
        items["phq9_today"].min,
        items["phq9_today"].max,
    ) == (0, 27)
    assert items["pregnancy_status"].not_applicable_to_sex == "male"  # asked for female, other and unknown


def test_instructions_say_no_driving_and_no_alcohol() -> None:
    text = shipped_protocols()["depression-standard"].discharge.instructions
    assert "24 hours" in text and "48 hours" in text and "drive" in text


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("monitoring", "thresholds", 0, "below"), 50, "exactly one of above or below"),
        (("monitoring", "plausible", 0, "low"), 400, "must be below high"),
        (("checklist", "items", 1, "code"), "identity_checked", "unique"),
        (("checklist", "items", 6, "min"), None, "needs min and max"),
        (("discharge", "vitals_within_percent"), 50, "must not exceed"),
        (("discharge", "padss_pass_score"), 11, "less than or equal to 10"),
        (("discharge", "recovery_vitals_max_age_min"), None, "recovery_vitals_max_age_min"),
        (("discharge", "recovery_vitals_max_age_min"), 0, "greater than 0"),
        (("checklist", "items", 6, "confirm_change_percent"), None, "needs confirm_change_percent"),
        (
            ("checklist", "items", 6, "confirm_bmi_below"),
            80,
            "confirm_bmi_below must be below confirm_bmi_above",
        ),
        (("checklist", "items", 0, "confirm_change_percent"), 10, "weight items only"),
    ],
)
def test_bad_sections_are_refused_naming_the_problem(path, value, problem) -> None:
    data = copy.deepcopy(_doc())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ProtocolError, match=problem):
        parse_protocol(data)


def test_the_sections_are_optional_for_documents_that_run_no_sessions() -> None:
    data = _doc()
    for key in ("monitoring", "checklist", "discharge"):
        data.pop(key)
    assert parse_protocol(data).monitoring is None
