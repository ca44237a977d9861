"""Time zones in words for people: a page names the location's zone as people say it, with the abbreviation in
use on the dates it shows ("New York time, EST"), never the time zone database's key ("America/New_York")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template

from ketaclinic.base.time_zones import zone_words


@pytest.mark.parametrize(
    ("zone", "moments", "words"),
    [
        ("America/New_York", [], "New York time"),
        ("America/New_York", [date(2026, 12, 7)], "New York time, EST"),
        ("America/New_York", [date(2026, 7, 6)], "New York time, EDT"),
        # the week of the spring change: both abbreviations, in the order the days show them
        (
            "America/New_York",
            [date(2027, 3, 13), date(2027, 3, 14), date(2027, 3, 15)],
            "New York time, EST/EDT",
        ),
        ("America/Los_Angeles", [datetime(2026, 12, 7, 20, 0, tzinfo=UTC)], "Los Angeles time, PST"),
        ("America/Argentina/Buenos_Aires", [date(2026, 12, 7)], "Buenos Aires time"),  # "-03" is no word
        ("UTC", [date(2026, 12, 7)], "UTC"),
        ("Not/A_Zone", [date(2026, 12, 7)], "Not/A_Zone"),  # shown as given rather than hidden
    ],
)
def test_a_zone_in_words(zone, moments, words):
    assert zone_words(zone, moments) == words


def test_the_template_filter_reads_dates_datetimes_and_calendar_days():
    class Day:  # the calendar's day: a ``day`` date
        def __init__(self, day: date) -> None:
            self.day = day

    template = Template("{% load ketaclinic_tags %}{{ zone|zone_name:when }}|{{ zone|zone_name }}")
    days = [Day(date(2026, 12, 7)), Day(date(2026, 12, 8))]
    assert template.render(Context({"zone": "America/New_York", "when": days})) == (
        "New York time, EST|New York time"
    )
    moment = datetime(2026, 7, 6, 14, 0, tzinfo=UTC)
    assert template.render(Context({"zone": "America/New_York", "when": moment})).startswith(
        "New York time, EDT"
    )
