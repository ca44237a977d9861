"""The synthetic network: what it makes is what the pages accept, its audit entries verify, and it refuses
a database that already holds patients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.audit.selectors import audit_chain_verify
from ketaclinic.infusions.models import InfusionSession, VitalSigns
from ketaclinic.outcomes.models import DashboardEndpoint, QuestionnaireDue, QuestionnaireResponse
from ketaclinic.outcomes.selectors import DashboardFilters, outcomes_dashboard
from ketaclinic.outcomes.services import due_rebuild
from ketaclinic.patients.models import Patient
from ketaclinic.web.network import network_generate

pytestmark = pytest.mark.django_db


def test_network_counts_plausibility_and_audit() -> None:
    report = network_generate(locations=2, patients=40, registry=30, seed=3)
    assert Patient.objects.count() == 70
    assert Patient.objects.filter(location__code__startswith="other-").count() == 30
    assert report.counts["patients.Patient"] == 40
    assert InfusionSession.objects.filter(state="discharged").exists()
    assert InfusionSession.objects.filter(state="running").count() == report.counts["sessions running now"]
    assert VitalSigns.objects.filter(systolic_mmhg__gt=250).count() == 0
    assert VitalSigns.objects.filter(spo2_percent__lt=70).count() == 0
    assert QuestionnaireResponse.objects.filter(instrument="phq9", total__gt=27).count() == 0
    count, problems = audit_chain_verify(checkpoint=None)
    assert problems == []
    assert count >= report.counts["audit.AuditEntry"]
    # what is due per patient is stored for the worklist, as the services would have kept it
    stored = report.counts["outcomes.QuestionnaireDue"]
    assert stored == QuestionnaireDue.objects.count() > 0
    assert not QuestionnaireDue.objects.filter(patient__location__code__startswith="other-").exists()
    assert due_rebuild() == stored


def test_network_fills_the_dashboards_summaries() -> None:
    """The answers are written in bulk, past the services: the generator builds the summaries, and the
    dashboard gives from them what it gives from the answers."""
    report = network_generate(locations=2, patients=40, registry=10, seed=5)
    assert report.counts["outcome summaries for patients"] == 50 and DashboardEndpoint.objects.exists()
    admin = User.objects.get(username="admin.network")
    today = timezone.localdate()
    for filters in (
        DashboardFilters(today - timedelta(days=365), today),
        DashboardFilters(today - timedelta(days=1095), today, location=Location.objects.get(code="net-01")),
        DashboardFilters(today - timedelta(days=730), today, indication="trd"),
    ):
        d = outcomes_dashboard(user=admin, filters=filters)
        assert d == outcomes_dashboard(user=admin, filters=filters, from_answers=True)
    assert d.completed > 0


def test_network_refuses_a_database_with_patients() -> None:
    network_generate(locations=1, patients=5, seed=1)
    with pytest.raises(CommandError, match="already holds 5 patients"):
        call_command("network_generate", "--locations", "1", "--patients", "5")
