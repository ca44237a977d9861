"""The patient's answer to the day-before reminder, judged: confirmed only when every item is confirmed and
the driver is named; otherwise each missing item in the desk's words, and a note is always read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.preparation import (
    CONFIRMED,
    DRIVER_NAME_TOO_LONG,
    DRIVER_UNNAMED,
    MAX_DRIVER_CHARS,
    MAX_NOTE_CHARS,
    NOTE_TOO_LONG,
    PROBLEM,
    preparation_judge,
    reminder_day,
)


@given(
    meal=st.booleans(),
    alcohol=st.booleans(),
    driver=st.booleans(),
    name=st.sampled_from(["", "  ", "Ana Ruiz"]),
    note=st.sampled_from(["", " ", "I have a cold"]),
)
def test_confirmed_exactly_when_everything_is_confirmed_and_nothing_written(
    meal, alcohol, driver, name, note
):
    judged = preparation_judge(
        light_meal=meal, no_alcohol=alcohol, driver=driver, driver_name=name, note=note
    )
    everything = meal and alcohol and driver and name.strip() != "" and note.strip() == ""
    assert (judged.status == CONFIRMED) is everything
    assert (judged.status == PROBLEM) is (not everything)
    assert (judged.problems == ()) is everything


def test_each_item_not_confirmed_is_named_in_order() -> None:
    judged = preparation_judge(
        light_meal=False, no_alcohol=False, driver=False, driver_name="", note="Late bus"
    )
    assert judged.problems == (
        "A light meal only, at least 4 hours before: not confirmed",
        "No alcohol or recreational drugs for 24 hours: not confirmed",
        "A driver home after the infusion: not confirmed",
        "The patient wrote: Late bus",
    )


def test_a_driver_without_a_name_is_a_problem_for_the_desk() -> None:
    judged = preparation_judge(light_meal=True, no_alcohol=True, driver=True, driver_name=" ", note="")
    assert judged.problems == (DRIVER_UNNAMED,)


@pytest.mark.parametrize(
    ("field", "kwargs", "message"),
    [
        ("note", {"note": "x" * (MAX_NOTE_CHARS + 1)}, NOTE_TOO_LONG.format(value=501, high=500)),
        (
            "driver_name",
            {"driver_name": "y" * (MAX_DRIVER_CHARS + 1)},
            DRIVER_NAME_TOO_LONG.format(value=81, high=80),
        ),
    ],
)
def test_too_long_an_answer_is_refused_naming_the_field_and_the_limit(field, kwargs, message) -> None:
    answer = {
        "light_meal": True,
        "no_alcohol": True,
        "driver": True,
        "driver_name": "Ana",
        "note": "",
    } | kwargs
    with pytest.raises(ValidationError) as err:
        preparation_judge(**answer)
    assert (err.value.field, err.value.message) == (field, message)


def test_exactly_at_the_limits_is_accepted() -> None:
    judged = preparation_judge(
        light_meal=True,
        no_alcohol=True,
        driver=True,
        driver_name="y" * MAX_DRIVER_CHARS,
        note="x" * MAX_NOTE_CHARS,
    )
    assert judged.status == PROBLEM  # the note is read by the desk


def test_the_reminder_goes_out_the_day_before() -> None:
    from datetime import date

    assert reminder_day(date(2026, 3, 1)) == date(2026, 2, 28)
