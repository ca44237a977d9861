"""The pure input rules (core.input_rules): control and text-direction characters, lengths, phones, NPI,
dates, numbers."""

from __future__ import annotations

import math
from datetime import date

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import (
    date_check,
    npi_check,
    npi_is_valid,
    number_check,
    phone_normalise,
    shown,
    text_check,
)


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),  # the CMS worked example: 80840 123456789 -> check digit 3
        ("1234567890", False),
        ("1234567894", False),
        ("ABCDEFGHIJ", False),
        ("123456789", False),
        ("12345678931", False),
        ("１２３４５６７８９３", False),  # full-width digits are not digits here
    ],
)
def test_npi_check_digit(npi, valid):
    assert npi_is_valid(npi) is valid
    if not valid:
        with pytest.raises(ValidationError, match="not a valid NPI"):
            npi_check(npi, field="referrer_npi")


@pytest.mark.parametrize(
    ("value", "multiline", "ok"),
    [
        ("Ana", False, True),
        ("A\tB", False, False),
        ("A\tB", True, True),
        ("A\nB", True, True),
        ("A\rB", True, True),
        ("A\x00B", True, False),
        ("A\x1bB", True, False),
        ("A\x7fB", True, False),
        ("A\x0bB", True, False),
    ],
)
def test_control_characters(value, multiline, ok):
    if ok:
        assert text_check(value, field="f", max_length=10, multiline=multiline) == value
    else:
        with pytest.raises(ValidationError) as exc:
            text_check(value, field="f", max_length=10, multiline=multiline)
        assert "control character (U+00" in exc.value.message and "position 2" in exc.value.message
        assert "\x00" not in exc.value.value


def test_text_direction_characters_only_matter_in_names():
    assert text_check("a\u202eb", field="notes", max_length=10) == "a\u202eb"
    with pytest.raises(ValidationError, match="text-direction character .U\\+202E right-to-left override"):
        text_check("a\u202eb", field="family_name", max_length=10, name=True)


def test_length_names_the_length_and_the_limit():
    with pytest.raises(
        ValidationError, match="Text is 1,000,000 characters long; the maximum is 10,000 characters."
    ):
        text_check("x" * 1_000_000, field="text", max_length=10_000)
    assert len(shown("x" * 1_000_000)) < 100


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("617-555-0100", "+16175550100"),
        ("(617) 555-0100", "+16175550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised(typed, e164):
    assert phone_normalise(typed, field="phone") == e164


@pytest.mark.parametrize("typed", ["call me maybe", "555-0100", "12", "+1 000 000 0000"])
def test_phone_numbers_that_are_not_numbers(typed):
    with pytest.raises(ValidationError, match="is not a phone number"):
        phone_normalise(typed, field="phone")


def test_dates_are_bounded():
    date_check(date(1900, 1, 1), field="d")
    with pytest.raises(ValidationError, match="before 1900-01-01"):
        date_check(date(1899, 12, 31), field="d")
    with pytest.raises(ValidationError, match="before the patient's birth date 1985-04-12"):
        date_check(date(1985, 4, 11), field="received_on", birth_date=date(1985, 4, 12))
    with pytest.raises(ValidationError, match="in the future"):
        date_check(date(2030, 1, 2), field="birth_date", today=date(2030, 1, 1))


@pytest.mark.parametrize(
    "value", [1e308, -1e308, math.inf, -math.inf, math.nan, "1e999999", "NaN", 1_000_001]
)
def test_huge_and_non_finite_numbers(value):
    with pytest.raises(ValidationError):
        number_check(value, field="weight")
    number_check(1_000_000, field="weight")
