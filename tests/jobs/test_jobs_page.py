"""The admin's jobs page names the location a per-location job runs for (its name, never its key) and shows
that job's times in the location's own time zone, with the same number of queries whatever the queue holds."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from ketaclinic.accounts.models import Location
from ketaclinic.core.access import Role
from ketaclinic.jobs.models import PeriodicRun
from ketaclinic.jobs.schedule import periodic_enqueue
from ketaclinic.jobs.tasks import finished_jobs_prune
from ketaclinic.outcomes.tasks import due_links_location
from ketaclinic.web.jobs import SCHEDULE

pytestmark = pytest.mark.django_db
UTC_MOMENT = datetime(2026, 11, 25, 13, 30, tzinfo=ZoneInfo("UTC"))  # 08:30 in New York, 05:30 in LA


def rows(page: str, testid: str) -> list[list[str]]:
    """The cells of each row marked ``data-testid``, as a person reads them (tags stripped, entities read)."""
    out = []
    for row in re.findall(rf'<tr data-testid="{testid}">(.*?)</tr>', page, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return out


@pytest.fixture
def west(db) -> Location:
    return Location.objects.create(code="west-coast", name="West Clinic", timezone="America/Los_Angeles")


def test_a_per_location_job_names_its_location_and_shows_its_times_in_that_zone(
    staff, downtown, west, client_for
):
    due_links_location.enqueue(downtown.pk, "2026-11-25")
    due_links_location.enqueue(west.pk, "2026-11-25")
    finished_jobs_prune.enqueue("2026-11-25")  # a job of the whole network: no location
    DBTaskResult.objects.update(enqueued_at=UTC_MOMENT)
    page = client_for(staff[Role.ADMIN]).get("/jobs/").content.decode()
    by_location = {cells[1]: cells for cells in rows(page, "job")}
    assert set(by_location) == {"Downtown Clinic", "West Clinic", ""}
    links = "Email the questionnaire links due today at one location"
    assert by_location["West Clinic"][0] == links and by_location["West Clinic"][4] == "Nov 25 05:30:00 PST"
    assert by_location["Downtown Clinic"][4] == "Nov 25 08:30:00 EST"
    assert by_location[""][0] == "Delete finished background jobs more than 30 days old"
    assert by_location[""][4] == "Nov 25 08:30:00 EST"  # the site's zone
    table = page.split('data-testid="job"', 1)[1].split("</table>", 1)[0]
    assert "west-coast" not in table and f"<td>{west.pk}</td>" not in table  # no key, no id


def test_a_retry_keeps_naming_its_location(staff, west, client_for):
    due_links_location.enqueue(west.pk, "2026-11-25", attempt=3)
    (cells,) = rows(client_for(staff[Role.ADMIN]).get("/jobs/").content.decode(), "job")
    assert cells[1] == "West Clinic" and cells[3] == "3"


def test_the_daily_runs_queued_say_the_job_and_location_in_words_and_local_time(
    staff, downtown, west, client_for
):
    periodic_enqueue(SCHEDULE, now=datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("America/New_York")))
    PeriodicRun.objects.update(enqueued_at=UTC_MOMENT)
    page = client_for(staff[Role.ADMIN]).get("/jobs/").content.decode()
    runs = sorted(rows(page, "run"))
    links = "Email patients the questionnaire links due today"
    summaries = "Build the outcomes dashboard's summaries if a build waits (after an upgrade)"
    reminders = "Remind tomorrow's infusion patients to prepare and bring a driver (link to confirm)"
    assert runs == [
        [summaries, "All locations", "2026-11-25", "Nov 25 08:30 EST"],
        ["Delete finished jobs more than 30 days old", "All locations", "2026-11-25", "Nov 25 08:30 EST"],
        [links, "Downtown Clinic", "2026-11-25", "Nov 25 08:30 EST"],
        [links, "West Clinic", "2026-11-25", "Nov 25 05:30 PST"],
        # at noon in New York the reminders (10:00 local) are due there, not yet in Los Angeles (09:00)
        [reminders, "Downtown Clinic", "2026-11-25", "Nov 25 08:30 EST"],
    ]
    assert "due_links" not in page and "infusion_reminders" not in page and "west-coast" not in page


def test_the_page_costs_the_same_queries_with_one_location_or_many(staff, downtown, client_for):
    admin = client_for(staff[Role.ADMIN])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get("/jobs/").status_code == 200
        return len(ctx.captured_queries)

    due_links_location.enqueue(downtown.pk, "2026-11-25")
    one = queries()
    for n in range(6):
        place = Location.objects.create(code=f"site-{n}", name=f"Site {n}", timezone="America/Chicago")
        due_links_location.enqueue(place.pk, "2026-11-25")
    assert queries() == one
