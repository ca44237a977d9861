"""DEA registration numbers, NPIs and licence expiry (core.identifiers)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.identifiers import (
    DEA_REGISTRANT_TYPES,
    dea_check,
    dea_check_digit,
    dea_is_valid,
    licence_status,
    npi_is_valid,
)


@pytest.mark.parametrize(
    ("dea", "valid"),
    [
        ("BJ1234563", True),  # 1+3+5 + 2*(2+4+6) = 33 -> 3
        ("AB1424326", True),  # the worked example 142432 -> 6
        ("F91234563", True),  # a registration in a business name (second character 9)
        ("MS1111119", True),  # mid-level practitioner: 1+1+1 + 2*(1+1+1) = 9
        ("MS1111115", False),
        ("BJ1234564", False),  # wrong check digit
        ("BJ123456", False),  # too short
        ("BJ12345633", False),  # too long
        ("QJ1234563", False),  # Q is no registrant type
        ("B11234563", False),  # second character a digit other than 9
        ("bj1234563", False),  # not normalised (dea_check upper-cases)
        ("BJ12345A3", False),
        ("BJ１234563", False),  # a full-width digit
        ("", False),
    ],
)
def test_dea_known_numbers(dea, valid):
    assert dea_is_valid(dea) is valid


def test_dea_check_normalises_and_refuses_with_the_rule_in_words():
    assert dea_check(" bj 1234563 ") == "BJ1234563"
    assert dea_check("") == ""
    with pytest.raises(ValidationError) as exc:
        dea_check("BJ1234564")
    assert exc.value.field == "dea_number"
    assert "BJ1234564" in exc.value.message and "check digit" in exc.value.message


@given(
    kind=st.sampled_from(sorted(DEA_REGISTRANT_TYPES)),
    initial=st.sampled_from([*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9"]),
    six=st.text("0123456789", min_size=6, max_size=6),
)
def test_exactly_one_check_digit_makes_a_dea_number_valid(kind, initial, six):
    valid = [d for d in range(10) if dea_is_valid(f"{kind}{initial}{six}{d}")]
    assert valid == [dea_check_digit(six)]


@given(six=st.text("0123456789", min_size=6, max_size=6), position=st.integers(0, 5), delta=st.integers(1, 9))
def test_changing_one_digit_of_a_dea_number_is_caught(six, position, delta):
    """A single mistyped digit in positions 1–6 changes the check (weights 1 and 2 are units mod 10, except
    a digit of weight 2 changed by 5, which the DEA's scheme cannot see)."""
    changed = six[:position] + str((int(six[position]) + delta) % 10) + six[position + 1 :]
    blind = position % 2 == 1 and delta == 5
    assert (dea_check_digit(changed) == dea_check_digit(six)) is blind


@given(nine=st.text("0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_makes_an_npi_valid(nine):
    assert sum(npi_is_valid(f"{nine}{d}") for d in range(10)) == 1


def test_known_npis():
    assert npi_is_valid("1234567893")  # the CMS worked example
    assert not npi_is_valid("1234567890")


@pytest.mark.parametrize(
    ("days", "state"),
    [(-1, "expired"), (0, "expiring"), (1, "expiring"), (60, "expiring"), (61, "valid"), (400, "valid")],
)
def test_licence_status_edges(days, state):
    today = date(2026, 12, 4)
    status = licence_status(today + timedelta(days=days), today=today)
    assert status.state == state
    assert status.days_left == days
    assert status.needs_attention is (state != "valid")
    assert status.days_expired == max(0, -days)


@given(days=st.integers(-2000, 2000), window=st.integers(0, 365))
def test_licence_status_is_monotone_in_days_left(days, window):
    today = date(2026, 12, 4)
    status = licence_status(today + timedelta(days=days), today=today, warning_days=window)
    expected = "expired" if days < 0 else "expiring" if days <= window else "valid"
    assert status.state == expected


def test_negative_warning_window_is_a_programming_error():
    with pytest.raises(ValueError, match="warning_days"):
        licence_status(date(2027, 1, 1), today=date(2026, 1, 1), warning_days=-1)
