"""The synthetic network: what it makes is what the pages accept, its audit entries verify, and it refuses
a database that already holds patients."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ketaclinic.audit.selectors import audit_chain_verify
from ketaclinic.infusions.models import InfusionSession, VitalSigns
from ketaclinic.outcomes.models import QuestionnaireDue, QuestionnaireResponse
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


def test_network_refuses_a_database_with_patients() -> None:
    network_generate(locations=1, patients=5, seed=1)
    with pytest.raises(CommandError, match="already holds 5 patients"):
        call_command("network_generate", "--locations", "1", "--patients", "5")
