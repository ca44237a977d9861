"""Medication refusals that mutation testing showed were unpinned in the pure core: an unknown medication,
a route the drug is not given by and a charted allergy that stops an order are refused naming the form
field and the value, with the allowed choices in words; a drug given only as ordered says so."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.medications import (
    ALLERGY_STOPS_ORDER,
    MEDICATION_UNKNOWN,
    SESSION_MEDICATIONS,
    administration_check,
    medication_get,
    order_allergy_check,
)
from ketaclinic.protocols.files import shipped_protocol

ALLOWED = "ketamine, esketamine, ondansetron, clonidine, labetalol, midazolam, lorazepam"


@pytest.mark.parametrize("code", ["", "propofol"])
def test_an_unknown_medication_is_refused_listing_the_allowed_ones(code: str) -> None:
    with pytest.raises(ValidationError) as err:
        medication_get(code)
    assert ", ".join(SESSION_MEDICATIONS) == ALLOWED
    assert err.value.message == MEDICATION_UNKNOWN.format(value=code, allowed=ALLOWED)
    assert err.value.field == "medication" and err.value.value == code


def test_a_known_medication_is_found_whatever_its_case_and_spaces() -> None:
    assert medication_get("  Ondansetron ").code == "ondansetron"


def test_a_route_the_drug_is_not_given_by_is_refused_listing_its_routes() -> None:
    ondansetron = medication_get("ondansetron")
    assert ondansetron.route_check("po") == "po"
    with pytest.raises(ValidationError) as err:
        ondansetron.route_check("intranasal")
    assert err.value.message == "Ondansetron is given iv or po or sl or im, not 'intranasal'."
    assert err.value.field == "route" and err.value.value == "intranasal"


def test_an_allergy_to_the_ordered_drug_stops_the_order_naming_the_allergy_as_charted() -> None:
    doc = shipped_protocol("depression-standard")
    order_allergy_check(doc.formulary, ["penicillin"])  # unrelated: no refusal
    with pytest.raises(ValidationError) as err:
        order_allergy_check(doc.formulary, ["penicillin", "Ketamine HCl"])
    assert err.value.message == ALLERGY_STOPS_ORDER.format(value="Ketamine HCl", label="Ketamine")
    assert err.value.message.startswith(
        "The patient has a charted allergy to 'Ketamine HCl', which covers Ketamine"
    )
    assert err.value.field == "allergy" and err.value.value == "Ketamine HCl"


def test_a_drug_given_only_as_ordered_says_so_when_the_unit_is_wrong() -> None:
    doc = shipped_protocol("esketamine-nasal")
    with pytest.raises(ValidationError) as err:
        administration_check(doc.formulary, "esketamine", dose="28", unit="mcg", route="intranasal")
    assert err.value.message == (
        "Esketamine nasal spray is dosed in mg (as ordered), not in 'mcg': write the dose in mg."
    )
    assert err.value.field == "unit" and err.value.value == "mcg"
