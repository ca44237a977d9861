"""Issue 9: the dashboard shows NQF 1884 / CMS159 only as specified; pain protocols relapse on the pain
scale."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from ketaclinic.core.access import Role
from ketaclinic.core.outcomes.measures import CMS159_LABEL, NQF1884_LABEL
from ketaclinic.outcomes import selectors
from ketaclinic.outcomes.models import BoosterProposal
from ketaclinic.outcomes.services import response_record
from ketaclinic.screening.services import referral_record
from tests.conftest import register
from tests.outcomes.conftest import at, phq9

pytestmark = pytest.mark.django_db
INDEX_DAY = timezone.make_aware(datetime(2025, 1, 15, 10, 0))  # both windows closed long ago
PERIOD = selectors.DashboardFilters(start=date(2025, 1, 1), end=date(2025, 12, 31))


def refer_for(user, patient, indication):
    return referral_record(
        user=user,
        patient=patient,
        indication=indication,
        referrer_name="Dr. Ada Referrer",
        referrer_role="psychiatrist",
        reason="Referred for ketamine treatment",
        received_on=date(2025, 1, 2),
    )


def add(user, patient, instrument, answers, days, timepoint="ad_hoc"):
    return response_record(
        user=user,
        patient=patient,
        instrument=instrument,
        answers=answers,
        authored_at=at(days, INDEX_DAY),
        timepoint=timepoint,
    )


@pytest.fixture
def cohort(staff, downtown):
    """R responds at 6 months and remits at 12; L is lost to follow-up after a good end of series;
    B (bipolar depression) remits but is excluded from CMS159."""
    nurse, intake = staff[Role.NURSE], staff[Role.INTAKE]
    people = {}
    for key, indication in (("R", "trd"), ("L", "mdd"), ("B", "bipolar_depression")):
        people[key] = p = register(nurse, downtown, given_name=key, family_name=f"Measure{key}")
        refer_for(intake, p, indication)
        add(nurse, p, "phq9", phq9(20), 0, "baseline")
    add(nurse, people["L"], "phq9", phq9(3), 35, "post_series")  # a completer in remission, then never seen
    add(nurse, people["R"], "phq9", phq9(3), 35, "post_series")
    add(nurse, people["R"], "phq9", phq9(8), 181, "monthly")  # 6 months: responding
    add(nurse, people["R"], "phq9", phq9(4), 365, "monthly")  # 12 months: remission
    add(nurse, people["B"], "phq9", phq9(2), 365, "monthly")
    return people


def test_nqf1884_and_cms159_follow_their_specifications(cohort, staff):
    d = selectors.outcomes_dashboard(user=staff[Role.PRESCRIBER], filters=PERIOD)
    assert d.nqf1884 is not None and d.cms159 is not None
    # B is outside NQF 1884's population too (bipolar): R responds, L lost to follow-up = not responding
    assert (d.nqf1884.estimate.numerator, d.nqf1884.estimate.n, d.nqf1884.no_follow_up) == (1, 2, 1)
    assert (d.cms159.estimate.numerator, d.cms159.estimate.n, d.cms159.excluded) == (1, 2, 1)
    # the clinic's own short-term figure, on completers, says 100%: it must not carry a measure's name
    assert d.remission_rate.value == 100.0


def test_no_figure_named_nqf_or_cms_unless_computed_by_the_specification(cohort, staff, client_for):
    d = selectors.outcomes_dashboard(user=staff[Role.PRESCRIBER], filters=PERIOD)
    named = {key: label for key, label, _e, _u in d.measures() if "NQF" in label or "CMS" in label}
    assert named == {"nqf1884_response": NQF1884_LABEL, "cms159_remission": CMS159_LABEL}
    for key in ("response_rate", "remission_rate"):
        assert "NQF" not in selectors.DEFINITIONS[key] and "CMS" not in selectors.DEFINITIONS[key]
        assert "clinic" in dict((k, lbl) for k, lbl, _e, _u in d.measures())[key]
    body = (
        client_for(staff[Role.PRESCRIBER])
        .get("/outcomes/dashboard/?start=2025-01-01&end=2025-12-31")
        .content.decode()
    )
    assert "Response after the series (clinic definition)" in body
    assert NQF1884_LABEL in body and CMS159_LABEL in body
    assert "counted as not meeting the measure" in body


def test_pain_nrs_8_3_8_proposes_a_booster_on_a_pain_protocol(staff, downtown, protocols):
    nurse = staff[Role.NURSE]
    patient = register(nurse, downtown, given_name="Pain", family_name="Patient")
    refer_for(staff[Role.INTAKE], patient, "neuropathic_pain")  # the chronic pain protocol
    for days, score in ((0, 8), (21, 3)):
        add(nurse, patient, "pain_nrs", [score], days)
        add(nurse, patient, "phq9", phq9(6), days)  # mood steady: the old rule never saw the pain come back
    assert not BoosterProposal.objects.exists()
    add(nurse, patient, "pain_nrs", [8], 49)
    proposal = BoosterProposal.objects.get()
    assert proposal.instrument == "pain_nrs" and "rose from 3 to 8" in proposal.reason
