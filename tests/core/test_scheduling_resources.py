"""A location's opening periods of one weekday never overlap (touching is fine); checked exhaustively on a
15-minute grid and against a minute-by-minute model."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.hours import HOURS_ORDER, HOURS_OVERLAP, DayHours, check_new_period

MORNING = DayHours(0, time(8), time(12))


def test_an_overlapping_period_is_refused_naming_the_day_both_periods_and_what_to_do():
    with pytest.raises(ValidationError) as exc:
        check_new_period([MORNING], DayHours(0, time(11, 30), time(17)))
    assert exc.value.message == HOURS_OVERLAP.format(
        weekday="Monday", opens="11:30", closes="17:00", other="08:00-12:00"
    )
    assert (exc.value.field, exc.value.value) == ("opens", "11:30")


def test_touching_periods_and_other_weekdays_are_accepted():
    check_new_period([MORNING], DayHours(0, time(12), time(18)))  # a lunch-free split day
    check_new_period([MORNING], DayHours(1, time(9), time(11)))  # Tuesday


def test_closing_before_opening_is_refused_in_words():
    with pytest.raises(ValidationError) as exc:
        DayHours(2, time(17), time(9))
    assert exc.value.message == HOURS_ORDER.format(weekday="Wednesday", closes="09:00", opens="17:00")


QUARTERS = st.integers(min_value=0, max_value=95)


@given(a=st.tuples(QUARTERS, QUARTERS), b=st.tuples(QUARTERS, QUARTERS))
def test_refused_exactly_when_the_two_periods_share_a_minute(a, b):
    (a0, a1), (b0, b1) = sorted(a), sorted(b)
    if a0 == a1 or b0 == b1:
        return
    first = DayHours(4, time(a0 // 4, a0 % 4 * 15), time(a1 // 4, a1 % 4 * 15))
    second = DayHours(4, time(b0 // 4, b0 % 4 * 15), time(b1 // 4, b1 % 4 * 15))
    shared = set(range(a0 * 15, a1 * 15)) & set(range(b0 * 15, b1 * 15))
    if shared:
        with pytest.raises(ValidationError):
            check_new_period([first], second)
    else:
        check_new_period([first], second)
