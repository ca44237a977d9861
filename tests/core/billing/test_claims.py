"""Claims: every missing required item named; the X12 837P follows the 005010X222A1 structure (checked
by pyx12); the CMS-1500 boxes carry the same facts."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.billing.claims import (
    Address,
    BillingProvider,
    Claim,
    Payer,
    Person,
    ServiceLine,
    claim_837p,
    claim_problems,
    claim_text,
    claim_total,
    cms1500_fields,
    x12_problems,
)
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError
from tests.core.billing.claim_examples import NOW, SESSION_DAY, example_claim, usd


def test_the_example_claim_has_no_problems_and_totals_its_lines() -> None:
    claim = example_claim()
    assert claim_problems(claim) == ()
    assert claim_total(claim) == usd("475")


def test_the_837p_follows_the_standard_structure() -> None:
    text = claim_837p(example_claim(), 123, "KETACLINIC", "CLEARHOUSE", NOW)
    assert x12_problems(text) == ()
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert segments[0].startswith("ISA*00*")
    assert "ST*837*0123*005010X222A1" in segments
    assert "CLM*KC-2026-000123*475***11:B:1*Y*A*Y*Y" in segments
    assert "REF*G1*PA-778812" in segments
    assert "HI*ABK:F332*ABF:F411" in segments
    assert "NM1*85*2*LAKESIDE KETAMINE CLINIC*****XX*1234567893" in segments
    assert "REF*EI*123456789" in segments
    assert "SV1*HC:96365*350*UN*1***1:2" in segments
    assert "LIN**N4*00409205105" in segments and "CTP****35*ME" in segments
    assert segments[-1] == "IEA*1*000000123"


def test_a_dependent_patient_gets_the_patient_loop_and_still_validates() -> None:
    child = Person("Rivera", "Alex", date(2008, 1, 1), "M", Address("9 Oak Lane", "Austin", "TX", "78702"))
    text = claim_837p(example_claim(relationship="19", patient=child), 7, "KETACLINIC", "CLEARHOUSE", NOW)
    assert x12_problems(text) == ()
    assert "PAT*19~" in text and "NM1*QC*1*RIVERA*ALEX~" in text and "HL*3*2*23*0~" in text


def test_the_validator_catches_a_broken_interchange() -> None:
    text = claim_837p(example_claim(), 5, "KETACLINIC", "CLEARHOUSE", NOW)
    assert any("SE count" in p for p in x12_problems(text.replace("SE*30*", "SE*29*")))
    assert any("HI" in p for p in x12_problems(text.replace("HI*", "HX*")))
    assert any("NM102" in p for p in x12_problems(text.replace("NM1*85*2", "NM1*85*9")))


def test_an_unclassified_drug_line_without_its_ndc_is_named() -> None:
    line = ServiceLine(SESSION_DAY, "J3490", 1, usd("125"), (1,), description="ketamine 35 mg")
    problems = claim_problems(example_claim(lines=(line,)))
    assert problems == ("Line 1: J3490 is an unclassified drug code and needs the drug's NDC.",)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"claim_id": ""}, "Claim number (patient account number) is missing."),
        (
            {"rendering_npi": "1234567890"},
            "Rendering provider NPI '1234567890' is missing or not a valid 10-digit NPI.",
        ),
        ({"diagnosis_codes": ()}, "No diagnosis code: at least 1 is required."),
        ({"diagnosis_codes": ("F31",)}, "is a heading, not a billable code"),
        ({"diagnosis_codes": ("F41.1",)}, "does not fit the screened indication"),
        ({"lines": ()}, "No service line: at least 1 is required."),
        ({"relationship": "19"}, "the patient's details are missing"),
        ({"prior_authorization": "PA*1"}, "contains one of the characters"),
        ({"place_of_service": "1"}, "Place of service '1' is not a 2-digit code"),
        ({"claim_id": "K" * 39}, "is 39 characters long: 1 to 38 are allowed"),
        ({"payer": Payer("Acme", "6", "CI")}, "Payer id '6' is 1 character long: 2 to 80 are allowed"),
        ({"payer": Payer("Acme", "60054", "XX")}, "Payer's claim filing type 'XX' is not one of"),
    ],
)
def test_each_missing_or_wrong_item_is_named(changes: dict, named: str) -> None:
    problems = claim_problems(example_claim(**changes))
    assert any(named in p for p in problems), problems


def test_the_billing_provider_and_subscriber_are_checked_field_by_field() -> None:
    provider = BillingProvider("", "123", "12-34", Address("", "", "Texas", "7870"), phone="555-0100")
    subscriber = Person("", "", None, "X", None, "")
    problems = claim_problems(example_claim(billing_provider=provider, subscriber=subscriber))
    for named in [
        "Billing provider name is missing.",
        "Billing provider NPI '123' is missing or not a valid 10-digit NPI.",
        "Billing provider tax id (EIN) '12-34' is missing or not 9 digits.",
        "Billing provider street address is missing.",
        "Billing provider city is missing.",
        "Billing provider state 'Texas' is not a 2-letter state code (e.g. TX).",
        "Billing provider ZIP code '7870' is not 5 or 9 digits.",
        "Billing provider phone '555-0100' is missing or not a 10-digit US number "
        "(the clearinghouse's contact for this claim).",
        "Subscriber's last name is missing.",
        "Subscriber's date of birth is missing.",
        "Subscriber's sex 'X' is not one of F, M or U (unknown).",
        "Subscriber address is missing.",
        "Subscriber's member id (insurance id number) is missing.",
    ]:
        assert named in problems


def test_service_line_problems_are_numbered() -> None:
    bad = ServiceLine(SESSION_DAY, "9636", 0, usd("0.01"), (3,), modifiers=("X",))
    problems = claim_problems(example_claim(lines=(example_claim().lines[0], bad)))
    assert "Line 2: procedure code '9636' is not a 5-character CPT or HCPCS code." in problems
    assert "Line 2: units 0 is outside the allowed range 1 to 9,999." in problems
    assert "Line 2: diagnosis pointer 3 does not point at one of the 2 diagnoses." in problems
    assert "Line 2: modifier 'X' is not 2 letters or digits." in problems


def test_a_claim_with_problems_is_refused_with_all_of_them() -> None:
    claim = example_claim(claim_id="", diagnosis_codes=())
    for make in (lambda: claim_837p(claim, 1, "AB", "CD", NOW), lambda: cms1500_fields(claim)):
        with pytest.raises(
            ValidationError, match="cannot be sent until these are fixed: Claim number.*No diagnosis code"
        ):
            make()


@pytest.mark.parametrize(
    ("control", "sender"), [(0, "AB"), (1_000_000_000, "AB"), (1, ""), (1, "A"), (1, "X" * 16), (1, "A*B")]
)
def test_bad_envelope_values_are_refused(control: int, sender: str) -> None:
    with pytest.raises(ValidationError):
        claim_837p(example_claim(), control, sender, "CD", NOW)


def test_cms1500_boxes() -> None:
    fields = cms1500_fields(example_claim())
    assert fields["1a"] == "XYZ123456789"
    assert fields["2"] == "RIVERA, SAM"
    assert fields["21A"] == "F33.2" and fields["21B"] == "F41.1"
    assert fields["23"] == "PA-778812"
    assert fields["24D.1"] == "96365" and fields["24E.1"] == "AB" and fields["24F.1"] == "350.00"
    assert fields["24shaded.2"] == "N400409205105 ME35"
    assert fields["25"] == "123456789" and fields["28"] == "475.00"
    assert fields["33a"] == "1234567893" and fields["24J.1"] == "1245319599"


def test_a_line_from_computed_codes_carries_the_drug_note() -> None:
    from ketaclinic.core.billing.codes import Drug, drug_lines

    (code_line,) = drug_lines(Drug.KETAMINE, Decimal("35"), SESSION_DAY, ndc="0409-2051-05")
    line = ServiceLine.from_code_line(
        code_line, service_date=SESSION_DAY, charge=usd("125"), drug_quantity=Decimal("35")
    )
    assert (line.description, line.ndc) == ("ketamine hydrochloride 35 mg IV", "00409205105")
    claim = dataclasses.replace(example_claim(), lines=(line,))
    assert x12_problems(claim_837p(claim, 9, "KETACLINIC", "CLEARHOUSE", NOW)) == ()


def test_accented_names_are_spelled_as_a_claim_carries_them() -> None:
    subscriber = Person(
        "Núñez", "José", date(1984, 3, 2), "F", Address("9 Straße", "Zürich", "TX", "78702"), "X1"
    )
    text = claim_837p(example_claim(subscriber=subscriber), 5, "KETACLINIC", "CLEARHOUSE", NOW)
    assert "NM1*IL*1*NUNEZ*JOSE****MI*X1~" in text and "N3*9 STRASSE~" in text
    assert x12_problems(text) == ()
    assert claim_text("  Zoë   O’Neil ") == "Zoe O'Neil"


def test_a_name_with_no_latin_spelling_is_named_not_dropped() -> None:
    subscriber = Person(
        "王", "Wei", date(1984, 3, 2), "M", Address("9 Oak Lane", "Austin", "TX", "78702"), "X1"
    )
    assert claim_problems(example_claim(subscriber=subscriber)) == (
        "Subscriber's last name '王' has characters a claim cannot carry: write it in Latin letters.",
    )


# --- property: any claim without problems is a valid 837P ---------------------------------------------

names = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéñüç '-.", min_size=2, max_size=25
).filter(lambda t: len(claim_text(t)) >= 2)
DIAGNOSES = ("F33.2", "F33.1", "F32.A", "F41.1", "F43.10", "G90.511", "M79.7", "F33.40")
CODE_LINES = (
    ("96365", 1, ""),
    ("96366", 2, ""),
    ("96374", 1, ""),
    ("J0013", 84, ""),
    ("G2082", 1, ""),
    ("J3490", 1, "0409-2051-05"),
)


@st.composite
def claims(draw: st.DrawFn) -> Claim:
    diagnoses = tuple(draw(st.lists(st.sampled_from(DIAGNOSES), min_size=1, max_size=8, unique=True)))
    lines = []
    for code, units, ndc in draw(st.lists(st.sampled_from(CODE_LINES), min_size=1, max_size=6)):
        pointers = tuple(draw(st.lists(st.integers(1, len(diagnoses)), min_size=1, max_size=4, unique=True)))
        cents = draw(st.integers(1, 2_000_000))
        lines.append(
            ServiceLine(
                SESSION_DAY - timedelta(days=draw(st.integers(0, 300))),
                code,
                units,
                Money.from_cents(cents, "USD"),
                pointers,
                modifiers=tuple(
                    draw(st.lists(st.sampled_from(["GT", "25", "59", "KX"]), max_size=2, unique=True))
                ),
                ndc=ndc,
                drug_quantity=Decimal(draw(st.integers(1, 200))) if ndc else None,
                description="ketamine hydrochloride IV" if ndc else "",
            )
        )
    address = Address(draw(names), draw(names), "TX", draw(st.sampled_from(["78701", "787011234"])))
    subscriber = Person(
        draw(names), draw(names), date(1980, 1, 1), draw(st.sampled_from("FMU")), address, "M12345"
    )
    dependent = draw(st.booleans())
    patient = Person(draw(names), draw(names), date(2010, 5, 5), "U", address) if dependent else None
    return example_claim(
        subscriber=subscriber,
        patient=patient,
        relationship="19" if dependent else "18",
        diagnosis_codes=diagnoses,
        lines=tuple(lines),
        indication=None,
        prior_authorization=draw(st.sampled_from(["", "PA-1", "WC 55012"])),
        group_number=draw(st.sampled_from(["", "G-1"])),
    )


@settings(max_examples=25, deadline=None)
@given(claims(), st.integers(1, 999_999_999))
def test_any_claim_without_problems_is_a_valid_837p_whose_total_is_its_lines(
    claim: Claim, control: int
) -> None:
    assert claim_problems(claim) == ()
    text = claim_837p(claim, control, "KETACLINIC", "CLEARHOUSE", NOW)
    assert x12_problems(text) == ()
    clm = next(s for s in text.split("~\n") if s.startswith("CLM*"))
    sv1_total = sum(Decimal(s.split("*")[2]) for s in text.split("~\n") if s.startswith("SV1*"))
    assert Decimal(clm.split("*")[2]) == sv1_total == claim_total(claim).amount


def test_a_corrected_claim_names_the_claim_it_replaces() -> None:
    claim = example_claim(frequency="7", original_reference="PAYER-CLM-991")
    text = claim_837p(claim, 11, "KETACLINIC", "CLEARHOUSE", NOW)
    assert x12_problems(text) == ()
    assert "PER*IC*LAKESIDE KETAMINE CLINIC*TE*5125550100~" in text
    assert "*11:B:7*" in text and "REF*G1*PA-778812~\nREF*F8*PAYER-CLM-991~" in text
    assert cms1500_fields(claim)["22"] == "7 PAYER-CLM-991"
    assert cms1500_fields(example_claim())["22"] == ""


@pytest.mark.parametrize(
    ("frequency", "reference", "named"),
    [
        ("8", "", "The payer's number of the claim replaced or voided is missing."),
        ("2", "", "Claim type '2' is not one of 1 (original), 7 (replacement"),
        ("1", "PAYER-1", "An original claim has no payer's claim number to replace"),
    ],
)
def test_a_correction_without_the_claim_it_corrects_is_named(
    frequency: str, reference: str, named: str
) -> None:
    problems = claim_problems(example_claim(frequency=frequency, original_reference=reference))
    assert any(named in p for p in problems), problems
