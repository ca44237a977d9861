"""The reminder's words: time in the location's zone, the place, the preparation, the confirm link, and
nothing clinical."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.messaging.reminders import PREPARATION, reminder_body, reminder_when

STARTS = datetime(2026, 12, 8, 14, 30, tzinfo=UTC)  # 9:30 AM in New York, 6:30 AM in Los Angeles


def body(**kw) -> str:
    fields = dict(
        first_name="Maria",
        starts_at=STARTS,
        time_zone="America/New_York",
        location_name="Downtown Clinic",
        confirm_url="https://clinic.example.org/c/abc/",
    )
    return reminder_body(**{**fields, **kw})


def test_the_reminder_names_the_local_time_the_place_and_the_confirm_link():
    text = body()
    assert text.startswith("Hello Maria, this is a reminder of your appointment at Downtown Clinic on ")
    assert "Tuesday, December 8 at 9:30 AM" in text
    assert "confirm that you are prepared and have a driver: https://clinic.example.org/c/abc/" in text


def test_the_time_is_the_locations_own():
    assert reminder_when(STARTS, "America/Los_Angeles") == "Tuesday, December 8 at 6:30 AM"
    assert reminder_when(datetime(2026, 12, 8, 3, 5, tzinfo=UTC), "America/New_York") == (
        "Monday, December 7 at 10:05 PM"
    )


def test_the_preparation_asks_for_a_light_meal_4_hours_before_no_alcohol_for_24_hours_and_a_driver():
    text = body()
    for line in PREPARATION:
        assert f"- {line}" in text
    assert "light meal, at least 4 hours before" in text
    assert "No alcohol or recreational drugs for 24 hours before" in text
    assert "Arrange a driver to take you home" in text


def test_the_reminder_carries_nothing_clinical():
    text = body().lower()
    for word in ("ketamine", "infusion", "depression", "dose", "mg", "ptsd", "phq"):
        assert word not in text.split() and word not in text


def test_a_time_without_its_zone_is_refused():
    with pytest.raises(ValidationError, match="needs its time zone") as refused:
        body(starts_at=datetime(2026, 12, 8, 9, 30))
    assert refused.value.field == "starts_at"


def test_a_clinic_can_give_its_own_preparation():
    text = body(preparation=("Nothing to eat for 6 hours before.",))
    assert "- Nothing to eat for 6 hours before." in text and PREPARATION[0] not in text
