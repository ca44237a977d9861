"""The demo clinic's questionnaires: responders and non-responders, one relapse, one open flag; idempotent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from ketaclinic.outcomes.models import (
    BoosterProposal,
    DashboardEndpoint,
    QuestionnaireResponse,
    SafetyFlag,
)
from ketaclinic.web.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_outcomes_load_once():
    assert demo_load() is True
    count = QuestionnaireResponse.objects.count()
    assert count > 100
    assert SafetyFlag.objects.filter(status="open").count() == 1
    assert SafetyFlag.objects.filter(status="assessed").count() >= 2
    assert BoosterProposal.objects.filter(status="proposed").count() == 1
    from ketaclinic.accounts.models import User
    from ketaclinic.outcomes.selectors import DashboardFilters, outcomes_dashboard, summaries_built

    today = timezone.localdate()
    d = outcomes_dashboard(
        user=User.objects.get(username="dr.rivera"),
        filters=DashboardFilters(today - timedelta(days=120), today),
    )
    assert d.completed == 6 and 0 < d.response_rate.numerator < d.response_rate.n
    # the demo records its answers through the services, which keep the dashboard's summaries
    assert summaries_built() and DashboardEndpoint.objects.exists()
    assert d == outcomes_dashboard(
        user=User.objects.get(username="dr.rivera"),
        filters=DashboardFilters(today - timedelta(days=120), today),
        from_answers=True,
    )
    assert isinstance(today, date)
    from ketaclinic.accounts.models import Location
    from ketaclinic.messaging.models import OutboundMessage
    from ketaclinic.outcomes.selectors import questionnaire_worklist

    w = questionnaire_worklist(
        user=User.objects.get(username="nurse.patel"), location=Location.objects.get(code="downtown")
    )
    assert len(w.overdue) == 3 and len(w.due) >= 6
    assert any(r.hand_out for r in w.overdue)
    # one link emailed through the outbox (its worker sends it); the rest are the infusion reminders
    (queued,) = OutboundMessage.objects.filter(purpose="questionnaire_link")
    assert queued.channel == "email" and queued.purpose == "questionnaire_link"
    assert [str(r.live_link.external_id) for r in w.rows if r.message is not None] == [queued.reference]
    assert demo_load() is False
    assert QuestionnaireResponse.objects.count() == count
    # the demo went through the services: what is due is stored as a rebuild makes it
    from ketaclinic.outcomes.services import due_rebuild
    from tests.outcomes.test_due_stored import rows

    kept = rows()
    assert kept and due_rebuild() == len(kept) and rows() == kept
