"""Every dose written on the MAR, decided in the pure core: each refusal names its field, the value as typed
and the allowed range in words; each limit is inclusive (exactly at a maximum is given, one thousandth of a
unit beyond is not); earlier doses in another unit are converted exactly or refused, never guessed; a
charted allergy is matched as a whole word, plural allowed, whatever its case. Written where mutation
testing showed the formulary check was pinned only by the Django suite, which ``make mutation`` does not run.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.medications import (
    ALLERGY_STOPS_DOSE,
    DOSE_ABOVE_HARD,
    DOSE_NOT_POSITIVE,
    MEDICATION_NOT_IN_FORMULARY,
    MEDICATION_UNKNOWN,
    MIN_MED_OVERRIDE_REASON_CHARS,
    NEEDS_PRESCRIBER_ORDER,
    NOT_A_MANUAL_DOSE,
    ORDER_DOSE_MISMATCH,
    ORDER_DOSE_MISSING,
    ROUTE_NOT_ALLOWED,
    SESSION_ABOVE_HARD,
    SOFT_LIMIT_NEEDS_OVERRIDE,
    UNIT_NOT_ALLOWED,
    UNIT_WRONG,
    AdministrationDecision,
    PriorDose,
    administration_check,
    allergy_match,
    medication_get,
)
from ketaclinic.protocols.files import shipped_protocol

DEPRESSION = shipped_protocol("depression-standard").formulary
NASAL = shipped_protocol("esketamine-nasal").formulary
REASON = "Still vomiting after 4 mg, prescriber present"


def refused(**kwargs: object) -> ValidationError:
    formulary = kwargs.pop("formulary", DEPRESSION)
    code = kwargs.pop("code")
    with pytest.raises(ValidationError) as err:
        administration_check(formulary, code, **kwargs)  # type: ignore[arg-type]
    return err.value


def mg(amount: str, unit: str = "mg") -> PriorDose:
    return PriorDose(Decimal(amount), unit)


# --- the dose as typed -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "kept"),
    [("2", "2.000"), (" 2.5 ", "2.500"), (1.23456, "1.235"), ("0.001", "0.001"), (0.1, "0.100")],
)
def test_a_dose_is_read_exactly_to_the_thousandth(typed: object, kept: str) -> None:
    d = administration_check(DEPRESSION, "ondansetron", dose=typed, unit="mg", route="iv")
    assert d.amount == Decimal(kept) and str(d.amount) == kept


@pytest.mark.parametrize("typed", ["abc", "", None, "0", 0, "-1", -0.5, "nan", "NaN", "inf", "-Infinity"])
def test_a_dose_that_is_not_a_number_above_zero_is_refused_naming_the_value(typed: object) -> None:
    err = refused(code="ondansetron", dose=typed, unit="mg", route="iv")
    assert err.message == DOSE_NOT_POSITIVE.format(label="Ondansetron", value=typed)
    assert (err.field, err.value) == ("dose", typed)


def test_a_dose_of_a_million_units_or_more_is_refused_as_a_typing_slip() -> None:
    med = medication_get("ondansetron")
    assert med.dose_check("999999.999", "mg") == Decimal("999999.999")
    with pytest.raises(ValidationError) as err:
        med.dose_check("1000000", "mg")
    assert err.value.message == "Ondansetron dose '1000000' must be a number above 0."
    assert (err.value.field, err.value.value) == ("dose", "1000000")


def test_a_catalogue_unit_the_drug_is_not_recorded_in_is_refused_listing_its_units() -> None:
    with pytest.raises(ValidationError) as err:
        medication_get("clonidine").dose_check("100", "g")
    assert err.value.message == UNIT_NOT_ALLOWED.format(label="Clonidine", allowed="mg or mcg", value="g")
    assert err.value.message == "Clonidine is recorded in mg or mcg, not 'g'."
    assert (err.value.field, err.value.value) == ("unit", "g")
    assert medication_get("clonidine").dose_check("100", "mcg") == Decimal("100.000")


@pytest.mark.parametrize("code", [None, "  "])
def test_no_medication_named_is_refused_with_the_catalogue(code: str | None) -> None:
    with pytest.raises(ValidationError) as err:
        medication_get(code)
    assert err.value.message == MEDICATION_UNKNOWN.format(
        value=code, allowed="ketamine, esketamine, ondansetron, clonidine, labetalol, midazolam, lorazepam"
    )
    assert (err.value.field, err.value.value) == ("medication", code)


def test_a_medication_code_is_found_in_capitals() -> None:
    assert medication_get("LORAZEPAM").label == "Lorazepam"


# --- which drug -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("formulary", "allowed"),
    [
        (DEPRESSION, "Ondansetron, Labetalol, Clonidine, Midazolam, Lorazepam"),
        (NASAL, "Ondansetron, Labetalol, Clonidine, Midazolam, Lorazepam, Esketamine nasal spray"),
    ],
)
def test_a_drug_outside_the_formulary_is_refused_listing_what_may_be_recorded(
    formulary: object, allowed: str
) -> None:
    err = refused(formulary=formulary, code="Propofol", dose="10", unit="mg", route="iv")
    assert err.message == MEDICATION_NOT_IN_FORMULARY.format(value="Propofol", allowed=allowed)
    assert "Ketamine" not in err.message.split("may record", 1)[1]
    assert (err.field, err.value) == ("medication", "Propofol")


def test_a_drug_code_is_matched_whatever_its_case_and_spaces() -> None:
    d = administration_check(DEPRESSION, "  OnDansetron ", dose="4", unit="mg", route="iv")
    assert d.session_total == Decimal("4.000")


@pytest.mark.parametrize("code", [None, ""])
def test_no_drug_named_is_refused_on_the_medication_field(code: str | None) -> None:
    err = refused(code=code, dose="4", unit="mg", route="iv")
    assert (err.field, err.value) == ("medication", code)


def test_ketamine_cannot_be_given_by_hand_on_an_infusion_protocol() -> None:
    err = refused(code="ketamine", dose="10", unit="mg", route="iv")
    assert err.message == NOT_A_MANUAL_DOSE.format(label="Ketamine")
    assert err.message.startswith("Ketamine is given only as its signed order says")
    assert (err.field, err.value) == ("medication", "ketamine")


def test_ketamine_by_hand_is_refused_before_its_allergy_is_looked_at() -> None:
    err = refused(code="ketamine", dose="10", unit="mg", route="iv", allergies=["ketamine"])
    assert err.message == NOT_A_MANUAL_DOSE.format(label="Ketamine")


# --- allergies ------------------------------------------------------------------------------------------
def test_a_charted_allergy_stops_the_dose_naming_the_allergy_as_charted() -> None:
    err = refused(code="ondansetron", dose="4", unit="mg", route="iv", allergies=["latex", "ZOFRAN"])
    assert err.message == ALLERGY_STOPS_DOSE.format(label="Ondansetron", value="ZOFRAN")
    assert err.message.startswith("Ondansetron is not given: the patient has a charted allergy to 'ZOFRAN'.")
    assert (err.field, err.value) == ("medication", "ondansetron")


@pytest.mark.parametrize(
    ("allergy", "stops"),
    [
        ("Benzodiazepines", True),
        ("benzodiazepine", True),
        ("BENZODIAZEPINES (rash)", True),
        ("Versed", True),
        ("midazolam hcl", True),
        ("non-benzodiazepine hypnotics", False),
        ("benzodiazepine-like drugs", False),
        ("benzodiazepineish", False),
        ("midazolams", True),
        ("xmidazolam", False),
        ("", False),
    ],
)
def test_an_allergy_is_matched_as_a_whole_word_plural_allowed(allergy: str, stops: bool) -> None:
    midazolam = DEPRESSION.entry("midazolam")
    assert midazolam is not None
    assert allergy_match(midazolam, [allergy]) == (allergy if stops else None)


def test_a_class_name_with_a_hyphen_and_a_digit_is_matched_literally() -> None:
    ondansetron = DEPRESSION.entry("ondansetron")
    clonidine = DEPRESSION.entry("clonidine")
    assert ondansetron is not None and clonidine is not None
    assert allergy_match(ondansetron, ["5-HT3 antagonists"]) == "5-HT3 antagonists"
    assert allergy_match(ondansetron, ["5xHT3 antagonist"]) is None
    assert allergy_match(clonidine, ["Alpha-2 agonist"]) == "Alpha-2 agonist"


def test_the_first_matching_allergy_is_named() -> None:
    lorazepam = DEPRESSION.entry("lorazepam")
    assert lorazepam is not None
    assert allergy_match(lorazepam, ["", "penicillin", "Ativan", "benzodiazepines"]) == "Ativan"


# --- unit and route -------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["MG", " mg "])
def test_the_unit_is_read_whatever_its_case_and_spaces(unit: str) -> None:
    assert administration_check(DEPRESSION, "ondansetron", dose="4", unit=unit, route="iv").unit == "mg"


@pytest.mark.parametrize("unit", ["mcg", "", None, "g"])
def test_a_dose_in_another_unit_is_refused_naming_the_unit_to_write(unit: str | None) -> None:
    err = refused(code="ondansetron", dose="4", unit=unit, route="iv")
    assert err.message == UNIT_WRONG.format(
        label="Ondansetron", unit="mg", usual="usual dose 4 mg", value=unit
    )
    assert (err.field, err.value) == ("unit", unit)


def test_clonidine_in_milligrams_is_refused_because_it_is_dosed_in_micrograms() -> None:
    err = refused(code="clonidine", dose="0.1", unit="mg", route="po", prescriber_order=True)
    assert (
        err.message == "Clonidine is dosed in mcg (usual dose 100 mcg), not in 'mg': write the dose in mcg."
    )


def test_a_route_the_formulary_does_not_list_is_refused_listing_its_routes() -> None:
    err = refused(code="midazolam", dose="1", unit="mg", route="po", prescriber_order=True)
    assert err.message == ROUTE_NOT_ALLOWED.format(label="Midazolam", allowed="iv or im", value="po")
    assert (err.field, err.value) == ("route", "po")


# --- hard maxima: per dose, then per session ------------------------------------------------------------
def test_a_dose_exactly_at_the_hard_maximum_is_within_it() -> None:
    d = administration_check(
        DEPRESSION,
        "labetalol",
        dose="80",
        unit="mg",
        route="iv",
        prescriber_order=True,
        override_reason=REASON,
    )
    assert d.amount == Decimal("80.000") and d.beyond_soft == (
        "20 mg per dose",
        "40 mg per session, this one included",
    )


def test_a_dose_a_thousandth_above_the_hard_maximum_is_refused_with_its_range() -> None:
    err = refused(
        code="labetalol", dose="80.001", unit="mg", route="iv", prescriber_order=True, override_reason=REASON
    )
    assert err.message == DOSE_ABOVE_HARD.format(
        label="Labetalol", value=80.001, unit="mg", hard=80, usual=10
    )
    assert err.message == (
        "Labetalol 80.001 mg is above the most that may be given in one dose (80 mg; usual dose 10 mg); "
        "it is refused."
    )
    assert (err.field, err.value) == ("dose", "80.001")


def test_a_session_total_exactly_at_the_hard_maximum_is_within_it() -> None:
    d = administration_check(
        DEPRESSION,
        "labetalol",
        dose="50",
        unit="mg",
        route="iv",
        given=[mg("80"), mg("80"), mg("90")],
        prescriber_order=True,
        override_reason=REASON,
    )
    assert d.session_total == Decimal("300.000")


def test_a_session_total_beyond_the_hard_maximum_is_refused_naming_what_was_given() -> None:
    err = refused(
        code="labetalol",
        dose="50.001",
        unit="mg",
        route="iv",
        given=[mg("80"), mg("80"), mg("90")],
        prescriber_order=True,
        override_reason=REASON,
    )
    assert err.message == SESSION_ABOVE_HARD.format(
        label="Labetalol", value=50.001, unit="mg", total=300.001, given=250, hard=300
    )
    assert err.message == (
        "Labetalol 50.001 mg would bring this session's total to 300.001 mg (already given 250 mg), above "
        "the most allowed in one session (300 mg); it is refused."
    )
    assert (err.field, err.value) == ("dose", "50.001")


def test_a_hard_maximum_is_refused_before_asking_for_a_prescriber() -> None:
    err = refused(code="labetalol", dose="100", unit="mg", route="iv")
    assert err.message.startswith("Labetalol 100 mg is above the most that may be given in one dose")


# --- earlier doses in another unit: converted exactly, never guessed -------------------------------------
def test_earlier_clonidine_charted_in_mg_counts_in_micrograms() -> None:
    err = refused(
        code="clonidine",
        dose="150",
        unit="mcg",
        route="po",
        given=[mg("0.2", "mg")],
        prescriber_order=True,
        override_reason=REASON,
    )
    assert err.message == SESSION_ABOVE_HARD.format(
        label="Clonidine", value=150, unit="mcg", total=350, given=200, hard=300
    )


def test_earlier_ondansetron_charted_in_micrograms_counts_in_mg() -> None:
    d = administration_check(
        DEPRESSION, "ondansetron", dose="4", unit="mg", route="iv", given=[mg("4000", "mcg")]
    )
    assert d.session_total == Decimal("8")
    assert d.beyond_soft == ()


def test_earlier_doses_in_the_same_unit_add_up_exactly() -> None:
    d = administration_check(
        DEPRESSION,
        "lorazepam",
        dose="0.5",
        unit="mg",
        route="iv",
        given=[mg("0.25"), mg("0.25")],
        prescriber_order=True,
    )
    assert d.session_total == Decimal("1.000")


def test_an_earlier_dose_in_an_unknown_unit_is_refused_not_guessed() -> None:
    err = refused(code="ondansetron", dose="4", unit="mg", route="iv", given=[mg("4", "g")])
    assert err.message == UNIT_NOT_ALLOWED.format(label="An earlier dose", allowed="mg", value="g")
    assert err.message == "An earlier dose is recorded in mg, not 'g'."
    assert (err.field, err.value) == ("unit", "g")


def test_an_earlier_dose_in_millilitres_is_refused_even_for_a_drug_in_mcg() -> None:
    err = refused(
        code="clonidine", dose="100", unit="mcg", route="po", given=[mg("1", "mL")], prescriber_order=True
    )
    assert (err.field, err.value) == ("unit", "mL")


# --- who may give it ------------------------------------------------------------------------------------
def test_a_drug_needing_a_prescribers_order_is_refused_to_a_nurse() -> None:
    err = refused(code="labetalol", dose="10", unit="mg", route="iv")
    assert err.message == NEEDS_PRESCRIBER_ORDER.format(label="Labetalol")
    assert err.message == (
        "Labetalol needs a prescriber's order: the prescriber records the dose, signing in as themselves."
    )
    assert (err.field, err.value) == ("medication", "labetalol")


def test_a_standing_order_drug_is_given_by_a_nurse_within_its_usual_limits() -> None:
    d = administration_check(DEPRESSION, "ondansetron", dose="4", unit="mg", route="po")
    assert d == AdministrationDecision(Decimal("4.000"), "mg", "po", Decimal("4.000"))
    assert d.beyond_soft == () and d.override_reason == ""


# --- soft maxima: a prescriber's reason of at least ten characters ---------------------------------------
def test_a_dose_exactly_at_the_soft_maximum_needs_no_reason() -> None:
    d = administration_check(DEPRESSION, "ondansetron", dose="4", unit="mg", route="iv", given=[mg("4")])
    assert d.beyond_soft == () and d.session_total == Decimal("8.000")


def test_beyond_the_soft_maximum_a_nurse_is_refused_even_with_a_reason() -> None:
    err = refused(code="ondansetron", dose="4.001", unit="mg", route="iv", override_reason=REASON)
    assert err.message == SOFT_LIMIT_NEEDS_OVERRIDE.format(
        label="Ondansetron", value=4.001, unit="mg", limits="4 mg per dose", low=MIN_MED_OVERRIDE_REASON_CHARS
    )
    assert err.message == (
        "Ondansetron 4.001 mg goes beyond the usual limit (4 mg per dose); a prescriber must record it with "
        "a reason of at least 10 characters."
    )
    assert (err.field, err.value) == ("override_reason", REASON)


def test_beyond_both_soft_maxima_both_are_named() -> None:
    err = refused(code="ondansetron", dose="4.001", unit="mg", route="iv", given=[mg("4")])
    assert "(4 mg per dose; 8 mg per session, this one included)" in err.message


def test_beyond_the_session_soft_maximum_alone_is_named_alone() -> None:
    err = refused(code="ondansetron", dose="2", unit="mg", route="iv", given=[mg("4"), mg("3")])
    assert "(8 mg per session, this one included)" in err.message


@pytest.mark.parametrize(
    ("reason", "ok"),
    [
        ("x" * MIN_MED_OVERRIDE_REASON_CHARS, True),
        ("x" * (MIN_MED_OVERRIDE_REASON_CHARS - 1), False),
        ("   " + "x" * (MIN_MED_OVERRIDE_REASON_CHARS - 1) + "   ", False),
        ("", False),
    ],
)
def test_a_prescribers_reason_beyond_a_soft_maximum_has_at_least_ten_characters(
    reason: str, ok: bool
) -> None:
    kwargs: dict[str, object] = {
        "dose": "4.5",
        "unit": "mg",
        "route": "iv",
        "prescriber_order": True,
        "override_reason": reason,
    }
    if ok:
        d = administration_check(DEPRESSION, "ondansetron", **kwargs)  # type: ignore[arg-type]
        assert d.beyond_soft == ("4 mg per dose",) and d.override_reason == reason
    else:
        err = refused(code="ondansetron", **kwargs)
        assert (err.field, err.value) == ("override_reason", reason)


def test_the_reason_is_kept_trimmed_and_only_when_a_soft_maximum_was_passed() -> None:
    over = administration_check(
        DEPRESSION,
        "ondansetron",
        dose="5",
        unit="mg",
        route="iv",
        prescriber_order=True,
        override_reason=f"  {REASON} ",
    )
    assert over.override_reason == REASON
    within = administration_check(
        DEPRESSION,
        "ondansetron",
        dose="4",
        unit="mg",
        route="iv",
        prescriber_order=True,
        override_reason=REASON,
    )
    assert within.override_reason == "" and within.beyond_soft == ()


# --- esketamine: exactly the signed order, device by device ------------------------------------------------
def test_esketamine_without_a_signed_order_is_refused_on_the_order() -> None:
    err = refused(formulary=NASAL, code="esketamine", dose="28", unit="mg", route="intranasal")
    assert err.message == ORDER_DOSE_MISSING.format(label="Esketamine nasal spray")
    assert (err.field, err.value) == ("order", None)


def test_esketamine_device_by_device_up_to_the_signed_order() -> None:
    first = administration_check(
        NASAL, "esketamine", dose="28", unit="mg", route="intranasal", signed_order_dose_mg=56
    )
    assert first == AdministrationDecision(Decimal("28.000"), "mg", "intranasal", Decimal("28.000"))
    second = administration_check(
        NASAL,
        "esketamine",
        dose="28",
        unit="mg",
        route="intranasal",
        given=[mg("28")],
        signed_order_dose_mg=56,
    )
    assert second.session_total == Decimal("56.000")


def test_esketamine_beyond_the_signed_order_is_refused_naming_both_totals() -> None:
    err = refused(
        formulary=NASAL,
        code="esketamine",
        dose="28",
        unit="mg",
        route="intranasal",
        given=[mg("28"), mg("28")],
        signed_order_dose_mg=56,
    )
    assert err.message == ORDER_DOSE_MISMATCH.format(
        label="Esketamine nasal spray", value=84, unit="mg", ordered=56
    )
    assert err.message == (
        "Esketamine nasal spray: this dose would bring the total given to 84 mg, more than the signed order "
        "(56 mg); give exactly the ordered dose."
    )
    assert (err.field, err.value) == ("dose", "28")


def test_esketamine_a_thousandth_beyond_the_signed_order_is_refused() -> None:
    err = refused(
        formulary=NASAL,
        code="esketamine",
        dose="56.001",
        unit="mg",
        route="intranasal",
        signed_order_dose_mg=56,
    )
    assert err.field == "dose"
    ok = administration_check(
        NASAL, "esketamine", dose="56", unit="mg", route="intranasal", signed_order_dose_mg=56.0004
    )
    assert ok.session_total == Decimal("56.000")


def test_esketamine_ignores_the_soft_and_hard_maxima_it_does_not_have() -> None:
    d = administration_check(
        NASAL, "esketamine", dose="84", unit="mg", route="intranasal", signed_order_dose_mg=84
    )
    assert d.beyond_soft == () and d.override_reason == ""
