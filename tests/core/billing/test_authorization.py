"""Prior authorization: a session outside the dates, beyond the approved units, or on an authorization not
approved is refused at booking and check-in."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.billing.authorization import (
    AUTHORIZATION_UNITS_MAX,
    Authorization,
    AuthorizationStatus,
    authorization_expiring,
    check_authorization,
)
from ketaclinic.core.errors import ValidationError

AUTH = Authorization("WC-55012", 6, date(2026, 12, 1), date(2026, 12, 31))


def test_sessions_inside_the_dates_and_units_are_allowed_on_both_boundary_days() -> None:
    assert check_authorization(AUTH, date(2026, 12, 1), 0) == 5
    assert check_authorization(AUTH, date(2026, 12, 31), 5) == 0


def test_the_day_before_and_after_are_refused_with_the_covered_dates() -> None:
    with pytest.raises(
        ValidationError, match="before prior authorization WC-55012 starts.*2026-12-01 to 2026-12-31"
    ) as caught:
        check_authorization(AUTH, date(2026, 11, 30), 0)
    assert caught.value.field == "date"
    with pytest.raises(ValidationError, match="after prior authorization WC-55012 ends"):
        check_authorization(AUTH, date(2027, 1, 1), 0)


def test_a_session_beyond_the_approved_units_is_refused() -> None:
    with pytest.raises(
        ValidationError, match="approves 6 sessions and 6 are already used.*up to 0 more"
    ) as caught:
        check_authorization(AUTH, date(2026, 12, 10), 6)
    assert caught.value.field == "units"
    with pytest.raises(ValidationError, match="so 3 more would exceed it: up to 2 more"):
        check_authorization(AUTH, date(2026, 12, 10), 4, units_wanted=3)


@pytest.mark.parametrize(
    "status", [AuthorizationStatus.PENDING, AuthorizationStatus.DENIED, AuthorizationStatus.EXPIRED]
)
def test_an_authorization_not_approved_covers_nothing(status: AuthorizationStatus) -> None:
    auth = Authorization("WC-1", 6, date(2026, 12, 1), date(2026, 12, 31), status)
    with pytest.raises(ValidationError, match=f"is {status.value}, not approved"):
        check_authorization(auth, date(2026, 12, 10), 0)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"number": " "}, "has no number"),
        ({"approved_units": 0}, "outside the allowed range 1 to"),
        ({"approved_units": AUTHORIZATION_UNITS_MAX + 1}, "outside the allowed range 1 to"),
        ({"last_day": date(2026, 11, 30)}, "before its first day"),
    ],
)
def test_an_authorization_that_makes_no_sense_is_refused(kwargs: dict, words: str) -> None:
    values = {
        "number": "WC-1",
        "approved_units": 6,
        "first_day": date(2026, 12, 1),
        "last_day": date(2026, 12, 31),
    }
    values.update(kwargs)
    with pytest.raises(ValidationError, match=words):
        Authorization(**values)  # type: ignore[arg-type]


def test_counts_that_cannot_happen_are_refused() -> None:
    with pytest.raises(ValidationError, match="whole number of 0 or more"):
        check_authorization(AUTH, date(2026, 12, 10), -1)
    with pytest.raises(ValidationError, match="whole number of 1 or more"):
        check_authorization(AUTH, date(2026, 12, 10), 0, units_wanted=0)


def test_the_front_desk_is_told_in_time_to_renew() -> None:
    assert authorization_expiring(AUTH, date(2026, 12, 1), units_used=0) is None
    assert authorization_expiring(AUTH, date(2026, 12, 16), units_used=0) is None
    assert (
        authorization_expiring(AUTH, date(2026, 12, 17), units_used=0)
        == "Prior authorization WC-55012 ends in 14 days (2026-12-31)."
    )
    assert (
        authorization_expiring(AUTH, date(2026, 12, 31))
        == "Prior authorization WC-55012 ends today (2026-12-31)."
    )
    assert (
        authorization_expiring(AUTH, date(2026, 12, 30))
        == "Prior authorization WC-55012 ends in 1 day (2026-12-31)."
    )
    assert (
        authorization_expiring(AUTH, date(2027, 1, 1)) == "Prior authorization WC-55012 ended on 2026-12-31."
    )
    assert (
        authorization_expiring(AUTH, date(2026, 12, 2), units_used=5)
        == "Prior authorization WC-55012 has 1 session left of 6."
    )
    assert (
        authorization_expiring(AUTH, date(2026, 12, 2), units_used=6)
        == "Prior authorization WC-55012 has no sessions left of 6."
    )
    pending = Authorization("WC-2", 6, date(2026, 12, 1), date(2026, 12, 31), AuthorizationStatus.PENDING)
    assert authorization_expiring(pending, date(2026, 12, 2)) == "Prior authorization WC-2 is pending."


@given(st.dates(date(2026, 10, 1), date(2027, 3, 1)), st.integers(0, 10), st.integers(1, 10))
def test_an_accepted_session_is_always_inside_the_dates_and_units(day: date, used: int, wanted: int) -> None:
    try:
        left = check_authorization(AUTH, day, used, wanted)
    except ValidationError:
        assert not (AUTH.first_day <= day <= AUTH.last_day) or used + wanted > AUTH.approved_units
    else:
        assert AUTH.first_day <= day <= AUTH.last_day
        assert used + wanted <= AUTH.approved_units
        assert left == AUTH.approved_units - used - wanted
