"""Every other medication from the protocol's formulary: units, routes, per-dose and per-session limits,
allergies, ketamine and esketamine only as ordered; interactions as data; pregnancy asked unless male."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import (
    MAJOR_INTERACTION_NEEDS_PRESCRIBER,
    ItemAnswer,
    ItemStatus,
    answer_check,
    checklist_evaluate,
    item_applies,
)
from ketaclinic.core.infusion.medications import (
    ALLERGY_STOPS_DOSE,
    ALLERGY_STOPS_ORDER,
    DOSE_ABOVE_HARD,
    NEEDS_PRESCRIBER_ORDER,
    NOT_A_MANUAL_DOSE,
    SESSION_ABOVE_HARD,
    SOFT_LIMIT_NEEDS_OVERRIDE,
    PriorDose,
    administration_check,
    order_allergy_check,
)
from ketaclinic.core.medications import Severity, interactions_for, major_interactions
from ketaclinic.protocols.files import shipped_protocols


def _docs():
    return shipped_protocols()


@pytest.fixture
def formulary():
    return _docs()["depression-standard"].formulary


def test_every_shipped_protocol_has_a_formulary_with_the_rescue_medications():
    for doc in _docs().values():
        codes = {d.code for d in doc.formulary.drugs}
        assert {"ketamine", "ondansetron", "labetalol", "clonidine", "midazolam", "lorazepam"} <= codes
        assert doc.formulary.entry("clonidine").unit.value == "mcg"
    assert _docs()["esketamine-nasal"].formulary.entry("esketamine") is not None


def test_a_protocol_without_a_formulary_does_not_load():
    from ketaclinic.core.errors import ProtocolError
    from ketaclinic.core.protocols.document import parse_protocol

    data = _docs()["depression-standard"].model_dump(mode="json")
    del data["formulary"]
    with pytest.raises(ProtocolError, match="formulary"):
        parse_protocol(data)


def test_regression_ketamine_200_mg_bolus_is_refused(formulary):
    with pytest.raises(ValidationError) as e:
        administration_check(formulary, "ketamine", dose="200", unit="mg", route="iv", prescriber_order=True)
    assert e.value.message == NOT_A_MANUAL_DOSE.format(label="Ketamine")


def test_regression_midazolam_200_mg_is_refused_even_for_a_prescriber(formulary):
    with pytest.raises(ValidationError) as e:
        administration_check(
            formulary,
            "midazolam",
            dose="200",
            unit="mg",
            route="iv",
            prescriber_order=True,
            override_reason="very agitated patient",
        )
    assert e.value.message == DOSE_ABOVE_HARD.format(
        label="Midazolam", value=200, unit="mg", hard=2.5, usual=1
    )


def test_regression_clonidine_100_mg_is_refused_saying_the_usual_dose_in_mcg(formulary):
    with pytest.raises(ValidationError) as e:
        administration_check(formulary, "clonidine", dose="100", unit="mg", route="po", prescriber_order=True)
    assert "mcg" in e.value.message and "usual dose 100 mcg" in e.value.message and e.value.field == "unit"
    assert administration_check(
        formulary, "clonidine", dose="100", unit="mcg", route="po", prescriber_order=True
    ).amount == Decimal("100.000")


def test_regression_ondansetron_4000_mg_is_refused(formulary):
    with pytest.raises(ValidationError, match="most that may be given in one dose"):
        administration_check(formulary, "ondansetron", dose="4000", unit="mg", route="iv")
    assert administration_check(formulary, "ondansetron", dose="4", unit="mg", route="iv").amount == 4


def test_cumulative_session_hard_limit(formulary):
    given_ = [PriorDose(Decimal(8), "mg"), PriorDose(Decimal(8), "mg")]
    with pytest.raises(ValidationError) as e:
        administration_check(
            formulary,
            "ondansetron",
            dose="4",
            unit="mg",
            route="iv",
            given=given_,
            prescriber_order=True,
            override_reason="persistent vomiting",
        )
    assert e.value.message == SESSION_ABOVE_HARD.format(
        label="Ondansetron", value=4, unit="mg", total=20, given=16, hard=16
    )


def test_beyond_soft_needs_a_prescriber_with_a_reason(formulary):
    with pytest.raises(ValidationError) as e:
        administration_check(formulary, "ondansetron", dose="8", unit="mg", route="iv")
    assert e.value.message.startswith("Ondansetron 8 mg goes beyond the usual limit")
    with pytest.raises(ValidationError, match="reason of at least"):
        administration_check(formulary, "ondansetron", dose="8", unit="mg", route="iv", prescriber_order=True)
    ok = administration_check(
        formulary,
        "ondansetron",
        dose="8",
        unit="mg",
        route="iv",
        prescriber_order=True,
        override_reason="vomiting despite 4 mg",
    )
    assert ok.beyond_soft and ok.override_reason == "vomiting despite 4 mg"
    assert SOFT_LIMIT_NEEDS_OVERRIDE


def test_a_drug_needing_an_order_is_refused_to_a_nurse(formulary):
    with pytest.raises(ValidationError) as e:
        administration_check(formulary, "midazolam", dose="1", unit="mg", route="iv")
    assert e.value.message == NEEDS_PRESCRIBER_ORDER.format(label="Midazolam")


def test_wrong_route_is_refused(formulary):
    with pytest.raises(ValidationError, match="is given"):
        administration_check(formulary, "labetalol", dose="10", unit="mg", route="po", prescriber_order=True)


@pytest.mark.parametrize(
    ("allergy", "drug"),
    [
        ("Midazolam", "midazolam"),
        ("benzodiazepines", "lorazepam"),
        ("VERSED (rash)", "midazolam"),
        ("zofran", "ondansetron"),
    ],
)
def test_regression_a_charted_allergy_stops_the_dose(formulary, allergy, drug):
    with pytest.raises(ValidationError) as e:
        administration_check(
            formulary,
            drug,
            dose="1",
            unit="mg",
            route="iv",
            prescriber_order=True,
            allergies=["penicillin", allergy],
        )
    assert e.value.message == ALLERGY_STOPS_DOSE.format(label=formulary.entry(drug).label, value=allergy)


@pytest.mark.parametrize("allergy", ["ketamine", "Ketamine HCl", "esketamine", "Spravato"])
def test_regression_a_ketamine_allergy_stops_the_order(allergy):
    for doc in _docs().values():
        with pytest.raises(ValidationError) as e:
            order_allergy_check(doc.formulary, ["latex", allergy])
        assert e.value.message.startswith(ALLERGY_STOPS_ORDER.split("{")[0])
    order_allergy_check(_docs()["depression-standard"].formulary, ["penicillin", "sulfa drugs", "latex"])


def test_regression_esketamine_112_against_a_56_mg_order_is_refused():
    f = _docs()["esketamine-nasal"].formulary
    with pytest.raises(ValidationError, match="more than the signed order"):
        administration_check(
            f, "esketamine", dose="112", unit="mg", route="intranasal", signed_order_dose_mg=56
        )
    first = administration_check(
        f, "esketamine", dose="28", unit="mg", route="intranasal", signed_order_dose_mg=56
    )
    second = administration_check(
        f,
        "esketamine",
        dose="28",
        unit="mg",
        route="intranasal",
        signed_order_dose_mg=56,
        given=[PriorDose(first.amount, "mg")],
    )
    assert second.session_total == 56
    with pytest.raises(ValidationError, match="more than the signed order"):
        administration_check(
            f,
            "esketamine",
            dose="28",
            unit="mg",
            route="intranasal",
            signed_order_dose_mg=56,
            given=[PriorDose(Decimal(28), "mg"), PriorDose(Decimal(28), "mg")],
        )
    with pytest.raises(ValidationError, match="no signed order"):
        administration_check(f, "esketamine", dose="28", unit="mg", route="intranasal")


@given(
    st.sampled_from(["ondansetron", "labetalol", "clonidine", "midazolam", "lorazepam"]),
    st.lists(st.decimals(min_value="0.001", max_value="400", places=3), max_size=12),
)
def test_accepted_doses_never_exceed_the_hard_maxima(drug, doses):
    f = _docs()["depression-standard"].formulary
    entry = f.entry(drug)
    accepted: list[PriorDose] = []
    for d in doses:
        try:
            r = administration_check(
                f,
                drug,
                dose=str(d),
                unit=entry.unit.value,
                route=entry.routes[0],
                given=accepted,
                prescriber_order=True,
                override_reason="prescriber reviewed at chair",
            )
        except ValidationError:
            continue
        assert r.amount <= Decimal(str(entry.hard_max_per_dose))
        accepted.append(PriorDose(r.amount, r.unit))
    assert sum((a.amount for a in accepted), Decimal(0)) <= Decimal(str(entry.hard_max_per_session))


@pytest.mark.parametrize(
    ("name", "klass", "severity"),
    [
        ("oxycodone 5 mg", "opioid", Severity.MAJOR),
        ("gabapentin", "gabapentinoid", Severity.MODERATE),
        ("Lyrica", "gabapentinoid", Severity.MODERATE),
        ("clobazam", "benzodiazepine", Severity.MODERATE),
        ("estazolam", "benzodiazepine", Severity.MODERATE),
        ("zolpidem", "z_drug", Severity.MODERATE),
        ("linezolid", "linezolid", Severity.MAJOR),
        ("Methylene blue", "methylene_blue", Severity.MAJOR),
        ("St John's wort", "st_johns_wort", Severity.MODERATE),
        ("phenelzine", "maoi", Severity.MAJOR),
        ("Emsam patch", "maoi", Severity.MAJOR),
    ],
)
def test_regression_interactions_cover_the_missed_classes(name, klass, severity):
    (found,) = interactions_for(name)
    assert (found.klass, found.severity) == (klass, severity)


def _checklist():
    return _docs()["depression-standard"].checklist


def test_regression_an_maoi_is_not_passed_on_the_nurses_yes():
    section = _checklist()
    item = section.item("medications_reviewed")
    majors = major_interactions(["Nardil 15 mg", "sertraline"])
    assert majors == ("Nardil 15 mg (MAOI)",)
    with pytest.raises(ValidationError) as e:
        answer_check(item, "yes", major_interactions=majors)
    assert e.value.message == MAJOR_INTERACTION_NEEDS_PRESCRIBER.format(
        question=item.question, value=majors[0]
    )
    kw: dict[str, Any] = {"sex": "male", "baseline_problems": (), "consent_problem": None}
    yes = checklist_evaluate(
        section, {item.code: ItemAnswer(item.code, "yes")}, major_interactions=majors, **kw
    )
    assert next(i for i in yes.items if i.code == item.code).status is ItemStatus.FAILED
    signed = checklist_evaluate(
        section,
        {item.code: ItemAnswer(item.code, "", None, "prescriber reviewed MAOI")},
        major_interactions=majors,
        **kw,
    )
    assert next(i for i in signed.items if i.code == item.code).status is ItemStatus.OVERRIDDEN


@pytest.mark.parametrize(
    ("sex", "asked"), [("female", True), ("other", True), ("unknown", True), (None, True), ("male", False)]
)
def test_regression_pregnancy_is_asked_unless_sex_at_birth_is_male(sex, asked):
    for doc in _docs().values():
        assert item_applies(doc.checklist.item("pregnancy_status"), sex) is asked
