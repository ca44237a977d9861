"""Codes computed from what happened: CPT from the real start and stop, HCPCS from the drug and dose on the
day given, ICD-10-CM checked against the FY2026 tabular."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.billing.codes import (
    INDICATION_ICD10CM_FAMILIES,
    CodeSystem,
    Drug,
    additional_hours,
    diagnoses_for,
    diagnosis_check,
    drug_lines,
    infusion_cpt_lines,
    infusion_minutes,
    ndc_check,
)
from ketaclinic.core.errors import ValidationError

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def codes_for(minutes: int, seconds: int = 0) -> list[tuple[str, int]]:
    lines = infusion_cpt_lines(START, START + timedelta(minutes=minutes, seconds=seconds))
    return [(line.code, line.units) for line in lines]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, [("96374", 1)]),
        (15, [("96374", 1)]),  # 15 minutes or less is a push
        (16, [("96365", 1)]),  # 16 minutes is the shortest infusion
        (40, [("96365", 1)]),  # the seeds' 40-minute infusion
        (60, [("96365", 1)]),
        (90, [("96365", 1)]),  # 30 minutes beyond the hour: not more than 30, no 96366
        (91, [("96365", 1), ("96366", 1)]),
        (150, [("96365", 1), ("96366", 1)]),
        (151, [("96365", 1), ("96366", 2)]),
        (210, [("96365", 1), ("96366", 2)]),
        (211, [("96365", 1), ("96366", 3)]),
        (240, [("96365", 1), ("96366", 3)]),  # the CRPS 4-hour infusion (Schwartzman 2009)
    ],
)
def test_cpt_time_rules_at_every_boundary(minutes: int, expected: list[tuple[str, int]]) -> None:
    assert codes_for(minutes) == expected


def test_a_part_minute_does_not_count() -> None:
    assert codes_for(15, 59) == [("96374", 1)]
    assert codes_for(90, 59) == [("96365", 1)]


def test_times_in_different_zones_count_the_real_elapsed_time() -> None:
    stop = datetime(2026, 11, 20, 9, 45, tzinfo=timezone(timedelta(hours=-5)))  # 14:45 UTC
    assert infusion_minutes(START, stop) == 45


def test_an_infusion_across_the_daylight_saving_change_counts_real_minutes() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 1, 1, 50, tzinfo=new_york)  # 01:50 EDT, before the clocks go back
    stop = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=new_york)  # 01:10 EST, 20 minutes later
    assert infusion_minutes(start, stop) == 20
    spring_start = datetime(2026, 3, 8, 1, 30, tzinfo=new_york)  # 01:30 EST
    spring_stop = datetime(2026, 3, 8, 3, 10, tzinfo=new_york)  # 03:10 EDT: 40 minutes later
    assert [line.code for line in infusion_cpt_lines(spring_start, spring_stop)] == ["96365"]
    assert infusion_minutes(spring_start, spring_stop) == 40


def test_each_line_carries_its_rule_source_and_system() -> None:
    lines = infusion_cpt_lines(START, START + timedelta(minutes=100))
    assert all(line.system is CodeSystem.CPT for line in lines)
    assert "15 minutes" in lines[0].source and "more than 30 minutes" in lines[1].source


@pytest.mark.parametrize(
    ("start", "stop", "words"),
    [
        (START, START, "not after its start"),
        (START, START - timedelta(minutes=5), "not after its start"),
        (START.replace(tzinfo=None), START + timedelta(minutes=40), "no time zone"),
        (START, START + timedelta(hours=25), "at most 1,440 minutes"),
    ],
)
def test_impossible_times_are_refused(start: datetime, stop: datetime, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        infusion_cpt_lines(start, stop)


@given(st.integers(min_value=16, max_value=24 * 60))
def test_96366_units_match_the_rule_for_any_duration(minutes: int) -> None:
    units = additional_hours(minutes)
    # n units means the infusion ran more than 30 minutes beyond hour n (and not beyond hour n + 1 + 30 min)
    assert minutes > 60 * units + 30 if units else minutes <= 90
    assert minutes <= 60 * (units + 1) + 30
    assert codes_for(minutes)[0] == ("96365", 1)


def test_ketamine_is_one_unit_of_j3490_with_the_drug_and_dose_named() -> None:
    (line,) = drug_lines(Drug.KETAMINE, Decimal("35.5"), date(2026, 11, 20), ndc="0409-2051-05")
    assert (line.code, line.units) == ("J3490", 1)
    assert line.note == "ketamine hydrochloride 35.5 mg IV"
    assert line.ndc == "00409205105"


@pytest.mark.parametrize(
    ("day", "code"),
    [(date(2025, 12, 31), "S0013"), (date(2026, 1, 1), "J0013"), (date(2026, 11, 20), "J0013")],
)
def test_esketamine_code_depends_on_the_day_given(day: date, code: str) -> None:
    (drug,) = drug_lines(Drug.ESKETAMINE, 56, day)
    assert (drug.code, drug.units) == (code, 56)


@pytest.mark.parametrize(("mg", "visit"), [(28, "G2082"), (56, "G2082"), (84, "G2083"), (112, "G2083")])
def test_esketamine_visit_code_by_dose(mg: int, visit: str) -> None:
    (line,) = drug_lines(Drug.ESKETAMINE, mg, date(2026, 11, 20), medicare=True)
    assert (line.code, line.units) == (visit, 1)


def test_medicare_gets_the_bundled_visit_code_and_no_separate_drug_line() -> None:
    medicare = drug_lines(Drug.ESKETAMINE, 84, date(2026, 11, 20), medicare=True)
    assert [line.code for line in medicare] == ["G2083"]
    assert "drug and 2 hours of observation included" in medicare[0].description
    commercial = drug_lines(Drug.ESKETAMINE, 84, date(2026, 11, 20))
    assert [(line.code, line.units) for line in commercial] == [("J0013", 84)]


@pytest.mark.parametrize(
    ("drug", "dose", "words"),
    [
        (Drug.ESKETAMINE, 50, "whole number of 28 mg devices"),
        (Drug.ESKETAMINE, Decimal("56.5"), "whole number of 28 mg devices"),
        (Drug.ESKETAMINE, 140, "more than 112 mg"),
        (Drug.KETAMINE, 0, "more than 0 mg"),
        (Drug.KETAMINE, Decimal("-5"), "more than 0 mg"),
        (Drug.KETAMINE, Decimal("1000.1"), "more than 1000 mg"),
        (Drug.KETAMINE, 35.0, "floating-point"),
    ],
)
def test_doses_that_cannot_be_billed_are_refused(drug: Drug, dose: Decimal, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        drug_lines(drug, dose, date(2026, 11, 20))
    assert caught.value.field == "dose_mg"


@pytest.mark.parametrize(
    ("ndc", "digits"),
    [
        ("0409-2051-05", "00409205105"),
        ("00409-2051-05", "00409205105"),
        ("12345-678-90", "12345067890"),
        ("12345-6789-1", "12345678901"),
        ("", ""),
    ],
)
def test_ndcs_are_put_into_the_11_digit_billing_form(ndc: str, digits: str) -> None:
    assert ndc_check(ndc) == digits


@pytest.mark.parametrize("ndc", ["0409205105", "123", "abcd-efgh-ij", "0409-2051"])
def test_malformed_ndcs_are_refused(ndc: str) -> None:
    with pytest.raises(ValidationError, match="NDC"):
        ndc_check(ndc)


@pytest.mark.parametrize(
    ("code", "billed"),
    [
        ("F33.1", "F33.1"),
        ("f332", "F33.2"),
        ("F32.A", "F32.A"),
        ("F33.40", "F33.40"),
        ("M79.7", "M79.7"),
        ("F43.10", "F43.10"),
        ("G90.511", "G90.511"),
    ],
)
def test_billable_codes_are_accepted_and_written_with_their_dot(code: str, billed: str) -> None:
    assert diagnosis_check(code) == billed


@pytest.mark.parametrize(
    ("code", "words"), [("F31", "heading, not a billable"), ("F33.4", "heading"), ("F43.1", "heading")]
)
def test_headings_are_refused_with_specific_codes_offered(code: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        diagnosis_check(code)
    assert caught.value.field == "diagnosis"


@pytest.mark.parametrize("code", ["TRD", "F99.99", "", "F32-1", "F00-F99"])
def test_codes_not_in_the_tabular_are_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="not an ICD-10-CM code"):
        diagnosis_check(code)


def test_a_diagnosis_must_fit_the_screened_indication() -> None:
    assert diagnosis_check("F33.2", "trd") == "F33.2"
    with pytest.raises(
        ValidationError, match="does not fit the screened indication Treatment-resistant depression"
    ):
        diagnosis_check("F41.1", "trd")
    with pytest.raises(ValidationError, match="Unknown indication"):
        diagnosis_check("F33.2", "nope")


INDICATIONS = sorted(INDICATION_ICD10CM_FAMILIES)
EVERY_OFFERED = sorted({code for ind in INDICATIONS for code, _ in diagnoses_for(ind)})


@pytest.mark.parametrize(
    ("indication", "expected"),
    [
        ("ptsd", ["F43.10", "F43.11", "F43.12"]),
        ("anxiety", ["F41.0", "F41.1", "F41.3", "F41.8", "F41.9"]),
        ("fibromyalgia", ["M79.7"]),
        ("ocd", ["F42.2", "F42.3", "F42.4", "F42.8", "F42.9"]),
    ],
)
def test_the_codes_offered_for_an_indication_are_the_tabulars_billable_codes(
    indication: str, expected: list[str]
) -> None:
    assert [code for code, _ in diagnoses_for(indication)] == expected


def test_depression_offers_every_billable_f32_and_f33_code_and_no_heading() -> None:
    codes = [code for code, _ in diagnoses_for("trd")]
    assert {
        "F32.0",
        "F32.5",
        "F32.89",
        "F32.9",
        "F32.A",
        "F33.0",
        "F33.3",
        "F33.40",
        "F33.42",
        "F33.9",
    } <= set(codes)
    assert "F32" not in codes and "F33.4" not in codes and "F32.8" not in codes
    assert len(codes) == 19
    words = dict(diagnoses_for("mdd"))
    assert words["F33.1"] == "Major depressive disorder, recurrent, moderate"


def test_pain_and_migraine_lists_hold_their_limb_and_intractable_codes() -> None:
    crps = [code for code, _ in diagnoses_for("crps")]
    assert crps[0] == "G90.50" and "G90.59" in crps and all(c.startswith("G90.5") for c in crps)
    migraine = dict(diagnoses_for("migraine"))
    assert "intractable" in migraine["G43.019"]
    assert "G43.909" in migraine and "G43" not in migraine


@given(st.sampled_from(INDICATIONS), st.data())
def test_every_offered_code_is_accepted_for_its_indication(indication: str, data: st.DataObject) -> None:
    offered = diagnoses_for(indication)
    code, words = data.draw(st.sampled_from(offered))
    assert diagnosis_check(code, indication) == code
    assert diagnosis_check(code.lower(), indication) == code
    assert words


@given(st.sampled_from(INDICATIONS), st.sampled_from(EVERY_OFFERED))
def test_a_code_is_accepted_for_an_indication_exactly_when_it_is_offered_for_it(
    indication: str, code: str
) -> None:
    offered = {c for c, _ in diagnoses_for(indication)}
    if code in offered:
        assert diagnosis_check(code, indication) == code
    else:
        with pytest.raises(ValidationError, match="does not fit the screened indication") as caught:
            diagnosis_check(code, indication)
        assert caught.value.field == "diagnosis" and caught.value.value == code


def _checked(text: str) -> str | ValidationError:
    try:
        return diagnosis_check(text)
    except ValidationError as exc:
        return exc


@given(st.text(max_size=10))
def test_any_text_is_either_a_billable_code_or_refused_naming_the_field(text: str) -> None:
    outcome = _checked(text)
    if isinstance(outcome, ValidationError):
        assert outcome.field == "diagnosis"
        assert "ICD-10-CM" in outcome.message or "heading" in outcome.message
    else:
        assert outcome == outcome.strip().upper() and outcome[0].isalpha()


@pytest.mark.parametrize(
    ("code", "indication", "message", "value"),
    [
        (
            "F99.99",
            None,
            "Diagnosis code 'F99.99' is not an ICD-10-CM code: give a code such as F33.1 (letters, "
            "digits and a dot).",
            "F99.99",
        ),
        (
            "f31",
            None,
            "Diagnosis code F31 (Bipolar disorder) is a heading, not a billable code: choose one of its more "
            "specific codes, e.g. F31.0, F31.10, F31.11.",
            "F31",
        ),
        (
            "F33.1",
            "neuropathic_pain",
            "Diagnosis code F33.1 (Major depressive disorder, recurrent, moderate) does not fit the "
            "screened indication Neuropathic pain: codes starting G89 or G62 or G56 or G57 or G58 or "
            "M79.2 are allowed.",
            "F33.1",
        ),
    ],
    ids=["unknown", "heading", "other-indication"],
)
def test_a_refused_diagnosis_is_named_with_its_description_and_what_would_do(
    code: str, indication: str | None, message: str, value: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        diagnosis_check(code, indication)
    assert (caught.value.message, caught.value.field, caught.value.value) == (message, "diagnosis", value)


def test_a_diagnosis_typed_with_spaces_is_read_as_the_code() -> None:
    assert diagnosis_check(" f 33.1 ") == "F33.1"
